package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/embed/batch"
	"github.com/ragd/ragd/embed/use"
	"github.com/ragd/ragd/internal/cputime"
)

// Settings of the batched side of BenchmarkServeEmbeddings32 (0: defaults).
var (
	serveBatchMax    = flag.Int("serve.batch-max", 0, "batch_max of the batched server in BenchmarkServeEmbeddings32")
	serveBatchWait   = flag.Duration("serve.batch-wait", 0, "batch_wait of the batched server in BenchmarkServeEmbeddings32")
	serveBatchLinger = flag.Duration("serve.batch-linger", 0, "batch_linger of the batched server in BenchmarkServeEmbeddings32")
)

// embedQueries returns n search-query-like texts of 4 to 8 words (about 13
// USE-lite tokens each), seeded.
func embedQueries(n int) []string {
	words := strings.Fields(`how do I bake bread recipe for sourdough loaf the stock market
		fell today supersonic flow over a wedge boundary layer heat transfer on blunt
		bodies what is the best way to cook rice vector search with hnsw graphs
		laminar turbulent transition pressure distribution wing`)
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]string, n)
	for i := range out {
		w := make([]string, 4+rng.IntN(5))
		for j := range w {
			w[j] = words[rng.IntN(len(words))]
		}
		out[i] = strings.Join(w, " ")
	}
	return out
}

// embedServer is `ragd serve`'s API over httptest with its own model pool,
// batching on or off, use-lite loaded.
type embedServer struct {
	srv    *httptest.Server
	client *http.Client
	pool   *modelPool
}

// batchStats returns the server's batcher counters.
func (s *embedServer) batchStats() batch.Stats {
	if b, ok := s.pool.Loaded(use.ModelID).(*batch.Batcher); ok {
		return b.Stats()
	}
	return batch.Stats{}
}

func newEmbedServer(tb testing.TB, cfg Config) *embedServer {
	tb.Helper()
	cfg.DataDir = tb.TempDir()
	pool := newModelPool(cfg, slog.New(slog.DiscardHandler))
	if _, err := pool.Embedder(context.Background(), use.ModelID); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Models: poolAdapter{pool}, DefaultModel: use.ModelID}).Handler())
	tb.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128}
	tb.Cleanup(tr.CloseIdleConnections)
	return &embedServer{srv: srv, client: &http.Client{Transport: tr}, pool: pool}
}

// embed posts one text to /v1/embeddings and returns the request's latency.
func (s *embedServer) embed(text string) (time.Duration, error) {
	body, err := json.Marshal(map[string]any{"input": text, "model": use.ModelID})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := s.client.Post(s.srv.URL+"/v1/embeddings", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	el := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return el, nil
}

// httpPhase accumulates one mode's rounds.
type httpPhase struct {
	wall, cpu time.Duration
	n         int
	lat       []time.Duration
}

// round runs clients goroutines that each post perClient texts, one at a
// time, and records every request's latency.
func (p *httpPhase) round(tb testing.TB, s *embedServer, texts []string, clients, perClient int) {
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	cpu0, t0 := cputime.Process(), time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				d, err := s.embed(texts[(c*perClient+i)%len(texts)])
				if err != nil {
					tb.Error(err)
					return
				}
				lat[c] = append(lat[c], d)
			}
		})
	}
	wg.Wait()
	p.wall += time.Since(t0)
	p.cpu += cputime.Process() - cpu0
	p.n += clients * perClient
	for _, l := range lat {
		p.lat = append(p.lat, l...)
	}
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkServeEmbeddings32 is issue #9's measurement: 32 concurrent
// clients, each posting one short text at a time to /v1/embeddings (the
// serve command's API and model pool over httptest, use-lite), with
// micro-batching off (--no-batching) and on (the defaults), side by side:
// each iteration runs one round of each, interleaved, so load from other
// work on the machine hits both alike. It also times lone requests (one
// client, nothing else in flight) to each server.
//
// Metrics: requests/s of each mode and their ratio (speedup-x, target
// >= 3), requests per CPU-second of each mode (steadier on a shared
// machine), p50/p99 of each mode, the median lone request with batching
// off (lone-ms) and on (lone-on-ms), and the batched p99 over the lone
// request (p99/lone-x, target <= 2), and the mean batch of the batched rounds.
// -serve.batch-max, -serve.batch-wait and -serve.batch-linger set the
// batched server's batch_* settings.
//
//	go test ./cmd/ragd -run '^$' -bench ServeEmbeddings32 -benchtime 3x -count 3
func BenchmarkServeEmbeddings32(b *testing.B) {
	const clients, perClient = 32, 8
	nodeDir := useLiteNodeDir(b)
	off := newEmbedServer(b, Config{NodeDir: nodeDir, NoBatching: true})
	on := newEmbedServer(b, Config{NodeDir: nodeDir, BatchMax: *serveBatchMax, BatchWait: *serveBatchWait, BatchLinger: *serveBatchLinger})
	texts := embedQueries(512)

	lone := func(s *embedServer) time.Duration {
		var ls []time.Duration
		for i := range 40 {
			d, err := s.embed(texts[i])
			if err != nil {
				b.Fatal(err)
			}
			ls = append(ls, d)
		}
		return quantile(ls, 0.5)
	}
	// Warm up both (connections, pooled buffers), then time lone requests.
	var warm httpPhase
	warm.round(b, off, texts, clients, 2)
	warm.round(b, on, texts, clients, 2)
	loneOff, loneOn := lone(off), lone(on)

	var pOff, pOn httpPhase
	st0 := on.batchStats()
	b.ResetTimer()
	for b.Loop() {
		pOff.round(b, off, texts, clients, perClient)
		pOn.round(b, on, texts, clients, perClient)
	}
	b.StopTimer()

	rate := func(p *httpPhase) float64 { return float64(p.n) / p.wall.Seconds() }
	b.ReportMetric(rate(&pOff), "off-req/s")
	b.ReportMetric(rate(&pOn), "on-req/s")
	b.ReportMetric(rate(&pOn)/rate(&pOff), "speedup-x")
	if pOff.cpu > 0 && pOn.cpu > 0 {
		b.ReportMetric(float64(pOff.n)/pOff.cpu.Seconds(), "off-req/cpu-s")
		b.ReportMetric(float64(pOn.n)/pOn.cpu.Seconds(), "on-req/cpu-s")
	}
	b.ReportMetric(msOf(quantile(pOff.lat, 0.5)), "off-p50-ms")
	b.ReportMetric(msOf(quantile(pOff.lat, 0.99)), "off-p99-ms")
	b.ReportMetric(msOf(quantile(pOn.lat, 0.5)), "on-p50-ms")
	b.ReportMetric(msOf(quantile(pOn.lat, 0.99)), "on-p99-ms")
	b.ReportMetric(msOf(loneOff), "lone-ms")
	b.ReportMetric(msOf(loneOn), "lone-on-ms")
	b.ReportMetric(float64(quantile(pOn.lat, 0.99))/float64(loneOff), "p99/lone-x")
	st := on.batchStats()
	b.ReportMetric(float64(st.Texts-st0.Texts)/float64(max(st.Batches-st0.Batches, 1)), "mean-batch")
	b.Logf("GOMAXPROCS %d; %d clients x %d requests per round and mode; batcher %+v", runtime.GOMAXPROCS(0), clients, perClient, st)
}
