package annbench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coder/hnsw"
)

// runCoder measures github.com/coder/hnsw v0.6.1 on the same data. It has
// no locking, so it is built on one goroutine; its panics are recovered
// and reported in Result.Error.
func (b *bench) runCoder(ctx context.Context, dir string) (err error) {
	row := Result{Index: CoderHNSW, VectorBytesPerVector: float64(4 * b.cfg.Dim)}
	fail := func(e error) error {
		row.Error = e.Error()
		b.logf("%s: %v", CoderHNSW, e)
		b.rows = append(b.rows, row)
		return nil
	}
	var g *hnsw.Graph[string]
	h0 := heapNow()
	t0, c0 := time.Now(), cpuTime()
	if e := guard(func() error {
		g = hnsw.NewGraph[string]()
		g.M = b.cfg.M
		g.EfSearch = b.cfg.EfConstruction
		g.Distance = hnsw.CosineDistance
		g.Rng = rand.New(rand.NewSource(b.cfg.Seed))
		for i, v := range b.base {
			if i%1000 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			g.Add(hnsw.MakeNode(strconv.Itoa(i), v))
		}
		return nil
	}); e != nil {
		return fail(fmt.Errorf("build: %w", e))
	}
	row.BuildInsertsPerS = float64(len(b.base)) / time.Since(t0).Seconds()
	row.BuildInsertsPerCPUS = float64(len(b.base)) / (cpuTime() - c0)
	row.BytesPerVector = b.perVector(heapNow(), h0, false)
	b.logf("%s: %.0f inserts/s on 1 goroutine, %.0f B/vector", CoderHNSW, row.BuildInsertsPerS, row.BytesPerVector)
	path := filepath.Join(dir, "coder.hnsw")
	if e := guard(func() error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := g.Export(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		t0 := time.Now()
		f, err = os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		g2 := hnsw.NewGraph[string]()
		if err := g2.Import(bufio.NewReader(f)); err != nil {
			return err
		}
		row.LoadS = time.Since(t0).Seconds()
		return nil
	}); e != nil {
		row.Error = "save/load: " + e.Error()
	}
	search := func(ef int) searchFunc {
		return func(q []float32) (out []string, err error) {
			err = guard(func() error {
				for _, n := range g.Search(q, b.cfg.K) {
					out = append(out, n.Key)
				}
				return nil
			})
			return out, err
		}
	}
	for _, ef := range b.cfg.Efs {
		g.EfSearch = ef
		r := row
		r.Ef = ef
		var e error
		if r.QPS, r.QPSPerCPUS, e = b.qps1(ctx, search(ef)); e == nil {
			r.RecallAt10, r.QPS2T, e = b.measure(ctx, search(ef), b.truth)
		}
		if e != nil {
			r.Error = e.Error()
		}
		if b.exactQPS > 0 {
			r.SpeedupVsExact = r.QPS / b.exactQPS
			r.SpeedupVsExactCPU = r.QPSPerCPUS / b.exactQPSCPU
		}
		b.logf("%s ef=%d: recall %.4f, %.0f q/s %s", CoderHNSW, ef, r.RecallAt10, r.QPS, r.Error)
		b.rows = append(b.rows, r)
	}
	return ctx.Err()
}

// guard runs f and turns a panic into an error.
func guard(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}
