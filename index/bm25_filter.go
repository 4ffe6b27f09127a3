package index

import (
	"context"
	"fmt"
	"slices"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/ragd/ragd/data"
)

// allowedDocs runs the filter through bleve and collects the internal ids
// of the chunks it matches.
func (k *keywordIndex) allowedDocs(ctx context.Context, r index.IndexReader, f data.Filter, limit uint64) (*docSet, error) {
	q, err := filterQuery(f)
	if err != nil {
		return nil, err
	}
	srch, err := q.Searcher(ctx, r, k.idx.Mapping(), search.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, fmt.Errorf("keyword filter: %w", err)
	}
	defer srch.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(srch.DocumentMatchPoolSize(), 0), IndexReader: r}
	set := &docSet{limit: limit}
	for i := 0; ; i++ {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		dm, err := srch.Next(sctx)
		if err != nil {
			return nil, fmt.Errorf("keyword filter: %w", err)
		}
		if dm == nil {
			return set, nil
		}
		if len(dm.IndexInternalID) != 8 {
			return nil, fmt.Errorf("keyword filter: unexpected internal id %x", dm.IndexInternalID)
		}
		set.add(dm.IndexInternalID.Value())
		sctx.DocumentMatchPool.Put(dm)
	}
}

// termFilter is the filter fast path for one string equality (a
// namespace, say), matching what filterQuery's term query matches. Instead
// of listing every matching chunk up front, it answers membership for the
// chunks a query actually meets: each term's scan walks a cursor through
// the keyword field's postings (both ascend), and answers are memoised, so
// the cost follows the query's postings, not the filter's size.
type termFilter struct {
	ctx          context.Context
	r            index.IndexReader
	field, value string
	count        uint64

	tfr     index.TermFieldReader
	cur     uint64
	pos     bool // cur is valid
	done    bool // postings exhausted for this scan
	buf     index.TermFieldDoc
	id      index.IndexInternalID
	yes, no docSet
	err     error
}

// newTermFilter returns the fast path for f, or nil when f is not a single
// string equality.
func newTermFilter(ctx context.Context, r index.IndexReader, f data.Filter, limit uint64) (*termFilter, error) {
	if len(f.Conds) != 1 || f.Conds[0].Op != data.OpEq {
		return nil, nil
	}
	v, ok := f.Conds[0].Value.(string)
	if !ok {
		return nil, nil
	}
	tf := &termFilter{ctx: ctx, r: r, field: "meta." + f.Conds[0].Field, value: v, yes: docSet{limit: limit}, no: docSet{limit: limit}}
	if err := tf.open(); err != nil {
		return nil, err
	}
	tf.count = tf.tfr.Count()
	return tf, nil
}

func (f *termFilter) open() error {
	tfr, err := f.r.TermFieldReader(f.ctx, []byte(f.value), f.field, false, false, false)
	if err != nil {
		return fmt.Errorf("keyword filter: %w", err)
	}
	f.tfr, f.pos, f.done = tfr, false, false
	return nil
}

// restart rewinds the cursor for the next term's scan.
func (f *termFilter) restart() {
	if f.pos || f.done {
		f.close()
	}
}

func (f *termFilter) close() {
	if f.tfr != nil {
		f.tfr.Close()
		f.tfr = nil
	}
}

// has reports whether chunk d passes; within one scan d must ascend.
func (f *termFilter) has(d uint64) bool {
	if f.yes.has(d) {
		return true
	}
	if f.no.has(d) || f.err != nil {
		return false
	}
	if f.tfr == nil {
		if f.err = f.open(); f.err != nil {
			return false
		}
	}
	if !f.done && (!f.pos || f.cur < d) {
		f.id = index.NewIndexInternalID(f.id, d)
		cur, ok, err := nextPosting(f.tfr, &f.buf, f.id)
		if err != nil {
			f.err = fmt.Errorf("keyword filter: %w", err)
			return false
		}
		f.cur, f.pos, f.done = cur, true, !ok
	}
	if !f.done && f.cur == d {
		f.yes.add(d)
		return true
	}
	f.no.add(d)
	return false
}

// docSet is a set of internal doc numbers: a bitmap while they are dense
// (scorch numbers documents 0..n plus not yet merged-away deletions), a map
// past limit.
type docSet struct {
	bits   []uint64
	sparse map[uint64]struct{}
	limit  uint64
	n      int
}

func (s *docSet) add(d uint64) {
	if s.sparse == nil && d >= s.limit {
		s.sparse = make(map[uint64]struct{})
		for w, word := range s.bits {
			for b := 0; b < 64; b++ {
				if word&(1<<b) != 0 {
					s.sparse[uint64(w*64+b)] = struct{}{}
				}
			}
		}
		s.bits = nil
	}
	if s.sparse != nil {
		if _, ok := s.sparse[d]; !ok {
			s.sparse[d] = struct{}{}
			s.n++
		}
		return
	}
	w := int(d / 64)
	if w >= len(s.bits) {
		s.bits = slices.Grow(s.bits, w+1-len(s.bits))[:w+1]
	}
	if s.bits[w]&(1<<(d%64)) == 0 {
		s.bits[w] |= 1 << (d % 64)
		s.n++
	}
}

func (s *docSet) has(d uint64) bool {
	if s.sparse != nil {
		_, ok := s.sparse[d]
		return ok
	}
	w := d / 64
	return w < uint64(len(s.bits)) && s.bits[w]&(1<<(d%64)) != 0
}

func (s *docSet) empty() bool { return s.n == 0 }
