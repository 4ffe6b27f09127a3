package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/ragd/ragd/data"
)

// keywordIndex is the keyword index derived from one named index's chunks:
// bleve holds the postings and filters, bm25.go scores. Each bleve document
// is a chunk: "body" (title + headings + text, English analysis), "title"
// (the document title alone, for BM25F), and "meta.<field>"
// keyword/numeric/boolean fields for filters.
type keywordIndex struct {
	// behind is set when a write failed and the change-log catch-up has not
	// succeeded yet: the index serves searches but must not take new writes
	// directly (they would skip the missed ones).
	behind bool

	idx      bleve.Index
	analyzer analysis.Analyzer
	bm25     BM25Options // fixed after open

	mu          sync.Mutex // guards the totals (written only by apply, which the engine serialises)
	tokens      float64    // analysed tokens in every indexed body: BM25's average-length numerator
	titleTokens float64    // the same for titles
}

const (
	internalSeqKey         = "ragd_applied_seq"
	internalTokensKey      = "ragd_body_tokens"
	internalTitleTokensKey = "ragd_title_tokens"
	internalMappingKey     = "ragd_kw_mapping"
)

// keywordMappingVersion names the bleve mapping and bookkeeping below. An
// index written under another version fails to open, and the engine
// rebuilds it from the store. 2: separate title field, ntitle, title
// token total, no doc values on text fields.
const keywordMappingVersion = "2"

// kwDoc is what bleve indexes for a chunk. NTok and NTitle are the
// analysed lengths of Body and Title, stored so that a delete or replace
// can subtract them from the totals.
type kwDoc struct {
	Body   string         `json:"body"`
	Title  string         `json:"title,omitempty"`
	Doc    string         `json:"doc"`
	NTok   float64        `json:"ntok"`
	NTitle float64        `json:"ntitle"`
	Meta   map[string]any `json:"meta,omitempty"`
}

func keywordMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	dm := bleve.NewDocumentMapping()
	for _, name := range []string{"body", "title"} {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		dm.AddFieldMappingsAt(name, f)
	}
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
	ntitle := bleve.NewNumericFieldMapping()
	ntitle.Store = true
	ntitle.Index = false
	ntitle.DocValues = false
	ntitle.IncludeInAll = false
	dm.AddFieldMappingsAt("ntitle", ntitle)
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
// damaged index, or one written under another mapping version, returns an
// error; the caller rebuilds it from the store.
func openKeyword(dir string) (*keywordIndex, bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		idx, err := bleve.NewUsing(dir, keywordMapping(), scorch.Name, scorch.Name, nil)
		if err != nil {
			return nil, false, fmt.Errorf("index: create keyword index: %w", err)
		}
		if err := idx.SetInternal([]byte(internalMappingKey), []byte(keywordMappingVersion)); err != nil {
			idx.Close()
			return nil, false, fmt.Errorf("index: create keyword index: %w", err)
		}
		k, err := newKeywordIndex(idx)
		return k, true, err
	}
	idx, err := bleve.Open(dir)
	if err != nil {
		return nil, false, fmt.Errorf("index: open keyword index %s: %w", dir, err)
	}
	if v, err := idx.GetInternal([]byte(internalMappingKey)); err != nil || string(v) != keywordMappingVersion {
		idx.Close()
		return nil, false, fmt.Errorf("index: keyword index %s has mapping version %q, want %q", dir, v, keywordMappingVersion)
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
	k := &keywordIndex{idx: idx, analyzer: an, bm25: DefaultBM25()}
	if v, err := idx.GetInternal([]byte(internalTokensKey)); err == nil && len(v) == 8 {
		k.tokens = math.Float64frombits(getU64(v))
	}
	if v, err := idx.GetInternal([]byte(internalTitleTokensKey)); err == nil && len(v) == 8 {
		k.titleTokens = math.Float64frombits(getU64(v))
	}
	return k, nil
}

func (k *keywordIndex) close() error {
	if k.idx == nil {
		return nil
	}
	return k.idx.Close()
}

func (k *keywordIndex) appliedSeq() uint64 {
	if k.idx == nil {
		return 0
	}
	v, err := k.idx.GetInternal([]byte(internalSeqKey))
	if err != nil || len(v) != 8 {
		return 0
	}
	return getU64(v)
}

func (k *keywordIndex) count() (uint64, error) {
	if k.idx == nil {
		return 0, errKeywordDown
	}
	return k.idx.DocCount()
}

var errKeywordDown = fmt.Errorf("keyword index is being recovered after a failed write: %w", data.ErrUnavailable)

// apply indexes puts and deletes in one bleve batch that also records seq
// and the body and title token totals, so the applied sequence, the
// indexed content and the BM25 statistics move together.
func (k *keywordIndex) apply(puts []chunkView, deletes []string, seq uint64) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	body, title := k.tokens, k.titleTokens
	b := k.idx.NewBatch()
	for _, id := range deletes {
		ob, ot := k.storedTokens(id)
		body, title = body-ob, title-ot
		b.Delete(id)
	}
	for _, cv := range puts {
		d := kwDocFor(cv)
		d.NTok = float64(len(k.analyzer.Analyze([]byte(d.Body))))
		if d.Title != "" {
			d.NTitle = float64(len(k.analyzer.Analyze([]byte(d.Title))))
		}
		var ob, ot float64
		if !cv.New {
			ob, ot = k.storedTokens(cv.Chunk.ID)
		}
		body += d.NTok - ob
		title += d.NTitle - ot
		if err := b.Index(cv.Chunk.ID, d); err != nil {
			return fmt.Errorf("keyword index chunk %q: %w", cv.Chunk.ID, err)
		}
	}
	body, title = max(body, 0), max(title, 0)
	b.SetInternal([]byte(internalSeqKey), u64val(seq))
	b.SetInternal([]byte(internalTokensKey), u64val(math.Float64bits(body)))
	b.SetInternal([]byte(internalTitleTokensKey), u64val(math.Float64bits(title)))
	if err := k.idx.Batch(b); err != nil {
		return err
	}
	k.tokens, k.titleTokens = body, title
	return nil
}

// storedTokens is the analysed body and title length recorded for an
// indexed chunk (0, 0 if the chunk is not indexed).
func (k *keywordIndex) storedTokens(id string) (body, title float64) {
	doc, err := k.idx.Document(id)
	if err != nil || doc == nil {
		return 0, 0
	}
	doc.VisitFields(func(f index.Field) {
		nf, ok := f.(index.NumericField)
		if !ok {
			return
		}
		v, err := nf.Number()
		if err != nil {
			return
		}
		switch f.Name() {
		case "ntok":
			body = v
		case "ntitle":
			title = v
		}
	})
	return body, title
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
	return kwDoc{Body: sb.String(), Title: cv.Title, Doc: cv.Chunk.DocID, Meta: sanitizeMeta(cv.Metadata)}
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
	if len(must) == 1 && len(mustNot) == 0 {
		return must[0], nil // one clause needs no conjunction around it
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
	if k.idx == nil {
		return nil, errKeywordDown
	}
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

func (k *keywordIndex) reader() (index.IndexReader, error) {
	adv, err := k.idx.Advanced()
	if err != nil {
		return nil, err
	}
	return adv.Reader()
}
