package batch

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/use"
	"github.com/ragd/ragd/internal/cputime"
)

// Flags to try other settings in BenchmarkConcurrent32 (defaults: Config{}).
var (
	benchWait     = flag.Duration("batch.wait", 0, "Config.MaxWait of the batched side of BenchmarkConcurrent32")
	benchInFlight = flag.Int("batch.inflight", 0, "Config.MaxInFlight of the batched side of BenchmarkConcurrent32")
)

var (
	useOnce  sync.Once
	useModel *use.Model
	useErr   error
)

// useLite loads the real USE-lite model once, or skips when its weights
// are not installed.
func useLite(b *testing.B) *use.Model {
	b.Helper()
	dir, err := use.Locate(".")
	if err != nil {
		b.Skipf("USE-lite weights not installed (run scripts/setup.sh): %v", err)
	}
	useOnce.Do(func() { useModel, useErr = use.Load(dir, use.Options{}) })
	if useErr != nil {
		b.Fatalf("use.Load(%s): %v", dir, useErr)
	}
	return useModel
}

// shortTexts returns n search-query-like texts of 4 to 8 words.
func shortTexts(n int) []string {
	words := strings.Fields(`how do I bake bread recipe for sourdough loaf the stock market
		fell today supersonic flow over a wedge boundary layer heat transfer on blunt
		bodies what is the best way to cook rice vector search with hnsw graphs
		laminar turbulent transition pressure distribution wing`)
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]string, n)
	for i := range out {
		k := 4 + rng.IntN(5)
		w := make([]string, k)
		for j := range w {
			w[j] = words[rng.IntN(len(words))]
		}
		out[i] = strings.Join(w, " ")
	}
	return out
}

// phase accumulates one mode's measurements over rounds.
type phase struct {
	wall, cpu time.Duration
	texts     int
	lat       []time.Duration
}

// round runs clients goroutines, each embedding perClient single short
// texts one after another, and records every request's latency.
func (p *phase) round(b *testing.B, emb embed.Embedder, texts []string, clients, perClient int) {
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	cpu0, t0 := cputime.Process(), time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				text := texts[(c*perClient+i)%len(texts)]
				s := time.Now()
				if _, err := emb.Embed(context.Background(), embed.Query, []string{text}); err != nil {
					b.Error(err)
					return
				}
				lat[c] = append(lat[c], time.Since(s))
			}
		})
	}
	wg.Wait()
	p.wall += time.Since(t0)
	p.cpu += cputime.Process() - cpu0
	p.texts += clients * perClient
	for _, l := range lat {
		p.lat = append(p.lat, l...)
	}
}

func (p *phase) rate() float64 { return float64(p.texts) / p.wall.Seconds() }

func (p *phase) cpuRate() float64 {
	if p.cpu <= 0 {
		return 0
	}
	return float64(p.texts) / p.cpu.Seconds()
}

func percentile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkConcurrent32 compares 32 concurrent clients, each embedding one
// short query at a time with the real USE-lite model, with batching off
// (Config.Disabled) and on (Config{}, or as -batch.wait and
// -batch.inflight say). Each iteration runs one round of
// each mode, interleaved so that load on a shared machine hits both alike.
// Metrics: texts/s of each mode and their ratio (speedup-x), texts per CPU
// second of each mode (robust to other load), p50/p99 request latency of
// each mode, the median latency of a lone request to the model (lone-ms)
// and through the batcher (lone-on-ms: plus MaxWait), and batched p99 /
// lone (p99/lone-x), and the mean batch size of the rounds.
//
//	go test ./embed/batch -run '^$' -bench Concurrent32 -benchtime 5x
func BenchmarkConcurrent32(b *testing.B) {
	const clients, perClient = 32, 8
	m := useLite(b)
	texts := shortTexts(512)
	off := New(m, Config{Disabled: true})
	on := New(m, Config{MaxWait: *benchWait, MaxInFlight: *benchInFlight})
	defer off.Close()
	defer on.Close()

	// Warm up, then time lone requests straight to the model.
	if _, err := m.Embed(context.Background(), embed.Query, texts[:64]); err != nil {
		b.Fatal(err)
	}
	var lone []time.Duration
	for i := range 40 {
		s := time.Now()
		if _, err := m.Embed(context.Background(), embed.Query, texts[i:i+1]); err != nil {
			b.Fatal(err)
		}
		lone = append(lone, time.Since(s))
	}
	loneMed := percentile(lone, 0.5)
	// The same through the batcher: a lone request waits MaxWait first.
	var loneOn []time.Duration
	for i := range 40 {
		s := time.Now()
		if _, err := on.Embed(context.Background(), embed.Query, texts[i:i+1]); err != nil {
			b.Fatal(err)
		}
		loneOn = append(loneOn, time.Since(s))
	}

	var pOff, pOn phase
	st0 := on.Stats()
	b.ResetTimer()
	for b.Loop() {
		pOff.round(b, off, texts, clients, perClient)
		pOn.round(b, on, texts, clients, perClient)
	}
	b.StopTimer()

	st := on.Stats()
	b.ReportMetric(pOff.rate(), "off-texts/s")
	b.ReportMetric(pOn.rate(), "on-texts/s")
	b.ReportMetric(pOn.rate()/pOff.rate(), "speedup-x")
	if pOff.cpuRate() > 0 {
		b.ReportMetric(pOff.cpuRate(), "off-texts/cpu-s")
		b.ReportMetric(pOn.cpuRate(), "on-texts/cpu-s")
	}
	b.ReportMetric(ms(percentile(pOff.lat, 0.5)), "off-p50-ms")
	b.ReportMetric(ms(percentile(pOff.lat, 0.99)), "off-p99-ms")
	b.ReportMetric(ms(percentile(pOn.lat, 0.5)), "on-p50-ms")
	b.ReportMetric(ms(percentile(pOn.lat, 0.99)), "on-p99-ms")
	b.ReportMetric(ms(loneMed), "lone-ms")
	b.ReportMetric(ms(percentile(loneOn, 0.5)), "lone-on-ms")
	b.ReportMetric(float64(percentile(pOn.lat, 0.99))/float64(loneMed), "p99/lone-x")
	b.ReportMetric(float64(st.Texts-st0.Texts)/float64(max(st.Batches-st0.Batches, 1)), "mean-batch")
	b.Logf("GOMAXPROCS %d; %d clients x %d requests per round; batched: %+v",
		runtime.GOMAXPROCS(0), clients, perClient, st)
}

// BenchmarkModelBatchSize is the ceiling batching can reach: the real
// model's cost per text when called with batches of each size directly.
//
//	go test ./embed/batch -run '^$' -bench ModelBatchSize
func BenchmarkModelBatchSize(b *testing.B) {
	m := useLite(b)
	texts := shortTexts(512)
	for _, n := range []int{1, 4, 16, 32, 64, 128} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			cpu0, i := cputime.Process(), 0
			for b.Loop() {
				lo := (i * n) % (len(texts) - n)
				if _, err := m.Embed(context.Background(), embed.Query, texts[lo:lo+n]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "texts/s")
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "texts/cpu-s")
			}
		})
	}
}
