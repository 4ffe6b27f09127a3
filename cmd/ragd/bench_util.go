package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/internal/unitvec"
)

type queryStats struct {
	n                  int
	p50, p99, max, qps float64
}

// syntheticModels resolves the synthetic embedder's name (and only it).
type syntheticModels struct{ se unitvec.Embedder }

func (m syntheticModels) Embedder(_ context.Context, name string) (embed.Embedder, error) {
	if name != m.se.Info().ID {
		return nil, fmt.Errorf("model %q: %w", name, embed.ErrModelNotFound)
	}
	return m.se, nil
}

// searcher runs one query on an index (the retrieval service).
type searcher interface {
	Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error)
}

// benchQueries runs every query once, spread over the given number of
// concurrent clients, and reports throughput and latency percentiles (ms).
func benchQueries(ctx context.Context, b searcher, name string, qs []string, clients int, mk func(string) data.Query) (queryStats, error) {
	lat := make([]float64, len(qs))
	var next int
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := firstErr != nil
				mu.Unlock()
				if i >= len(qs) || stop {
					return
				}
				t0 := time.Now()
				_, err := b.Search(ctx, name, mk(qs[i]))
				lat[i] = float64(time.Since(t0).Microseconds()) / 1000
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("query %q: %w", qs[i], err)
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return queryStats{}, firstErr
	}
	elapsed := time.Since(start).Seconds()
	sort.Float64s(lat)
	st := queryStats{n: len(lat), qps: float64(len(lat)) / max(elapsed, 1e-9)}
	if len(lat) > 0 {
		st.p50, st.p99, st.max = pct(lat, 50), pct(lat, 99), lat[len(lat)-1]
	}
	return st, nil
}
