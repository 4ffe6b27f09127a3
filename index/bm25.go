package index

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	index "github.com/blevesearch/bleve_index_api"
	"github.com/ragd/ragd/data"
)

// BM25 scoring.
//
// bleve is the inverted index; ragd scores from its postings itself.
// bleve 2.6's own "bm25" model is not BM25: it estimates the average
// length from the field dictionary's size, multiplies every term by a
// query weight that squares the idf, scales disjunctions by a coord factor
// and saturates with tf·k1 instead of tf·(k1+1). Here a query is analysed
// with the index's English analyser and each distinct term t contributes
//
//	qtf(t) · idf(t) · x·(k1+1) / (x + k1)
//	idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5))
//	x      = tf_body / (1 − b + b·len_body/avg_body)
//	       + w_title · tf_title / (1 − b + b·len_title/avg_title)
//
// (Robertson's BM25F with Lucene's non-negative idf). N and df count live
// chunks; the body holds the title too, so df over the body is df over the
// chunk. With TitleWeight 0 this is plain BM25 over the body. Lengths come
// from the postings' norms (bleve stores 1/√len); the averages from totals
// that apply keeps in the same bleve batch as the documents, so a snapshot's
// statistics always match its postings.
//
// Terms are summed in decreasing order of their upper bound
// qtf·idf·(k1+1), term at a time into a slice indexed by bleve's internal
// document number. Between terms, MaxScore pruning: once the k-th best
// partial score exceeds what the remaining terms could still add, only
// chunks that can still reach the top k are visited (by skipping through
// the postings), which leaves the top k and their scores unchanged. A
// filter is resolved first by bleve into the set of allowed internal
// numbers; only those are scored. Snapshot postings omit deleted chunks.

// BM25Options configure keyword scoring. The zero value is not the
// default: start from DefaultBM25.
type BM25Options struct {
	// K1 is the term-frequency saturation (default 1.2); must be >= 0.
	K1 float64
	// B is the length normalisation, from 0 (none) to 1 (full) (default
	// 0.75).
	B float64
	// TitleWeight is the weight of the document title, indexed as its own
	// short field with its own average length, relative to the body
	// (BM25F); 0 scores the body alone. The body holds the title as well,
	// so a title term counts once in the body and TitleWeight more times,
	// length-normalised against titles. Default 2, measured on Cranfield
	// (ragd eval --mode bm25, 256-token chunks), nDCG@10 / MAP: 0 gives
	// 0.3656 / 0.3032, 0.5 0.3691 / 0.3039, 1 0.3746 / 0.3072,
	// 2 0.3747 / 0.3092, 3 0.3761 / 0.3097; a broad plateau from 1 up.
	TitleWeight float64
}

// DefaultBM25 returns the default scoring parameters.
func DefaultBM25() BM25Options { return BM25Options{K1: 1.2, B: 0.75, TitleWeight: 2} }

// Validate reports parameters outside their ranges.
func (o BM25Options) Validate() error {
	if !(o.K1 >= 0) || math.IsInf(o.K1, 0) || !(o.B >= 0 && o.B <= 1) || !(o.TitleWeight >= 0) || math.IsInf(o.TitleWeight, 0) {
		return fmt.Errorf("%w: BM25 k1 %v, b %v, title weight %v", data.ErrInvalid, o.K1, o.B, o.TitleWeight)
	}
	return nil
}

// queryTerm is one distinct analysed query term and how often it occurs.
type queryTerm struct {
	text string
	qtf  int
}

// queryTerms analyses text like the body and returns its distinct terms in
// first-seen order.
func (k *keywordIndex) queryTerms(text string) []queryTerm {
	var out []queryTerm
	for _, tok := range k.analyzer.Analyze([]byte(text)) {
		t := string(tok.Term)
		i := slices.IndexFunc(out, func(q queryTerm) bool { return q.text == t })
		if i < 0 {
			out = append(out, queryTerm{text: t, qtf: 1})
		} else {
			out[i].qtf++
		}
	}
	return out
}

