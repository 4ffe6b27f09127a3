package index

import (
	"sort"

	"github.com/ragd/ragd/data"
)

// Ranked is one retriever's result: chunk id and score, best first.
type Ranked struct {
	ID    string
	Score float64
}

// Fused is a chunk with its fused score and per-retriever explanation.
type Fused struct {
	ID      string
	Score   float64
	Explain data.Explain
}

// Fuse merges a query's keyword (bm) and vector (vec) results as its mode
// and fusion say: one list as it is, or both by RRF or convex combination.
func Fuse(q data.Query, bm, vec []Ranked) []Fused {
	switch q.Mode {
	case data.ModeBM25:
		return single(bm, false)
	case data.ModeVector:
		return single(vec, true)
	}
	if q.Fusion == data.FusionConvex {
		return fuseConvex(bm, vec, q.Alpha)
	}
	return fuseRRF(bm, vec, q.RRFK)
}

// FetchK is how many candidates each retriever returns for a query: TopK,
// or more for hybrid fusion and for reranking.
func FetchK(q data.Query) int {
	if q.Mode == data.ModeHybrid || q.Rerank {
		return max(q.TopK*4, 50)
	}
	return q.TopK
}

// DefaultRRFK is the reciprocal-rank-fusion constant (Cormack et al. 2009).
const DefaultRRFK = 60

// fuseRRF merges ranked lists by reciprocal rank: score = Σ 1/(k + rank),
// ranks 1-based. Ties are broken by chunk id so results are deterministic.
func fuseRRF(bm25, vec []Ranked, k int) []Fused {
	if k <= 0 {
		k = DefaultRRFK
	}
	m := map[string]*Fused{}
	get := func(id string) *Fused {
		f := m[id]
		if f == nil {
			f = &Fused{ID: id}
			m[id] = f
		}
		return f
	}
	for i, r := range bm25 {
		f := get(r.ID)
		f.Score += 1 / float64(k+i+1)
		f.Explain.BM25 = &data.RankScore{Score: r.Score, Rank: i + 1}
	}
	for i, r := range vec {
		f := get(r.ID)
		f.Score += 1 / float64(k+i+1)
		f.Explain.Vector = &data.RankScore{Score: r.Score, Rank: i + 1}
	}
	return sortFused(m)
}

// fuseConvex merges by alpha*vec + (1-alpha)*bm25 over min-max normalised
// scores; a chunk missing from one list gets 0 from it. alpha = 1 is pure
// vector, 0 pure BM25.
func fuseConvex(bm25, vec []Ranked, alpha float64) []Fused {
	m := map[string]*Fused{}
	get := func(id string) *Fused {
		f := m[id]
		if f == nil {
			f = &Fused{ID: id}
			m[id] = f
		}
		return f
	}
	nb := minMax(bm25)
	for i, r := range bm25 {
		f := get(r.ID)
		f.Score += (1 - alpha) * nb[i]
		f.Explain.BM25 = &data.RankScore{Score: r.Score, Rank: i + 1}
	}
	nv := minMax(vec)
	for i, r := range vec {
		f := get(r.ID)
		f.Score += alpha * nv[i]
		f.Explain.Vector = &data.RankScore{Score: r.Score, Rank: i + 1}
	}
	return sortFused(m)
}

// minMax maps scores to [0,1]; a list whose scores are all equal maps to 1.
func minMax(rs []Ranked) []float64 {
	out := make([]float64, len(rs))
	if len(rs) == 0 {
		return out
	}
	lo, hi := rs[0].Score, rs[0].Score
	for _, r := range rs {
		lo = min(lo, r.Score)
		hi = max(hi, r.Score)
	}
	for i, r := range rs {
		if hi == lo {
			out[i] = 1
		} else {
			out[i] = (r.Score - lo) / (hi - lo)
		}
	}
	return out
}

func sortFused(m map[string]*Fused) []Fused {
	out := make([]Fused, 0, len(m))
	for _, f := range m {
		f.Explain.Fused = f.Score
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// single turns one retriever's list into fused results (scores unchanged).
func single(rs []Ranked, vector bool) []Fused {
	out := make([]Fused, len(rs))
	for i, r := range rs {
		rk := &data.RankScore{Score: r.Score, Rank: i + 1}
		out[i] = Fused{ID: r.ID, Score: r.Score, Explain: data.Explain{Fused: r.Score}}
		if vector {
			out[i].Explain.Vector = rk
		} else {
			out[i].Explain.BM25 = rk
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	return out
}
