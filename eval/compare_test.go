package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestStudentTTwoSided(t *testing.T) {
	cases := []struct{ t, df, want float64 }{
		{1, 1, 0.5},                        // Cauchy: 1 - (2/pi) atan(1)
		{3, 1, 1 - 2/math.Pi*math.Atan(3)}, // Cauchy
		{1.5, 2, 1 - 1.5/math.Sqrt(1.5*1.5+2)},
		{0, 7, 1},
		{2.228138852, 10, 0.05}, // t table critical values
		{2.776445105, 4, 0.05},
		{12.70620474, 1, 0.05},
		{2.009575237, 49, 0.05},
		{-2.008559112, 50, 0.05},
	}
	for _, c := range cases {
		if got := StudentTTwoSided(c.t, c.df); math.Abs(got-c.want) > 1e-7 {
			t.Errorf("p(t=%v, df=%v) = %.9f, want %.9f", c.t, c.df, got, c.want)
		}
	}
}

func TestPairedTTest(t *testing.T) {
	// d = 1..5: mean 3, sd sqrt(2.5), t = 3/(sqrt(2.5)/sqrt(5)) = 3*sqrt(2).
	tt, p := PairedTTest([]float64{1, 2, 3, 4, 5})
	if !near(tt, 3*math.Sqrt2) || math.Abs(p-StudentTTwoSided(3*math.Sqrt2, 4)) > 1e-12 || p > 0.02 || p < 0.01 {
		t.Errorf("t %v p %v", tt, p)
	}
	if tt, p := PairedTTest([]float64{0, 0, 0}); tt != 0 || p != 1 {
		t.Errorf("zero diffs: t %v p %v", tt, p)
	}
	if tt, p := PairedTTest([]float64{0.2, 0.2, 0.2}); !math.IsInf(tt, 1) || p != 0 {
		t.Errorf("constant diffs: t %v p %v", tt, p)
	}
	if _, p := PairedTTest([]float64{1}); p != 1 {
		t.Errorf("one pair: p %v", p)
	}
}

func TestRandomizationTest(t *testing.T) {
	if p := RandomizationTest([]float64{0, 0, 0}, 1000, 1); p != 1 {
		t.Errorf("zero diffs p = %v, want 1", p)
	}
	// 20 equal positive differences: only the all-plus and all-minus sign
	// patterns (2 in 2^20) are as extreme as the observed one.
	d := make([]float64, 20)
	for i := range d {
		d[i] = 0.1
	}
	if p := RandomizationTest(d, 10000, 7); p > 0.001 {
		t.Errorf("constant diffs p = %v", p)
	}
	rng := rand.New(rand.NewPCG(42, 1))
	shift := make([]float64, 60)
	null := make([]float64, 60)
	for i := range shift {
		shift[i] = 0.03 + 0.1*rng.NormFloat64()
		null[i] = 0.1 * rng.NormFloat64()
	}
	// On normal data the randomization and t-test p-values agree closely.
	for name, d := range map[string][]float64{"shift": shift, "null": null} {
		_, tp := PairedTTest(d)
		rp := RandomizationTest(d, 10000, 1)
		if math.Abs(tp-rp) > 0.02 {
			t.Errorf("%s: t-test p %.4f vs randomization p %.4f", name, tp, rp)
		}
		if again := RandomizationTest(d, 10000, 1); again != rp {
			t.Errorf("%s: same seed gave %v then %v", name, rp, again)
		}
	}
}

func perQueryRun(name string, ndcg []float64) RunResult {
	rr := RunResult{Mode: name}
	for i, v := range ndcg {
		rr.PerQuery = append(rr.PerQuery, QueryResult{QueryID: strconv.Itoa(i), Metrics: Metrics{NDCG10: v, AP: v / 2}})
	}
	rr.summarize()
	return rr
}

func TestCompare(t *testing.T) {
	a := &Report{Dataset: "d", Runs: []RunResult{perQueryRun("bm25", []float64{0.5, 0.2, 0.7, 0.4, 0.1})}}
	b := &Report{Dataset: "d", Runs: []RunResult{perQueryRun("hybrid-rrf", []float64{0.6, 0.2, 0.5, 0.9, 0.1, 0.8})}}
	c, err := Compare(a, b, CompareOptions{Permutations: 2000})
	if err != nil {
		t.Fatal(err)
	}
	rc := c.Runs[0]
	if rc.Queries != 5 || rc.RunA != "bm25" || rc.RunB != "hybrid-rrf" {
		t.Fatalf("comparison = %+v", rc)
	}
	m := rc.Metrics[0]
	// Differences B-A over the 5 common queries: 0.1, 0, -0.2, 0.5, 0.
	if m.Metric != "ndcg_at_10" || m.Wins != 2 || m.Losses != 1 || m.Ties != 2 || !near(m.Delta, 0.08) || !near(m.MeanA, 0.38) {
		t.Errorf("ndcg comparison = %+v", m)
	}
	if tt, p := PairedTTest([]float64{0.1, 0, -0.2, 0.5, 0}); !near(m.T, tt) || !near(m.TTestP, p) {
		t.Errorf("t %v p %v, want %v %v", m.T, m.TTestP, tt, p)
	}
	if m.RandP <= 0.2 || m.RandP > 1 {
		t.Errorf("randomization p %v for a small noisy difference", m.RandP)
	}

	// Multi-run reports pair by name.
	a.Runs = append(a.Runs, perQueryRun("vector", []float64{0.1, 0.1}))
	b.Runs = append(b.Runs, perQueryRun("bm25", []float64{0.5, 0.2}))
	c, err = Compare(a, b, CompareOptions{})
	if err != nil || len(c.Runs) != 1 || c.Runs[0].RunA != "bm25" || c.Runs[0].Metrics[0].Ties != 2 {
		t.Errorf("by name: %v %+v", err, c)
	}
	b.Runs = b.Runs[:1]
	b.Runs = append(b.Runs, perQueryRun("other", nil))
	if _, err := Compare(a, b, CompareOptions{}); !errors.Is(err, ErrConfig) {
		t.Errorf("no common run: %v", err)
	}
	if _, err := CompareRuns(&a.Runs[0], &RunResult{Mode: "empty"}, CompareOptions{}); !errors.Is(err, ErrNoQueries) {
		t.Errorf("no common queries: %v", err)
	}
}
