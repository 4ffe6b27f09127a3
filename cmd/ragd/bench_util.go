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
	"github.com/ragd/ragd/rag"
	"github.com/ragd/ragd/rag/sched"
)

type queryStats struct {
	n                  int
	p50, p99, max, qps float64
	// wait50/99 and svc50/99 split the latency (ms) into the wait for a
	// scheduler worker and the search itself.
	wait50, wait99, svc50, svc99 float64
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
// concurrent clients, each search through the service (and its
// scheduler, if any), and reports throughput and latency percentiles (ms):
// end to end, and split into the wait for a worker and the search itself.
func benchQueries(ctx context.Context, b searcher, name string, qs []string, clients int, mk func(string) data.Query) (queryStats, error) {
	lat := make([]float64, len(qs))
	wait := make([]float64, len(qs))
	svc := make([]float64, len(qs))
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
				q := mk(qs[i]) // timed, as before the scheduler: a client's own work
				tctx, tm := rag.WithTiming(ctx)
				_, err := b.Search(tctx, name, q)
				lat[i] = float64(time.Since(t0).Microseconds()) / 1000
				wait[i], svc[i] = float64(tm.Wait.Microseconds())/1000, float64(tm.Service.Microseconds())/1000
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
	sort.Float64s(wait)
	sort.Float64s(svc)
	st := queryStats{n: len(lat), qps: float64(len(lat)) / max(elapsed, 1e-9)}
	if len(lat) > 0 {
		st.p50, st.p99, st.max = pct(lat, 50), pct(lat, 99), lat[len(lat)-1]
		st.wait50, st.wait99, st.svc50, st.svc99 = pct(wait, 50), pct(wait, 99), pct(svc, 50), pct(svc, 99)
	}
	return st, nil
}

// describeScheduler names the scheduler in bench reports.
func describeScheduler(s *sched.Scheduler) string {
	if s == nil {
		return "none"
	}
	st := s.Stats()
	return fmt.Sprintf("fifo %d workers, queue %d", st.Workers, st.Limit)
}
