package index

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// ReindexReport says what a rebuild did.
type ReindexReport struct {
	Chunks  int           `json:"chunks"`
	Vectors int           `json:"vectors"`
	Elapsed time.Duration `json:"elapsed"`
}

// Reindex rebuilds an index's keyword and vector indexes from the store of
// record. Searches keep working on the old derived indexes until the swap.
func (e *Engine) Reindex(ctx context.Context, name string) (ReindexReport, error) {
	start := time.Now()
	n, err := e.get(name)
	if err != nil {
		return ReindexReport{}, err
	}
	n.wmu.Lock()
	defer n.wmu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := e.rebuildKeyword(ctx, n); err != nil {
		return ReindexReport{}, err
	}
	rep := ReindexReport{}
	if c, err := n.kw.count(); err == nil {
		rep.Chunks = int(c)
	}
	if n.cfg.Dims > 0 {
		if n.vec == nil {
			if err := e.openVectors(ctx, n); err != nil {
				return rep, err
			}
		} else if err := e.rebuildVectors(ctx, n); err != nil {
			return rep, err
		}
		rep.Vectors = n.vec.ix.Len()
	}
	e.truncate(n)
	rep.Elapsed = time.Since(start).Round(time.Millisecond)
	return rep, nil
}

// CheckReport lists disagreements between the store and derived indexes.
type CheckReport struct {
	Index          string   `json:"index"`
	StoreChunks    int      `json:"store_chunks"`
	KeywordChunks  int      `json:"keyword_chunks"`
	StoreVectors   int      `json:"store_vectors"`
	VectorCount    int      `json:"vector_count"`
	MissingKeyword []string `json:"missing_keyword,omitempty"`
	ExtraKeyword   []string `json:"extra_keyword,omitempty"`
	MissingVectors []string `json:"missing_vectors,omitempty"`
	ExtraVectors   []string `json:"extra_vectors,omitempty"`
	BadDimensions  []string `json:"bad_dimensions,omitempty"`
	Problems       []string `json:"problems,omitempty"`
}

// OK reports whether the store and derived indexes agree.
func (r CheckReport) OK() bool { return len(r.Problems) == 0 }

const maxListed = 20

// Check compares the store of record with the keyword and vector indexes:
// same chunk ids, same counts, vectors of the index's dimensions.
func (e *Engine) Check(ctx context.Context, name string) (CheckReport, error) {
	n, err := e.get(name)
	if err != nil {
		return CheckReport{}, err
	}
	n.wmu.Lock() // a consistent view: no writes while checking
	defer n.wmu.Unlock()
	n.mu.RLock()
	defer n.mu.RUnlock()
	rep := CheckReport{Index: name}
	storeIDs := map[string]bool{}
	vecIDs := map[string]bool{}
	err = e.store.forEachChunk(name, true, func(cv chunkView) error {
		storeIDs[cv.Chunk.ID] = true
		if len(cv.Vector) > 0 {
			vecIDs[cv.Chunk.ID] = true
			if len(cv.Vector) != n.cfg.Dims {
				rep.BadDimensions = append(rep.BadDimensions, cv.Chunk.ID)
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return rep, err
	}
	rep.StoreChunks, rep.StoreVectors = len(storeIDs), len(vecIDs)
	kwIDs, err := n.kw.allIDs(ctx)
	if err != nil {
		return rep, err
	}
	rep.KeywordChunks = len(kwIDs)
	rep.MissingKeyword, rep.ExtraKeyword = diff(storeIDs, kwIDs)
	if n.vec != nil {
		annIDs := map[string]bool{}
		after := ""
		for {
			ids, next := n.vec.ix.List(after, 10000)
			for _, id := range ids {
				annIDs[id] = true
			}
			if next == "" || len(ids) == 0 {
				break
			}
			after = next
		}
		rep.VectorCount = len(annIDs)
		rep.MissingVectors, rep.ExtraVectors = diff(vecIDs, annIDs)
	} else if len(vecIDs) > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d stored vectors but no vector index", len(vecIDs)))
	}
	add := func(what string, ids []string) {
		if len(ids) > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %d (e.g. %s)", what, len(ids), ids[0]))
		}
	}
	add("chunks missing from the keyword index", rep.MissingKeyword)
	add("keyword entries with no stored chunk", rep.ExtraKeyword)
	add("vectors missing from the vector index", rep.MissingVectors)
	add("vector entries with no stored vector", rep.ExtraVectors)
	add("stored vectors with the wrong dimensions", rep.BadDimensions)
	rep.MissingKeyword = capList(rep.MissingKeyword)
	rep.ExtraKeyword = capList(rep.ExtraKeyword)
	rep.MissingVectors = capList(rep.MissingVectors)
	rep.ExtraVectors = capList(rep.ExtraVectors)
	rep.BadDimensions = capList(rep.BadDimensions)
	return rep, nil
}

func diff(want, got map[string]bool) (missing, extra []string) {
	for id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if !want[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return
}

func capList(l []string) []string {
	if len(l) > maxListed {
		return l[:maxListed]
	}
	return l
}
