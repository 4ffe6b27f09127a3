package eval

import (
	"math"
	"sort"
	"strings"

	"github.com/ragd/ragd/data"
)

// relevanceLevel is trec_eval's default relevance_level: a document is
// relevant for MAP, P, recall and recip_rank when its gain is at least 1.
const relevanceLevel = 1

// Cutoffs of the reported metrics.
const (
	NDCGCutoff   = 10
	PCutoff      = 10
	RecallCutoff = 100
	RRCutoff     = 10
)

// ScoredDoc is one document of a ranking.
type ScoredDoc struct {
	DocID string  `json:"doc_id"`
	Score float64 `json:"score"`
}

// SortTREC orders a ranking as trec_eval does when it reads a run file:
// by score, highest first; equal scores by document id in descending byte
// order (trec_eval ignores the rank column).
func SortTREC(docs []ScoredDoc) {
	sort.SliceStable(docs, func(i, j int) bool {
		if docs[i].Score != docs[j].Score {
			return docs[i].Score > docs[j].Score
		}
		return docs[i].DocID > docs[j].DocID
	})
}

// FoldHits turns chunk hits into a document ranking: each document scores
// its best chunk; the result is in trec_eval order and cut to depth
// documents (depth <= 0 keeps all). A hit without DocID takes the part of
// its ChunkID before the last '#'; hits with neither are dropped.
func FoldHits(hits []data.Hit, depth int) []ScoredDoc {
	best := make(map[string]float64, len(hits))
	for _, h := range hits {
		id := h.DocID
		if id == "" {
			if i := strings.LastIndexByte(h.ChunkID, '#'); i > 0 {
				id = h.ChunkID[:i]
			}
		}
		if id == "" || math.IsNaN(h.Score) {
			continue
		}
		if s, ok := best[id]; !ok || h.Score > s {
			best[id] = h.Score
		}
	}
	out := make([]ScoredDoc, 0, len(best))
	for id, s := range best {
		out = append(out, ScoredDoc{DocID: id, Score: s})
	}
	SortTREC(out)
	if depth > 0 && len(out) > depth {
		out = out[:depth]
	}
	return out
}

// Metrics are one query's (or a mean's) scores.
type Metrics struct {
	// NDCG10 is trec_eval ndcg_cut.10.
	NDCG10 float64 `json:"ndcg_at_10"`
	// AP is trec_eval map (average precision over the whole ranking).
	AP float64 `json:"map"`
	// Recall100 is trec_eval recall_100.
	Recall100 float64 `json:"recall_at_100"`
	// P10 is trec_eval P_10 (relevant in the first 10, divided by 10).
	P10 float64 `json:"p_at_10"`
	// RR10 is the reciprocal rank of the first relevant document within the
	// first 10 (trec_eval -M 10 recip_rank), 0 when there is none.
	RR10 float64 `json:"mrr_at_10"`
}

// MetricNames lists the metrics in report order, with their JSON names.
var MetricNames = []string{"ndcg_at_10", "map", "recall_at_100", "p_at_10", "mrr_at_10"}

// Get returns a metric by its JSON name (see MetricNames); ok is false for
// an unknown name.
func (m Metrics) Get(name string) (v float64, ok bool) {
	switch name {
	case "ndcg_at_10", "ndcg", "ndcg_cut.10", "ndcg_cut_10":
		return m.NDCG10, true
	case "map":
		return m.AP, true
	case "recall_at_100", "recall_100":
		return m.Recall100, true
	case "p_at_10", "P_10":
		return m.P10, true
	case "mrr_at_10", "recip_rank", "mrr":
		return m.RR10, true
	}
	return 0, false
}

// Score computes a ranking's metrics against one query's judgements
// (document id -> gain). The ranking is scored in the order given; call
// SortTREC first to reproduce trec_eval on a run file.
func Score(ranking []ScoredDoc, judged map[string]float64) Metrics {
	var (
		m      Metrics
		numRel int
		gains  []float64
	)
	for _, g := range judged {
		if g >= relevanceLevel {
			numRel++
		}
		if g > 0 {
			gains = append(gains, g)
		}
	}
	var dcg, sumPrec float64
	relRet := 0
	for i, d := range ranking {
		g := judged[d.DocID]
		if i < NDCGCutoff && g > 0 {
			dcg += g / math.Log2(float64(i+2))
		}
		if g < relevanceLevel {
			continue
		}
		relRet++
		sumPrec += float64(relRet) / float64(i+1)
		if i < PCutoff {
			m.P10++
		}
		if i < RecallCutoff {
			m.Recall100++
		}
		if m.RR10 == 0 && i < RRCutoff {
			m.RR10 = 1 / float64(i+1)
		}
	}
	m.P10 /= PCutoff
	if numRel > 0 {
		m.AP = sumPrec / float64(numRel)
		m.Recall100 /= float64(numRel)
	} else {
		m.Recall100 = 0
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(gains)))
	var idcg float64
	for i, g := range gains {
		if i >= NDCGCutoff {
			break
		}
		idcg += g / math.Log2(float64(i+2))
	}
	if idcg > 0 {
		m.NDCG10 = dcg / idcg
	}
	return m
}

// mean averages per-query metrics.
func mean(ms []Metrics) Metrics {
	var s Metrics
	if len(ms) == 0 {
		return s
	}
	for _, m := range ms {
		s.NDCG10 += m.NDCG10
		s.AP += m.AP
		s.Recall100 += m.Recall100
		s.P10 += m.P10
		s.RR10 += m.RR10
	}
	n := float64(len(ms))
	return Metrics{s.NDCG10 / n, s.AP / n, s.Recall100 / n, s.P10 / n, s.RR10 / n}
}
