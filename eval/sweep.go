package eval

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ragd/ragd/data"
)

// maxSweepPoints bounds a sweep's size.
const maxSweepPoints = 1001

// SweepSpec is a parameter range "name=from:to:step" (inclusive of to).
// Only "alpha" (convex fusion weight of the vector score) is swept today.
type SweepSpec struct {
	Param          string
	From, To, Step float64
}

// ParseSweep parses "alpha=0:1:0.1". Values must lie in [0, 1], from <= to,
// step > 0, and the range may hold at most 1001 points.
func ParseSweep(s string) (*SweepSpec, error) {
	name, rng, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return nil, fmt.Errorf("%w: sweep %q: want name=from:to:step", ErrConfig, s)
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if name != "alpha" {
		return nil, fmt.Errorf("%w: sweep %q: only alpha can be swept", ErrConfig, s)
	}
	parts := strings.Split(rng, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: sweep %q: want name=from:to:step", ErrConfig, s)
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: sweep %q: %q is not a number", ErrConfig, s, p)
		}
		v[i] = f
	}
	sp := &SweepSpec{Param: name, From: v[0], To: v[1], Step: v[2]}
	if err := sp.validate(); err != nil {
		return nil, fmt.Errorf("sweep %q: %w", s, err)
	}
	return sp, nil
}

func (sp SweepSpec) validate() error {
	switch {
	case sp.Param != "alpha":
		return fmt.Errorf("%w: only alpha can be swept, not %q", ErrConfig, sp.Param)
	case sp.Step <= 0 || math.IsNaN(sp.Step):
		return fmt.Errorf("%w: step %v must be positive", ErrConfig, sp.Step)
	case !(sp.From <= sp.To):
		return fmt.Errorf("%w: from %v is after to %v", ErrConfig, sp.From, sp.To)
	case sp.From < 0 || sp.To > 1:
		return fmt.Errorf("%w: alpha range %v..%v must lie in [0, 1]", ErrConfig, sp.From, sp.To)
	case (sp.To-sp.From)/sp.Step >= maxSweepPoints:
		return fmt.Errorf("%w: more than %d sweep points", ErrConfig, maxSweepPoints)
	}
	return nil
}

// Values lists the swept values: from, from+step, ... up to to (a value
// within 1e-9 of to counts), each rounded to 9 decimals so 0.1 steps give
// 0.3, not 0.30000000000000004.
func (sp SweepSpec) Values() []float64 {
	var out []float64
	for i := 0; i < maxSweepPoints; i++ {
		v := sp.From + float64(i)*sp.Step
		if v > sp.To+1e-9 {
			break
		}
		out = append(out, math.Round(min(v, sp.To)*1e9)/1e9)
	}
	return out
}

// String formats the spec as ParseSweep reads it.
func (sp SweepSpec) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return sp.Param + "=" + f(sp.From) + ":" + f(sp.To) + ":" + f(sp.Step)
}

// SweepPoint is one alpha's mean nDCG@10 and MAP on each split.
type SweepPoint struct {
	Alpha      float64 `json:"alpha"`
	DevNDCG10  float64 `json:"dev_ndcg_at_10"`
	TestNDCG10 float64 `json:"test_ndcg_at_10"`
	DevMAP     float64 `json:"dev_map"`
	TestMAP    float64 `json:"test_map"`
}

// SweepResult is a tuned alpha and its curve. The alpha is chosen on the
// dev split only (best mean nDCG@10, the smallest alpha on ties); the test
// values are there to plot, never to choose.
type SweepResult struct {
	Spec        string       `json:"spec"`
	BestAlpha   float64      `json:"best_alpha"`
	DevQueries  int          `json:"dev_queries"`
	TestQueries int          `json:"test_queries"`
	Points      []SweepPoint `json:"points"`
}

// Sweep runs convex hybrid search at each alpha of spec over the judged
// queries (each query once per alpha), picks the alpha with the best dev
// nDCG@10 and returns the curve and the tuned run on cfg.Split (default
// "test").
func Sweep(ctx context.Context, ds *Dataset, s Searcher, spec SweepSpec, cfg RunConfig) (*SweepResult, *RunResult, error) {
	cfg.Sweep = &spec
	if err := cfg.defaults(); err != nil {
		return nil, nil, err
	}
	return sweep(ctx, ds, s, spec, cfg)
}

func sweep(ctx context.Context, ds *Dataset, s Searcher, spec SweepSpec, cfg RunConfig) (*SweepResult, *RunResult, error) {
	if err := spec.validate(); err != nil {
		return nil, nil, err
	}
	dev, err := ds.QueryIDs("dev")
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: %w", err)
	}
	test, err := ds.QueryIDs("test")
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: %w", err)
	}
	report, err := ds.QueryIDs(cfg.Split)
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: %w", err)
	}
	all := unionIDs(ds, dev, test, report)
	res := &SweepResult{Spec: spec.String(), DevQueries: len(dev), TestQueries: len(test)}
	var best *RunResult
	bestDev := math.Inf(-1)
	for _, a := range spec.Values() {
		rs := RunSpec{Mode: data.ModeHybrid, Fusion: data.FusionConvex, Alpha: a}
		rr, err := runQueries(ctx, ds, s, rs, all, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("sweep alpha %v: %w", a, err)
		}
		d, t := rr.subset(dev, "dev"), rr.subset(test, "test")
		res.Points = append(res.Points, SweepPoint{
			Alpha: a, DevNDCG10: d.NDCG10, TestNDCG10: t.NDCG10, DevMAP: d.AP, TestMAP: t.AP,
		})
		if d.NDCG10 > bestDev {
			bestDev, best, res.BestAlpha = d.NDCG10, rr, a
		}
	}
	tuned := best.subset(report, cfg.Split)
	tuned.Mode += " (tuned)"
	return res, tuned, nil
}

// unionIDs returns the ids in any of the lists, in query order.
func unionIDs(ds *Dataset, lists ...[]string) []string {
	in := map[string]bool{}
	for _, l := range lists {
		for _, id := range l {
			in[id] = true
		}
	}
	var out []string
	for _, q := range ds.Queries {
		if in[q.ID] {
			out = append(out, q.ID)
		}
	}
	return out
}
