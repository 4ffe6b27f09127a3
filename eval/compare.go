package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CompareOptions tune Compare. The zero value is ready to use.
type CompareOptions struct {
	// Permutations for the randomization test. Default 10,000.
	Permutations int
	// Seed of the randomization test's generator. Default 1.
	Seed uint64
	// Epsilon: per-query differences within it count as ties. Default 1e-9.
	Epsilon float64
}

// MetricComparison compares one metric of two runs over their common
// queries. Differences are B - A; a win is a query where B beats A.
type MetricComparison struct {
	Metric string  `json:"metric"`
	MeanA  float64 `json:"mean_a"`
	MeanB  float64 `json:"mean_b"`
	Delta  float64 `json:"delta"`
	Wins   int     `json:"wins"`
	Losses int     `json:"losses"`
	Ties   int     `json:"ties"`
	// T and TTestP are the paired t statistic and its two-sided p-value.
	T      float64 `json:"t"`
	TTestP float64 `json:"t_test_p"`
	// RandP is the two-sided p-value of the paired randomization test.
	RandP float64 `json:"randomization_p"`
}

// RunComparison compares two runs.
type RunComparison struct {
	RunA    string             `json:"run_a"`
	RunB    string             `json:"run_b"`
	Queries int                `json:"queries"`
	Metrics []MetricComparison `json:"metrics"`
}

// Comparison is the outcome of Compare.
type Comparison struct {
	DatasetA string          `json:"dataset_a"`
	DatasetB string          `json:"dataset_b"`
	Runs     []RunComparison `json:"runs"`
}

// Compare pairs the runs of two reports, query by query: runs with the same
// name are compared; when each report has exactly one run they are compared
// whatever their names. It is an error when no run pairs up.
func Compare(a, b *Report, opts CompareOptions) (*Comparison, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("%w: Compare needs two reports", ErrConfig)
	}
	c := &Comparison{DatasetA: a.Dataset, DatasetB: b.Dataset}
	if len(a.Runs) == 1 && len(b.Runs) == 1 {
		rc, err := CompareRuns(&a.Runs[0], &b.Runs[0], opts)
		if err != nil {
			return nil, err
		}
		c.Runs = append(c.Runs, *rc)
		return c, nil
	}
	for i := range a.Runs {
		rb := b.Run(a.Runs[i].Mode)
		if rb == nil {
			continue
		}
		rc, err := CompareRuns(&a.Runs[i], rb, opts)
		if err != nil {
			return nil, err
		}
		c.Runs = append(c.Runs, *rc)
	}
	if len(c.Runs) == 0 {
		return nil, fmt.Errorf("%w: the reports have no run name in common", ErrConfig)
	}
	return c, nil
}

