package annbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index/ann"
)

// Index names used in Config.Indexes and Result.Index.
const (
	HNSW      = "hnsw"
	HNSWInt8  = "hnsw-int8"
	Exact     = "exact"
	CoderHNSW = "coder-hnsw"
	// Derived rows.
	HNSWDelete30 = "hnsw-delete30"
	HNSWFilter1  = "hnsw-filter1pct"
	HNSWFilter20 = "hnsw-filter20pct"
)

// Config describes one benchmark run; zero fields take the defaults.
type Config struct {
	// N is the number of indexed vectors (default 100000).
	N int `json:"n"`
	// Dim is the vector length for generated data (default 384).
	Dim int `json:"dim"`
	// K is the number of neighbours per query (default 10).
	K int `json:"k"`
	// Queries is the number of held-out queries (default 1000).
	Queries int `json:"queries"`
	// Data is "clustered" (default), "uniform", or the path of an .fvecs
	// file whose first N vectors are indexed and next Queries are queries.
	Data string `json:"data"`
	// Seed seeds data generation and index levels (default 1).
	Seed int64 `json:"seed"`
	// Efs are the efSearch values measured (default 10,16,32,40,48,56,64,
	// 80,96,128,256: dense where recall@10 crosses 0.95 and 0.99 on the
	// default data, so the report shows the cheapest ef reaching each).
	Efs []int `json:"efs"`
	// M and EfConstruction configure both HNSW implementations where they
	// can (defaults 16 and 200).
	M              int `json:"m"`
	EfConstruction int `json:"ef_construction"`
	// Workers is the number of goroutines building ragd's indexes
	// (default 2); coder-hnsw has no locking and builds on one.
	Workers int `json:"workers"`
	// Indexes selects the indexes (default all four); the exact scan is
	// always built, as the ground truth.
	Indexes []string `json:"indexes"`
	// SkipExtras skips the delete-30% and filter rows.
	SkipExtras bool `json:"skip_extras"`
	// Dir holds the saved index files (default: a temporary directory).
	Dir string `json:"-"`
}

func (c Config) withDefaults() (Config, error) {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.N, 100000)
	def(&c.Dim, 384)
	def(&c.K, 10)
	def(&c.Queries, 1000)
	def(&c.M, 16)
	def(&c.EfConstruction, 200)
	def(&c.Workers, 2)
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Data == "" {
		c.Data = "clustered"
	}
	if len(c.Efs) == 0 {
		c.Efs = []int{10, 16, 32, 40, 48, 56, 64, 80, 96, 128, 256}
	}
	if len(c.Indexes) == 0 {
		c.Indexes = []string{HNSW, HNSWInt8, Exact, CoderHNSW}
	}
	if c.N < 1 || c.Dim < 1 || c.K < 1 || c.Queries < 1 || c.Workers < 1 {
		return c, fmt.Errorf("annbench: n, dim, k, queries and workers must be positive: %w", data.ErrInvalid)
	}
	for _, ef := range c.Efs {
		if ef < 1 || ef > ann.MaxK {
			return c, fmt.Errorf("annbench: ef %d out of range: %w", ef, data.ErrInvalid)
		}
	}
	for _, name := range c.Indexes {
		switch name {
		case HNSW, HNSWInt8, Exact, CoderHNSW:
		default:
			return c, fmt.Errorf("annbench: unknown index %q (want %s, %s, %s, %s): %w", name, HNSW, HNSWInt8, Exact, CoderHNSW, data.ErrInvalid)
		}
	}
	return c, nil
}

// load returns the base vectors and the queries.
func (c *Config) load() (base, queries [][]float32, err error) {
	switch c.Data {
	case "clustered":
		return Clustered(c.Seed, 0, c.N, c.Dim), Clustered(c.Seed, 1, c.Queries, c.Dim), nil
	case "uniform":
		return Uniform(c.Seed, 0, c.N, c.Dim), Uniform(c.Seed, 1, c.Queries, c.Dim), nil
	}
	if !strings.HasSuffix(c.Data, ".fvecs") {
		return nil, nil, fmt.Errorf("annbench: data %q: want clustered, uniform or a .fvecs file: %w", c.Data, data.ErrInvalid)
	}
	f, err := os.Open(c.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("annbench: %w", err)
	}
	defer f.Close()
	vs, err := ReadFvecs(f, c.N+c.Queries)
	if err != nil {
		return nil, nil, err
	}
	if len(vs) <= c.Queries {
		return nil, nil, fmt.Errorf("annbench: %s holds %d vectors, need more than %d queries: %w", c.Data, len(vs), c.Queries, data.ErrInvalid)
	}
	c.Dim = len(vs[0])
	if len(vs) < c.N+c.Queries {
		c.N = len(vs) - c.Queries
	}
	return vs[:c.N], vs[c.N:], nil
}

