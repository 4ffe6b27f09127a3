package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/ragd/ragd/data"
)

// keywordIndex is the bleve BM25 index derived from one named index's
// chunks. Each bleve document is a chunk: "body" (title + headings + text,
// English analysis) and "meta.<field>" keyword/numeric/boolean fields for
// filters.
type keywordIndex struct {
	idx bleve.Index
}

const internalSeqKey = "ragd_applied_seq"

// kwDoc is what bleve indexes for a chunk.
type kwDoc struct {
	Body string         `json:"body"`
	Doc  string         `json:"doc"`
	Meta map[string]any `json:"meta,omitempty"`
}

func keywordMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	dm := bleve.NewDocumentMapping()
	body := bleve.NewTextFieldMapping()
	body.Analyzer = en.AnalyzerName
	body.Store = false
	body.IncludeTermVectors = false
	body.IncludeInAll = false
	dm.AddFieldMappingsAt("body", body)
	docf := bleve.NewKeywordFieldMapping()
	docf.Store = false
	docf.IncludeInAll = false
	dm.AddFieldMappingsAt("doc", docf)
	meta := bleve.NewDocumentMapping()
	meta.DefaultAnalyzer = keyword.Name
	meta.Dynamic = true
	dm.AddSubDocumentMapping("meta", meta)
	m.DefaultMapping = dm
	m.DefaultAnalyzer = en.AnalyzerName
	m.StoreDynamic = false
	m.IndexDynamic = true
	m.DocValuesDynamic = false
	return m
}

// openKeyword opens the bleve index at dir, creating it when absent. A
// damaged index returns an error; the caller rebuilds it from the store.
func openKeyword(dir string) (*keywordIndex, bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		idx, err := bleve.NewUsing(dir, keywordMapping(), scorch.Name, scorch.Name, nil)
		if err != nil {
			return nil, false, fmt.Errorf("index: create keyword index: %w", err)
		}
		return &keywordIndex{idx: idx}, true, nil
	}
	idx, err := bleve.Open(dir)
	if err != nil {
		return nil, false, fmt.Errorf("index: open keyword index %s: %w", dir, err)
	}
	return &keywordIndex{idx: idx}, false, nil
}

func (k *keywordIndex) close() error { return k.idx.Close() }

func (k *keywordIndex) appliedSeq() uint64 {
	v, err := k.idx.GetInternal([]byte(internalSeqKey))
	if err != nil || len(v) != 8 {
		return 0
	}
	return getU64(v)
}

func (k *keywordIndex) count() (uint64, error) { return k.idx.DocCount() }

// apply indexes puts and deletes in one bleve batch that also records seq,
// so the applied sequence and the indexed content move together.
func (k *keywordIndex) apply(puts []chunkView, deletes []string, seq uint64) error {
	b := k.idx.NewBatch()
	for _, id := range deletes {
		b.Delete(id)
	}
	for _, cv := range puts {
		if err := b.Index(cv.Chunk.ID, kwDocFor(cv)); err != nil {
			return fmt.Errorf("keyword index chunk %q: %w", cv.Chunk.ID, err)
		}
	}
	b.SetInternal([]byte(internalSeqKey), u64val(seq))
	return k.idx.Batch(b)
}

func kwDocFor(cv chunkView) kwDoc {
	var sb strings.Builder
	if cv.Title != "" {
		sb.WriteString(cv.Title)
		sb.WriteString("\n")
	}
	for _, h := range cv.Chunk.Headings {
		if h != cv.Title {
			sb.WriteString(h)
			sb.WriteString("\n")
		}
	}
	sb.WriteString(cv.Chunk.Text)
	return kwDoc{Body: sb.String(), Doc: cv.Chunk.DocID, Meta: sanitizeMeta(cv.Metadata)}
}

// sanitizeMeta keeps scalar metadata and arrays of scalars, which is what
// filters can address.
func sanitizeMeta(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string, bool, float64:
			out[k] = x
		case int:
			out[k] = float64(x)
		case []any:
			out[k] = x
		}
	}
	return out
}

type kwHit struct {
	ID    string
	Score float64
}