// CompareRuns compares every metric of two runs over the queries both have
// per-query results for.
func CompareRuns(a, b *RunResult, opts CompareOptions) (*RunComparison, error) {
	if opts.Permutations < 0 {
		return nil, fmt.Errorf("%w: negative permutation count", ErrConfig)
	}
	if opts.Permutations == 0 {
		opts.Permutations = 10000
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Epsilon <= 0 {
		opts.Epsilon = 1e-9
	}
	bq := make(map[string]Metrics, len(b.PerQuery))
	for _, q := range b.PerQuery {
		bq[q.QueryID] = q.Metrics
	}
	var pa, pb []Metrics
	for _, q := range a.PerQuery {
		if m, ok := bq[q.QueryID]; ok {
			pa, pb = append(pa, q.Metrics), append(pb, m)
		}
	}
	if len(pa) == 0 {
		return nil, fmt.Errorf("%w: runs %s and %s share no per-query results", ErrNoQueries, a.Mode, b.Mode)
	}
	rc := &RunComparison{RunA: a.Mode, RunB: b.Mode, Queries: len(pa)}
	for _, name := range MetricNames {
		x := make([]float64, len(pa))
		y := make([]float64, len(pa))
		for i := range pa {
			x[i], _ = pa[i].Get(name)
			y[i], _ = pb[i].Get(name)
		}
		mc := comparePaired(x, y, opts)
		mc.Metric = name
		rc.Metrics = append(rc.Metrics, mc)
	}
	return rc, nil
}

// comparePaired compares paired samples x (A) and y (B).
func comparePaired(x, y []float64, opts CompareOptions) MetricComparison {
	var mc MetricComparison
	d := make([]float64, len(x))
	for i := range x {
		mc.MeanA += x[i]
		mc.MeanB += y[i]
		d[i] = y[i] - x[i]
		switch {
		case d[i] > opts.Epsilon:
			mc.Wins++
		case d[i] < -opts.Epsilon:
			mc.Losses++
		default:
			mc.Ties++
		}
	}
	n := float64(len(x))
	mc.MeanA /= n
	mc.MeanB /= n
	mc.Delta = mc.MeanB - mc.MeanA
	mc.T, mc.TTestP = PairedTTest(d)
	mc.RandP = RandomizationTest(d, opts.Permutations, opts.Seed)
	return mc
}

// PairedTTest returns the t statistic of differences d (H0: mean 0) and
// its two-sided p-value with len(d)-1 degrees of freedom. All-zero
// differences give t 0, p 1; constant non-zero ones give t ±Inf, p 0.
func PairedTTest(d []float64) (t, p float64) {
	n := float64(len(d))
	if len(d) < 2 {
		return 0, 1
	}
	var m float64
	for _, v := range d {
		m += v
	}
	m /= n
	var ss float64
	for _, v := range d {
		ss += (v - m) * (v - m)
	}
	sd := math.Sqrt(ss / (n - 1))
	if sd == 0 || sd < 1e-12*math.Abs(m) {
		if m == 0 {
			return 0, 1
		}
		return math.Copysign(math.Inf(1), m), 0
	}
	t = m / (sd / math.Sqrt(n))
	return t, StudentTTwoSided(t, n-1)
}

// StudentTTwoSided is P(|T| >= |t|) for Student's t with df degrees of
// freedom: the regularized incomplete beta I_{df/(df+t²)}(df/2, 1/2).
func StudentTTwoSided(t, df float64) float64 {
	if math.IsInf(t, 0) {
		return 0
	}
	return regIncBeta(df/2, 0.5, df/(df+t*t))
}

// RandomizationTest is the paired two-sided randomization (sign-flip)
// test: the share of perms random sign assignments of d whose mean is at
// least as far from 0 as the observed mean, counting the observed
// assignment itself ((hits+1)/(perms+1)). The generator is PCG seeded with
// seed, so the result is the same run after run.
func RandomizationTest(d []float64, perms int, seed uint64) float64 {
	if len(d) == 0 {
		return 1
	}
	var obs float64
	for _, v := range d {
		obs += v
	}
	obs = math.Abs(obs)
	tol := 1e-12 * math.Max(1, obs)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	hits := 0
	for i := 0; i < perms; i++ {
		var s float64
		var bits uint64
		for j, v := range d {
			if j%64 == 0 {
				bits = rng.Uint64()
			}
			if bits&1 == 1 {
				s += v
			} else {
				s -= v
			}
			bits >>= 1
		}
		if math.Abs(s) >= obs-tol {
			hits++
		}
	}
	return float64(hits+1) / float64(perms+1)
}

// regIncBeta is the regularized incomplete beta function I_x(a, b),
// evaluated with its continued fraction (modified Lentz), using the
// symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction converges slowly.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

// betaCF evaluates the continued fraction of the incomplete beta function.
func betaCF(a, b, x float64) float64 {
	const (
		tiny = 1e-300
		eps  = 1e-15
	)
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 1000; m++ {
		fm := float64(m)
		// Even step.
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		// Odd step.
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		delta := d * c
		h *= delta
		if math.Abs(delta-1) < eps {
			break
		}
	}
	return h
}