// search returns the top k chunks for text by BM25, restricted to chunks
// that match f (an exact pre-filter: collection statistics are those of
// the whole index). Equal scores are ordered by chunk id.
func (k *keywordIndex) search(ctx context.Context, text string, topK int, f data.Filter) (hits []kwHit, err error) {
	if k.idx == nil {
		return nil, errKeywordDown
	}
	// bleve can panic on a snapshot left behind by a failed persist (for
	// example on a full disk); a search must fail, not take the server down.
	defer func() {
		if r := recover(); r != nil {
			hits, err = nil, fmt.Errorf("keyword search failed: %v: %w", r, data.ErrUnavailable)
		}
	}()
	if topK <= 0 || strings.TrimSpace(text) == "" {
		return nil, nil
	}
	terms := k.queryTerms(text)
	if len(terms) == 0 {
		return nil, nil
	}
	r, err := k.reader()
	if err != nil {
		return nil, fmt.Errorf("keyword search: %w", err)
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil || n == 0 {
		return nil, err
	}
	s := bm25Scorer{opts: k.bm25, n: float64(n)}
	s.avgBody = internalFloat(r, internalTokensKey) / s.n
	s.avgTitle = internalFloat(r, internalTitleTokensKey) / s.n
	acc := accPool.Get().(*accumulator)
	defer acc.release()
	acc.limit = 2*n + 1<<16
	if tf, err := newTermFilter(ctx, r, f, acc.limit); err != nil {
		return nil, err
	} else if tf != nil {
		defer tf.close()
		if tf.count == 0 {
			return nil, nil
		}
		acc.lazy = tf
	} else if !f.IsZero() {
		if acc.allow, err = k.allowedDocs(ctx, r, f, acc.limit); err != nil {
			return nil, err
		}
		if acc.allow.empty() {
			return nil, nil
		}
	}
	ts, err := s.openTerms(ctx, r, terms)
	defer func() {
		for _, t := range ts {
			t.close()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("keyword search: %w", err)
	}
	var cands []uint64
	pruned := false
	for i, t := range ts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i > 0 {
			// MaxScore: once the k-th best partial score beats what the
			// remaining terms can add, no unscored chunk can reach the
			// top k, and scored chunks that cannot catch up are dropped;
			// the remaining terms then only visit the survivors.
			var rest float64
			for _, u := range ts[i:] {
				rest += u.ub
			}
			if theta := acc.kth(topK); theta > rest {
				cands = acc.candidates(theta-rest, cands)
				pruned = true
			}
		}
		if acc.lazy != nil {
			acc.lazy.restart()
		}
		if pruned {
			err = s.scoreCandidates(ctx, acc, t, cands)
		} else {
			err = s.scoreTerm(ctx, acc, t)
		}
		if err == nil && acc.lazy != nil {
			err = acc.lazy.err
		}
		if err != nil {
			return nil, fmt.Errorf("keyword search %q: %w", t.text, err)
		}
	}
	return acc.top(r, topK)
}

type bm25Scorer struct {
	opts              BM25Options
	n                 float64
	avgBody, avgTitle float64
}

// termState is one query term's postings readers and weights.
type termState struct {
	queryTerm
	br, tr index.TermFieldReader // body, title (nil when titles are not scored)
	w      float64               // qtf · idf
	ub     float64               // an upper bound of the term's contribution to any chunk
}

func (t *termState) close() {
	if t.br != nil {
		t.br.Close()
	}
	if t.tr != nil {
		t.tr.Close()
	}
}

// openTerms opens the postings of every query term found in the index,
// ordered by decreasing upper bound (then by term), the order in which
// their contributions are summed.
func (s *bm25Scorer) openTerms(ctx context.Context, r index.IndexReader, terms []queryTerm) ([]*termState, error) {
	var out []*termState
	for _, q := range terms {
		br, err := r.TermFieldReader(ctx, []byte(q.text), "body", true, true, false)
		if err != nil {
			return out, err
		}
		df := float64(br.Count())
		if df == 0 {
			br.Close()
			continue
		}
		t := &termState{queryTerm: q, br: br}
		out = append(out, t)
		if s.opts.TitleWeight > 0 && s.avgTitle > 0 {
			if t.tr, err = r.TermFieldReader(ctx, []byte(q.text), "title", true, true, false); err != nil {
				return out, err
			}
		}
		idf := math.Log(1 + (s.n-df+0.5)/(df+0.5))
		t.w = float64(q.qtf) * idf
		// x/(x+k1) < 1; the margin covers rounding in the computed terms.
		t.ub = t.w * (s.opts.K1 + 1) * (1 + 1e-9)
	}
	slices.SortStableFunc(out, func(a, b *termState) int {
		if a.ub != b.ub {
			if a.ub > b.ub {
				return -1
			}
			return 1
		}
		return strings.Compare(a.text, b.text)
	})
	return out, nil
}

// norm is a field's length normalisation 1 − b + b·len/avg, with len taken
// from bleve's norm (1/√len, a float32, so rounding recovers len exactly).
func (s *bm25Scorer) norm(bleveNorm, avg float64) float64 {
	if avg <= 0 || bleveNorm <= 0 {
		return 1
	}
	dl := math.Round(1 / (bleveNorm * bleveNorm))
	return 1 - s.opts.B + s.opts.B*dl/avg
}

// contribution is a term's score in a chunk whose weighted, normalised
// term frequency is x.
func (s *bm25Scorer) contribution(t *termState, x float64) float64 {
	k1 := s.opts.K1
	return t.w * x * (k1 + 1) / (x + k1)
}

// nextPosting reads the next posting into buf and returns its doc number.
func nextPosting(rd index.TermFieldReader, buf *index.TermFieldDoc, advanceTo index.IndexInternalID) (uint64, bool, error) {
	if rd == nil {
		return 0, false, nil
	}
	var d *index.TermFieldDoc
	var err error
	if advanceTo != nil {
		d, err = rd.Advance(advanceTo, buf)
	} else {
		d, err = rd.Next(buf)
	}
	if err != nil || d == nil {
		return 0, false, err
	}
	if len(d.ID) != 8 {
		return 0, false, fmt.Errorf("unexpected internal id %x", d.ID)
	}
	if d != buf {
		*buf = *d
	}
	return d.ID.Value(), true, nil
}

// scoreTerm adds one query term's contribution to every chunk holding it,
// walking the body and title postings (both in internal id order) together.
func (s *bm25Scorer) scoreTerm(ctx context.Context, acc *accumulator, t *termState) error {
	wt := s.opts.TitleWeight
	var bBuf, tBuf index.TermFieldDoc
	bDoc, bOK, err := nextPosting(t.br, &bBuf, nil)
	if err != nil {
		return err
	}
	tDoc, tOK, err := nextPosting(t.tr, &tBuf, nil)
	if err != nil {
		return err
	}
	for i := 0; bOK || tOK; i++ {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var doc uint64
		var x float64
		useB := bOK && (!tOK || bDoc <= tDoc)
		useT := tOK && (!bOK || tDoc <= bDoc)
		if useB {
			doc = bDoc
			x = float64(bBuf.Freq) / s.norm(bBuf.Norm, s.avgBody)
		}
		if useT {
			doc = tDoc
			x += wt * float64(tBuf.Freq) / s.norm(tBuf.Norm, s.avgTitle)
		}
		if acc.allowed(doc) {
			acc.add(doc, s.contribution(t, x))
		}
		if useB {
			if bDoc, bOK, err = nextPosting(t.br, &bBuf, nil); err != nil {
				return err
			}
		}
		if useT {
			if tDoc, tOK, err = nextPosting(t.tr, &tBuf, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// scoreCandidates adds one term's contribution to the candidate chunks
// only (ascending internal numbers), skipping through its postings.
func (s *bm25Scorer) scoreCandidates(ctx context.Context, acc *accumulator, t *termState, cands []uint64) error {
	wt := s.opts.TitleWeight
	var bBuf, tBuf index.TermFieldDoc
	var id index.IndexInternalID
	var bDoc, tDoc uint64
	bOK, tOK := true, t.tr != nil
	bPos, tPos := false, false
	var err error
	for i, c := range cands {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !bOK && !tOK {
			break
		}
		var x float64
		if bOK && (!bPos || bDoc < c) {
			id = index.NewIndexInternalID(id, c)
			bDoc, bOK, err = nextPosting(t.br, &bBuf, id)
			if err != nil {
				return err
			}
			bPos = true
		}
		matched := false
		if bOK && bDoc == c {
			x = float64(bBuf.Freq) / s.norm(bBuf.Norm, s.avgBody)
			matched = true
		}
		if tOK && (!tPos || tDoc < c) {
			id = index.NewIndexInternalID(id, c)
			tDoc, tOK, err = nextPosting(t.tr, &tBuf, id)
			if err != nil {
				return err
			}
			tPos = true
		}
		if tOK && tDoc == c {
			x += wt * float64(tBuf.Freq) / s.norm(tBuf.Norm, s.avgTitle)
			matched = true
		}
		if matched {
			acc.add(c, s.contribution(t, x))
		}
	}
	return nil
}

// internalFloat reads a float64 recorded with the index's internal keys
// (0 when absent).
func internalFloat(r index.IndexReader, key string) float64 {
	v, err := r.GetInternal([]byte(key))
	if err != nil || len(v) != 8 {
		return 0
	}
	return math.Float64frombits(getU64(v))
}
