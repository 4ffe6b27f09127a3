package eval

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/ragd/ragd/data"
)

// alphaSearcher puts each query's relevant document ("r"+text) at rank
// 1 + round(10*|alpha - peak|) among filler documents, so nDCG@10 is best
// at alpha = peak. Non-hybrid queries get the document at rank 3.
type alphaSearcher struct {
	peak  float64
	calls int
}

func (s *alphaSearcher) Search(_ context.Context, q data.Query) ([]data.Hit, error) {
	s.calls++
	pos := 2
	if q.Mode == data.ModeHybrid {
		pos = int(math.Round(10 * math.Abs(q.Alpha-s.peak)))
	}
	var hits []data.Hit
	for i := 0; i < 20; i++ {
		id := "f" + strconv.Itoa(i)
		if i == pos {
			id = "r" + q.Text
		}
		hits = append(hits, data.Hit{DocID: id, Score: float64(100 - i)})
	}
	return hits, nil
}

func sweepDataset(n int) *Dataset {
	ds := &Dataset{Name: "sweep", Qrels: Qrels{}}
	for i := 0; i < n; i++ {
		id := strconv.Itoa(i)
		ds.Queries = append(ds.Queries, Query{ID: id, Text: id})
		ds.Qrels[id] = map[string]float64{"r" + id: 1}
		ds.Docs = append(ds.Docs, data.Document{ID: "r" + id})
	}
	ds.Splits = SplitByHash(ds.JudgedQueryIDs(), 0.5)
	return ds
}

func TestParseSweep(t *testing.T) {
	sp, err := ParseSweep("alpha=0:1:0.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	if got := sp.Values(); !reflect.DeepEqual(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
	if sp.String() != "alpha=0:1:0.1" {
		t.Errorf("String() = %q", sp.String())
	}
	sp, err = ParseSweep(" alpha = 0.2:0.5:0.25 ")
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Values(); !reflect.DeepEqual(got, []float64{0.2, 0.45}) {
		t.Errorf("values %v", got)
	}
	for _, bad := range []string{"", "alpha", "beta=0:1:0.1", "alpha=0:1", "alpha=0:1:0", "alpha=1:0:0.1",
		"alpha=-0.1:1:0.1", "alpha=0:2:0.1", "alpha=0:1:x", "alpha=0:1:0.0001", "alpha=NaN:1:0.1"} {
		if _, err := ParseSweep(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseSweep(%q) err = %v, want ErrConfig", bad, err)
		}
	}
}

func TestSweepChoosesOnDev(t *testing.T) {
	ds := sweepDataset(40)
	s := &alphaSearcher{peak: 0.3}
	sp, _ := ParseSweep("alpha=0:1:0.1")
	rep, err := Evaluate(context.Background(), ds, s, RunConfig{Sweep: sp})
	if err != nil {
		t.Fatal(err)
	}
	sw := rep.Sweep
	if sw == nil || sw.BestAlpha != 0.3 || len(sw.Points) != 11 {
		t.Fatalf("sweep = %+v", sw)
	}
	if sw.DevQueries+sw.TestQueries != 40 || sw.DevQueries == 0 || sw.TestQueries == 0 {
		t.Errorf("split sizes %d/%d", sw.DevQueries, sw.TestQueries)
	}
	// nDCG at distance k from the peak is 1/log2(k+2) on both splits.
	for _, p := range sw.Points {
		k := math.Round(10 * math.Abs(p.Alpha-0.3))
		want := 1 / math.Log2(k+2)
		if !near(p.DevNDCG10, want) || !near(p.TestNDCG10, want) {
			t.Errorf("alpha %v: dev %v test %v, want %v", p.Alpha, p.DevNDCG10, p.TestNDCG10, want)
		}
	}
	// Runs are reported on the test split; the tuned run is appended.
	if rep.Queries != sw.TestQueries || len(rep.Runs) != 2 {
		t.Fatalf("report queries %d runs %d", rep.Queries, len(rep.Runs))
	}
	tuned := rep.Runs[1]
	if tuned.Mode != "hybrid-convex@0.30 (tuned)" || tuned.Split != "test" || !near(tuned.NDCG10, 1) || len(tuned.PerQuery) != sw.TestQueries {
		t.Errorf("tuned run = %+v", tuned)
	}
	// One search per query per alpha, plus the bm25 run on test.
	if want := 11*40 + sw.TestQueries; s.calls != want {
		t.Errorf("searches %d, want %d", s.calls, want)
	}

	// Deterministic: a second run gives the same curve.
	rep2, err := Evaluate(context.Background(), ds, &alphaSearcher{peak: 0.3}, RunConfig{Sweep: sp})
	if err != nil || !reflect.DeepEqual(rep2.Sweep, rep.Sweep) {
		t.Errorf("second sweep differs: %v", err)
	}
}

func TestSweepNeedsSplits(t *testing.T) {
	ds := sweepDataset(4)
	ds.Splits = map[string][]string{"test": {"0"}}
	sp, _ := ParseSweep("alpha=0:1:0.5")
	if _, _, err := Sweep(context.Background(), ds, &alphaSearcher{}, *sp, RunConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("no dev split: %v", err)
	}
}