// bench carries one run's shared state.
type bench struct {
	cfg      Config
	base     [][]float32
	queries  [][]float32
	truth    [][]string
	exactQPS float64
	// exactQPSCPU is the exact scan's queries per CPU-second.
	exactQPSCPU float64
	progress    io.Writer
	rows        []Result
}

func (b *bench) logf(format string, args ...any) {
	if b.progress != nil {
		fmt.Fprintf(b.progress, format+"\n", args...)
	}
}

// searchFunc answers one query with ids, best first.
type searchFunc func(q []float32) ([]string, error)

// Run executes the benchmark described by cfg, writing progress lines to
// progress (may be nil).
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: c, progress: progress}
	if b.base, b.queries, err = b.cfg.load(); err != nil {
		return nil, err
	}
	c = b.cfg
	dir := c.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "annbench"); err != nil {
			return nil, fmt.Errorf("annbench: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	b.logf("data: %d x %d (%s), %d queries", c.N, c.Dim, c.Data, c.Queries)
	if err := b.runExact(ctx, dir); err != nil {
		return nil, err
	}
	want := func(name string) bool { return slices.Contains(c.Indexes, name) }
	if want(HNSW) {
		if err := b.runOurs(ctx, dir, HNSW, false); err != nil {
			return nil, err
		}
	}
	if want(HNSWInt8) {
		if err := b.runOurs(ctx, dir, HNSWInt8, true); err != nil {
			return nil, err
		}
	}
	if want(HNSW) && !c.SkipExtras {
		if err := b.runFilter(ctx); err != nil {
			return nil, err
		}
	}
	if want(CoderHNSW) {
		if err := b.runCoder(ctx, dir); err != nil {
			return nil, err
		}
	}
	if !want(Exact) {
		b.rows = slices.DeleteFunc(b.rows, func(r Result) bool { return r.Index == Exact })
	}
	return &Report{Results: b.rows, Config: c}, nil
}

func (b *bench) annConfig(quant bool) ann.Config {
	return ann.Config{Dims: b.cfg.Dim, Metric: data.Cosine, M: b.cfg.M, EfConstruction: b.cfg.EfConstruction,
		Quantize: quant, ExactBelow: -1, Workers: b.cfg.Workers, Seed: b.cfg.Seed, CompactRatio: -1}
}

func (b *bench) items(meta bool) []ann.Item {
	its := make([]ann.Item, len(b.base))
	for i, v := range b.base {
		its[i] = ann.Item{ID: fmt.Sprintf("%d", i), Vector: v}
		if meta {
			its[i].Metadata = map[string]any{"bucket": float64(i % 100)}
		}
	}
	return its
}

// heapNow returns the live heap after a full collection.
func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// upsert inserts items in batches of 10,000 and returns the elapsed time.
func upsert(ctx context.Context, ix interface {
	Upsert(context.Context, []ann.Item) error
}, its []ann.Item) (time.Duration, error) {
	start := time.Now()
	for i := 0; i < len(its); i += 10000 {
		if err := ix.Upsert(ctx, its[i:min(i+10000, len(its))]); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func (b *bench) runExact(ctx context.Context, dir string) error {
	its := b.items(false)
	h0 := heapNow()
	f, err := ann.NewFlat(b.annConfig(false))
	if err != nil {
		return err
	}
	c0 := cpuTime()
	took, err := upsert(ctx, f, its)
	if err != nil {
		return err
	}
	row := Result{Index: Exact, BuildInsertsPerS: float64(len(its)) / took.Seconds(), BuildInsertsPerCPUS: float64(len(its)) / (cpuTime() - c0),
		BytesPerVector: b.perVector(heapNow(), h0, true), VectorBytesPerVector: float64(4 * b.cfg.Dim)}
	path := filepath.Join(dir, "exact.ann")
	if err := f.Save(path); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := ann.LoadFlat(path); err != nil {
		return err
	}
	row.LoadS = time.Since(t0).Seconds()
	search := func(q []float32) ([]string, error) {
		return ids(f.Search(ctx, q, ann.SearchOptions{K: b.cfg.K}))
	}
	b.logf("exact: built at %.0f/s; scanning %d queries for the ground truth", row.BuildInsertsPerS, len(b.queries))
	b.truth = make([][]string, len(b.queries))
	t0, c0 = time.Now(), cpuTime()
	for i, q := range b.queries {
		if b.truth[i], err = search(q); err != nil {
			return err
		}
	}
	row.QPS = float64(len(b.queries)) / time.Since(t0).Seconds()
	row.QPSPerCPUS = float64(len(b.queries)) / (cpuTime() - c0)
	b.exactQPSCPU = row.QPSPerCPUS
	b.exactQPS = row.QPS
	if row.RecallAt10, row.QPS2T, err = b.measure(ctx, search, b.truth); err != nil {
		return err
	}
	row.SpeedupVsExact, row.SpeedupVsExactCPU = 1, 1
	b.rows = append(b.rows, row)
	return nil
}

func ids(res []ann.Result, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	out := make([]string, len(res))
	for i, r := range res {
		out[i] = r.ID
	}
	return out, nil
}

// perVector is the heap growth per vector, less the raw float32 vectors
// when the index copies them.
func (b *bench) perVector(after, before uint64, copies bool) float64 {
	d := float64(after) - float64(before)
	if copies {
		d -= float64(b.cfg.N) * float64(b.cfg.Dim) * 4
	}
	return d / float64(b.cfg.N)
}

// measure runs every query on two goroutines and returns the recall
// against truth and the queries per second.
func (b *bench) measure(ctx context.Context, search searchFunc, truth [][]string) (recall, qps2 float64, err error) {
	got := make([][]string, len(b.queries))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	t0 := time.Now()
	for g := 0; g < 2; g++ {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[g] = fmt.Errorf("panic: %v", p)
				}
			}()
			for i := g; i < len(b.queries); i += 2 {
				if ctx.Err() != nil {
					errs[g] = ctx.Err()
					return
				}
				r, err := search(b.queries[i])
				if err != nil {
					errs[g] = err
					return
				}
				got[i] = r
			}
		})
	}
	wg.Wait()
	qps2 = float64(len(b.queries)) / time.Since(t0).Seconds()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	return meanRecall(got, truth, b.cfg.K), qps2, nil
}

