package index

import (
	"context"
	"math"
	"sync"

	"errors"
	"fmt"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
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
	idx      bleve.Index
	analyzer analysis.Analyzer

	mu     sync.Mutex // guards tokens (written only by apply, which the engine serialises)
	tokens float64    // analysed tokens in every indexed body: BM25's average-length numerator
}

const (
	internalSeqKey    = "ragd_applied_seq"
	internalTokensKey = "ragd_body_tokens"
)

// kwDoc is what bleve indexes for a chunk. NTok is the analysed length of
// Body, stored so that a delete or replace can subtract it from the total.
type kwDoc struct {
	Body string         `json:"body"`
	Doc  string         `json:"doc"`
	NTok float64        `json:"ntok"`
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
	ntok := bleve.NewNumericFieldMapping()
	ntok.Store = true
	ntok.Index = false
	ntok.DocValues = false
	ntok.IncludeInAll = false
	dm.AddFieldMappingsAt("ntok", ntok)
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
		k, err := newKeywordIndex(idx)
		return k, true, err
	}
	idx, err := bleve.Open(dir)
	if err != nil {
		return nil, false, fmt.Errorf("index: open keyword index %s: %w", dir, err)
	}
	k, err := newKeywordIndex(idx)
	return k, false, err
}

func newKeywordIndex(idx bleve.Index) (*keywordIndex, error) {
	an := idx.Mapping().AnalyzerNamed(en.AnalyzerName)
	if an == nil {
		idx.Close()
		return nil, fmt.Errorf("index: keyword index has no %q analyzer", en.AnalyzerName)
	}
	k := &keywordIndex{idx: idx, analyzer: an}
	if v, err := idx.GetInternal([]byte(internalTokensKey)); err == nil && len(v) == 8 {
		k.tokens = math.Float64frombits(getU64(v))
	}
	return k, nil
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
	k.mu.Lock()
	defer k.mu.Unlock()
	total := k.tokens
	b := k.idx.NewBatch()
	for _, id := range deletes {
		total -= k.storedTokens(id)
		b.Delete(id)
	}
	for _, cv := range puts {
		d := kwDocFor(cv)
		d.NTok = float64(len(k.analyzer.Analyze([]byte(d.Body))))
		total += d.NTok - k.storedTokens(cv.Chunk.ID)
		if err := b.Index(cv.Chunk.ID, d); err != nil {
			return fmt.Errorf("keyword index chunk %q: %w", cv.Chunk.ID, err)
		}
	}
	total = max(total, 0)
	b.SetInternal([]byte(internalSeqKey), u64val(seq))
	b.SetInternal([]byte(internalTokensKey), u64val(math.Float64bits(total)))
	if err := k.idx.Batch(b); err != nil {
		return err
	}
	k.tokens = total
	return nil
}

// storedTokens is the analysed length recorded for an indexed chunk (0 if
// the chunk is not indexed).
func (k *keywordIndex) storedTokens(id string) float64 {
	doc, err := k.idx.Document(id)
	if err != nil || doc == nil {
		return 0
	}
	var n float64
	doc.VisitFields(func(f index.Field) {
		if nf, ok := f.(index.NumericField); ok && f.Name() == "ntok" {
			if v, err := nf.Number(); err == nil {
				n = v
			}
		}
	})
	return n
}

// bm25Stats supplies the true average body length. bleve's own estimate
// divides the field's dictionary size (summed over segments) by the
// document count, which is neither the average length nor stable across
// segment merges; BM25's length normalisation needs the real average.
func (k *keywordIndex) bm25Stats(f data.Filter) map[string]interface{} {
	k.mu.Lock()
	total := k.tokens
	k.mu.Unlock()
	n, err := k.idx.DocCount()
	if err != nil || n == 0 || total <= 0 {
		return nil
	}
	card := map[string]int{"body": int(math.Round(total))}
	for _, c := range f.Conds {
		// Filter clauses need an entry too; their scores do not matter
		// (they only restrict), so any positive length will do.
		card["meta."+c.Field] = int(n)
	}
	return map[string]interface{}{search.BM25PreSearchDataKey: &search.BM25Stats{DocCount: float64(n), FieldCardinality: card}}
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
	mq, err := k.termsQuery(ctx, text)
	if err != nil {
		return nil, err
	}
	if mq == nil {
		return nil, nil
	}
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
	req.PreSearchData = k.bm25Stats(f)
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

// termsQuery analyses the query text and builds one term query per distinct
// term, boosted by (query term frequency / idf). bleve multiplies each term's
// BM25 score by a query weight of boost·idf·queryNorm, which would square
// the idf; the 1/idf boost cancels that, leaving classic BM25 weighting
// (queryNorm is the same for every document of a query, so ranking is
// unaffected by it).
func (k *keywordIndex) termsQuery(ctx context.Context, text string) (query.Query, error) {
	counts := map[string]int{}
	var order []string
	for _, tok := range k.analyzer.Analyze([]byte(text)) {
		t := string(tok.Term)
		if counts[t] == 0 {
			order = append(order, t)
		}
		counts[t]++
	}
	if len(order) == 0 {
		return nil, nil
	}
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil {
		return nil, err
	}
	var qs []query.Query
	for _, t := range order {
		tfr, err := r.TermFieldReader(ctx, []byte(t), "body", false, false, false)
		if err != nil {
			return nil, err
		}
		df := tfr.Count()
		tfr.Close()
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
		tq := bleve.NewTermQuery(t)
		tq.SetField("body")
		tq.SetBoost(float64(counts[t]) / idf)
		qs = append(qs, tq)
	}
	if len(qs) == 0 {
		return nil, nil
	}
	return bleve.NewDisjunctionQuery(qs...), nil
}

func (k *keywordIndex) reader() (index.IndexReader, error) {
	adv, err := k.idx.Advanced()
	if err != nil {
		return nil, err
	}
	return adv.Reader()
}