// search runs a BM25 match query over body with filter conditions applied
// inside bleve (pre-filtering), returning up to k hits.
func (k *keywordIndex) search(ctx context.Context, text string, k2 int, f data.Filter) ([]kwHit, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	mq := bleve.NewMatchQuery(text)
	mq.SetField("body")
	var q query.Query = mq
	if !f.IsZero() {
		fq, err := filterQuery(f)
		if err != nil {
			return nil, err
		}
		q = bleve.NewConjunctionQuery(mq, fq)
	}
	req := bleve.NewSearchRequestOptions(q, k2, 0, false)
	req.SortBy([]string{"-_score", "_id"})
	res, err := k.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("keyword search: %w", err)
	}
	out := make([]kwHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		out = append(out, kwHit{ID: h.ID, Score: h.Score})
	}
	return out, nil
}

// filterQuery translates a data.Filter into bleve queries on meta.* fields.
func filterQuery(f data.Filter) (query.Query, error) {
	var must []query.Query
	var mustNot []query.Query
	for _, c := range f.Conds {
		field := "meta." + c.Field
		switch c.Op {
		case data.OpEq:
			must = append(must, valueQuery(field, c.Value))
		case data.OpNe:
			mustNot = append(mustNot, valueQuery(field, c.Value))
		case data.OpIn, data.OpNin:
			vs, _ := c.Value.([]any)
			var qs []query.Query
			for _, v := range vs {
				qs = append(qs, valueQuery(field, v))
			}
			var dq query.Query
			if len(qs) == 0 {
				dq = bleve.NewMatchNoneQuery()
			} else {
				dq = bleve.NewDisjunctionQuery(qs...)
			}
			if c.Op == data.OpIn {
				must = append(must, dq)
			} else if len(qs) > 0 {
				mustNot = append(mustNot, dq)
			}
		case data.OpLt, data.OpLte, data.OpGt, data.OpGte:
			rq, err := rangeQuery(field, c.Op, c.Value)
			if err != nil {
				return nil, err
			}
			must = append(must, rq)
		default:
			return nil, fmt.Errorf("%w: filter operator %q", data.ErrInvalid, c.Op)
		}
	}
	bq := bleve.NewBooleanQuery()
	if len(must) == 0 {
		must = append(must, bleve.NewMatchAllQuery())
	}
	bq.AddMust(must...)
	if len(mustNot) > 0 {
		bq.AddMustNot(mustNot...)
	}
	return bq, nil
}

func valueQuery(field string, v any) query.Query {
	switch x := v.(type) {
	case float64:
		inc := true
		q := bleve.NewNumericRangeInclusiveQuery(&x, &x, &inc, &inc)
		q.SetField(field)
		return q
	case bool:
		q := bleve.NewBoolFieldQuery(x)
		q.SetField(field)
		return q
	case nil:
		return bleve.NewMatchNoneQuery()
	default:
		q := bleve.NewTermQuery(fmt.Sprint(x))
		q.SetField(field)
		return q
	}
}

func rangeQuery(field string, op data.Op, v any) (query.Query, error) {
	incl := op == data.OpLte || op == data.OpGte
	switch x := v.(type) {
	case float64:
		var lo, hi *float64
		if op == data.OpGt || op == data.OpGte {
			lo = &x
		} else {
			hi = &x
		}
		q := bleve.NewNumericRangeInclusiveQuery(lo, hi, &incl, &incl)
		q.SetField(field)
		return q, nil
	case string:
		var lo, hi string
		if op == data.OpGt || op == data.OpGte {
			lo = x
		} else {
			hi = x
		}
		q := bleve.NewTermRangeInclusiveQuery(lo, hi, &incl, &incl)
		q.SetField(field)
		return q, nil
	}
	return nil, fmt.Errorf("%w: range filter on %s needs a number or string", data.ErrInvalid, field)
}

// allIDs lists every chunk id in the keyword index.
func (k *keywordIndex) allIDs(ctx context.Context) (map[string]bool, error) {
	n, err := k.idx.DocCount()
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, n)
	const page = 10000
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), page, 0, false)
		req.SortBy([]string{"_id"})
		if after != nil {
			req.SearchAfter = after
		}
		res, err := k.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			out[h.ID] = true
		}
		if len(res.Hits) < page {
			return out, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}