// qps1 times every query on one goroutine, by wall clock and by CPU time.
func (b *bench) qps1(ctx context.Context, search searchFunc) (qps, perCPU float64, err error) {
	t0, c0 := time.Now(), cpuTime()
	for _, q := range b.queries {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		if _, err := search(q); err != nil {
			return 0, 0, err
		}
	}
	n := float64(len(b.queries))
	return n / time.Since(t0).Seconds(), n / max(cpuTime()-c0, 1e-9), nil
}

func meanRecall(got, truth [][]string, k int) float64 {
	var sum float64
	n := 0
	for i := range truth {
		want := truth[i]
		if len(want) > k {
			want = want[:k]
		}
		if len(want) == 0 {
			continue
		}
		hit := 0
		for _, g := range got[i] {
			if slices.Contains(want, g) {
				hit++
			}
		}
		sum += float64(hit) / float64(len(want))
		n++
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// sweep measures one index at every ef.
func (b *bench) sweep(ctx context.Context, base Result, truth [][]string, search func(ef int) searchFunc) error {
	for _, ef := range b.cfg.Efs {
		row := base
		row.Ef = ef
		var err error
		if row.QPS, row.QPSPerCPUS, err = b.qps1(ctx, search(ef)); err != nil {
			return err
		}
		if row.RecallAt10, row.QPS2T, err = b.measure(ctx, search(ef), truth); err != nil {
			return err
		}
		if b.exactQPS > 0 {
			row.SpeedupVsExact = row.QPS / b.exactQPS
			row.SpeedupVsExactCPU = row.QPSPerCPUS / b.exactQPSCPU
		}
		b.logf("%s ef=%d: recall %.4f, %.0f q/s (%.1fx exact), %.0f q/s on 2, %.0f q/cpu-s", row.Index, ef, row.RecallAt10, row.QPS, row.SpeedupVsExact, row.QPS2T, row.QPSPerCPUS)
		b.rows = append(b.rows, row)
	}
	return nil
}

func (b *bench) runOurs(ctx context.Context, dir, name string, quant bool) error {
	its := b.items(false)
	h0 := heapNow()
	ix, err := ann.New(b.annConfig(quant))
	if err != nil {
		return err
	}
	b.logf("%s: building with %d goroutines", name, b.cfg.Workers)
	c0 := cpuTime()
	took, err := upsert(ctx, ix, its)
	if err != nil {
		return err
	}
	base := Result{Index: name, BuildInsertsPerS: float64(len(its)) / took.Seconds(), BuildInsertsPerCPUS: float64(len(its)) / (cpuTime() - c0),
		BytesPerVector: b.perVector(heapNow(), h0, true)}
	b.logf("%s: %.0f inserts/s (%.0f per CPU-second), %.0f B/vector beyond raw float32", name, base.BuildInsertsPerS, base.BuildInsertsPerCPUS, base.BytesPerVector)
	path := filepath.Join(dir, name+".ann")
	if err := ix.Save(path); err != nil {
		return err
	}
	t0 := time.Now()
	loaded, err := ann.Load(path)
	if err != nil {
		return err
	}
	base.LoadS = time.Since(t0).Seconds()
	st := loaded.Stats()
	base.VectorBytesPerVector = float64(st.VectorBytes) / float64(st.Nodes)
	b.logf("%s: loaded in %.2f s; resident vector memory %.0f B/vector, %.0f B/vector mapped from the file", name, base.LoadS, base.VectorBytesPerVector, float64(st.MappedBytes)/float64(st.Nodes))
	search := func(ix *ann.Index, opts ann.SearchOptions) func(ef int) searchFunc {
		return func(ef int) searchFunc {
			o := opts
			o.K, o.Ef = b.cfg.K, ef
			return func(q []float32) ([]string, error) { return ids(ix.Search(ctx, q, o)) }
		}
	}
	// int8 is measured on the loaded copy, whose float vectors are mapped
	if quant {
		return b.sweep(ctx, base, b.truth, search(loaded, ann.SearchOptions{}))
	}
	if err := b.sweep(ctx, base, b.truth, search(ix, ann.SearchOptions{})); err != nil {
		return err
	}
	if b.cfg.SkipExtras {
		return nil
	}
	// delete 30% from the loaded copy; ground truth by its exact scan
	var del []string
	for i := range b.base {
		if i%10 < 3 {
			del = append(del, fmt.Sprintf("%d", i))
		}
	}
	if _, err := loaded.Delete(ctx, del); err != nil {
		return err
	}
	truth, err := b.exactTruth(ctx, loaded, ann.SearchOptions{})
	if err != nil {
		return err
	}
	row := Result{Index: HNSWDelete30, Note: "after deleting 30% (tombstones, no compaction)"}
	return b.sweep(ctx, row, truth, search(loaded, ann.SearchOptions{}))
}

// exactTruth answers every query with the index's exact scan.
func (b *bench) exactTruth(ctx context.Context, ix *ann.Index, opts ann.SearchOptions) ([][]string, error) {
	opts.K, opts.Exact = b.cfg.K, true
	truth := make([][]string, len(b.queries))
	for i, q := range b.queries {
		var err error
		if truth[i], err = ids(ix.Search(ctx, q, opts)); err != nil {
			return nil, err
		}
	}
	return truth, nil
}

// runFilter builds an index whose vectors carry {"bucket": i%100} and
// measures filters keeping 1% (equality: exact scan of the posting list)
// and 20% (a range: graph search with the column's bitmap).
func (b *bench) runFilter(ctx context.Context) error {
	ix, err := ann.New(b.annConfig(false))
	if err != nil {
		return err
	}
	b.logf("filter: building an index with metadata")
	if _, err := upsert(ctx, ix, b.items(true)); err != nil {
		return err
	}
	for _, fc := range []struct {
		name, js, note string
	}{
		{HNSWFilter1, `{"bucket": 7}`, "filter bucket=7 keeps 1%"},
		{HNSWFilter20, `{"bucket": {"$lt": 20}}`, "filter bucket<20 keeps 20% (graph path)"},
	} {
		f, err := data.ParseFilterJSON([]byte(fc.js))
		if err != nil {
			return err
		}
		opts := ann.SearchOptions{Filter: f}
		truth, err := b.exactTruth(ctx, ix, opts)
		if err != nil {
			return err
		}
		row := Result{Index: fc.name, Note: fc.note}
		err = b.sweep(ctx, row, truth, func(ef int) searchFunc {
			o := opts
			o.K, o.Ef = b.cfg.K, ef
			return func(q []float32) ([]string, error) { return ids(ix.Search(ctx, q, o)) }
		})
		if err != nil {
			return err
		}
	}
	return nil
}
