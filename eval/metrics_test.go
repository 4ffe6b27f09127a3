package eval

import (
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/ragd/ragd/data"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func metricsNear(a, b Metrics) bool {
	return near(a.NDCG10, b.NDCG10) && near(a.AP, b.AP) && near(a.Recall100, b.Recall100) && near(a.P10, b.P10) && near(a.RR10, b.RR10)
}

func docs(ids ...string) []ScoredDoc {
	out := make([]ScoredDoc, len(ids))
	for i, id := range ids {
		out[i] = ScoredDoc{DocID: id, Score: float64(len(ids) - i)}
	}
	return out
}

// The expected values below were worked out by hand from the trec_eval
// definitions (log2(rank+1) discount, ideal from every judged gain).
func TestScoreHandComputed(t *testing.T) {
	graded := map[string]float64{"d1": 3, "d2": 1, "d3": 0, "d4": 2}
	long := make([]string, 12)
	for i := range long {
		long[i] = "n" + strconv.Itoa(i)
	}
	long[10] = "r"
	cases := []struct {
		name    string
		ranking []ScoredDoc
		judged  map[string]float64
		want    Metrics
	}{
		{
			// d3 (gain 0) at 1, d1 (3) at 2, unjudged at 3, d2 (1) at 4; d4 missed.
			// DCG = 3/log2(3) + 1/log2(5) = 1.892789261 + 0.430676558 = 2.323465819
			// IDCG = 3 + 2/log2(3) + 1/log2(4) = 3 + 1.261859507 + 0.5 = 4.761859507
			// AP = (1/2 + 2/4) / 3; P@10 = 2/10; R@100 = 2/3; RR = 1/2.
			"graded gains", docs("d3", "d1", "x", "d2"), graded,
			Metrics{NDCG10: 2.323465819 / 4.761859507, AP: 1.0 / 3, Recall100: 2.0 / 3, P10: 0.2, RR10: 0.5},
		},
		{
			"perfect", docs("d1", "d4", "d2"), graded,
			Metrics{NDCG10: 1, AP: 1, Recall100: 1, P10: 0.3, RR10: 1},
		},
		{
			"no relevant retrieved", docs("d3", "x", "y"), graded,
			Metrics{},
		},
		{
			"empty ranking", nil, graded,
			Metrics{},
		},
		{
			// The only relevant document at rank 11: outside P@10, nDCG@10
			// and MRR@10, inside MAP and R@100. AP = (1/11)/1.
			"relevant at 11", docs(long...), map[string]float64{"r": 1},
			Metrics{AP: 1.0 / 11, Recall100: 1},
		},
		{
			// Gain 0.5 is below relevance level 1: it earns DCG but is not
			// relevant. DCG = 0.5, IDCG = 1 + 0.5/log2(3) = 1.315464877.
			"fractional gain", docs("h", "r"), map[string]float64{"h": 0.5, "r": 1},
			Metrics{NDCG10: (0.5 + 1/math.Log2(3)) / (1 + 0.5/math.Log2(3)), AP: 0.5, Recall100: 1, P10: 0.1, RR10: 0.5},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Score(c.ranking, c.judged)
			if !metricsNear(got, c.want) {
				t.Errorf("Score = %+v\nwant    %+v", got, c.want)
			}
		})
	}
}

func TestSortTRECTies(t *testing.T) {
	// trec_eval orders equal scores by docno, descending.
	run := []ScoredDoc{{"a", 1}, {"c", 0.5}, {"b", 1}, {"10", 2}, {"9", 2}}
	SortTREC(run)
	var ids []string
	for _, d := range run {
		ids = append(ids, d.DocID)
	}
	if want := []string{"9", "10", "b", "a", "c"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("order %v, want %v", ids, want)
	}
	// So a relevant "a" tied with "b" ranks second.
	m := Score(run, map[string]float64{"a": 1})
	if !near(m.RR10, 0.25) || !near(m.AP, 0.25) {
		t.Errorf("RR %v AP %v, want 0.25 (a is 4th after the tie)", m.RR10, m.AP)
	}
}

func TestFoldHits(t *testing.T) {
	hits := []data.Hit{
		{DocID: "a", ChunkID: "a#0", Score: 0.2},
		{DocID: "b", ChunkID: "b#0", Score: 0.9},
		{DocID: "a", ChunkID: "a#3", Score: 0.7},
		{ChunkID: "c#1", Score: 0.7},
		{ChunkID: "", Score: 5},
		{DocID: "d", Score: math.NaN()},
		{DocID: "b", ChunkID: "b#2", Score: 0.1},
	}
	got := FoldHits(hits, 0)
	want := []ScoredDoc{{"b", 0.9}, {"c", 0.7}, {"a", 0.7}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FoldHits = %v, want %v", got, want)
	}
	if got := FoldHits(hits, 2); len(got) != 2 || got[1].DocID != "c" {
		t.Errorf("depth 2 = %v", got)
	}
}

func TestMetricsGet(t *testing.T) {
	m := Metrics{NDCG10: 1, AP: 2, Recall100: 3, P10: 4, RR10: 5}
	for i, n := range MetricNames {
		v, ok := m.Get(n)
		if !ok || v != float64(i+1) {
			t.Errorf("Get(%s) = %v %v", n, v, ok)
		}
	}
	if _, ok := m.Get("bogus"); ok {
		t.Error("Get(bogus) ok")
	}
}
