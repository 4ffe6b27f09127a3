package use

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/internal/cputime"
)

// BenchmarkGemmRows measures the dense kernel at the row counts a lone
// short text (12) and batches of short texts (96..384) give, on the
// feed-forward shape (512 x 1536).
func BenchmarkGemmRows(b *testing.B) {
	const k, n = 512, 1536
	w := make([]float32, k*n)
	for i := range w {
		w[i] = float32(i%13) * 0.01
	}
	var p panels
	packPanels(&p, w, k, n, n)
	for _, c := range []struct {
		m    int
		wide bool
	}{{12, false}, {12, true}, {96, false}, {96, true}, {384, false}, {384, true}} {
		m := c.m
		b.Run(fmt.Sprintf("%d/wide=%v", m, c.wide), func(b *testing.B) {
			defer func(w bool) { wideKernels = w }(wideKernels)
			wideKernels = c.wide
			a := make([]float32, m*k)
			for i := range a {
				a[i] = float32(i%7) * 0.1
			}
			c := make([]float32, m*n)
			cpu0 := cputime.Process()
			for b.Loop() {
				gemm(m, k, a, k, &p, c, n, false)
			}
			flop := 2 * float64(m*k*n) * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

// BenchmarkShortBatch embeds short query-like texts (the first 4-8 words
// of the reference sentences, ~13 tokens) in batches of 1 and 32 on one
// thread, with and without the two-panel kernel, reporting texts per
// CPU-second: the batch efficiency that micro-batching can reach.
//
//	go test ./embed/use -run '^$' -bench ShortBatch -count 3
func BenchmarkShortBatch(b *testing.B) {
	base := testModel(b)
	m := newModel(base.tok, base.enc, Options{Threads: 1})
	texts := []string{}
	for _, t := range benchTexts(b, 218) {
		if w := strings.Fields(t); len(w) >= 4 {
			texts = append(texts, strings.Join(w[:min(len(w), 8)], " "))
		}
	}
	tokens := 0
	for _, t := range texts {
		tokens += min(m.tok.Count(t), m.enc.maxLen)
	}
	b.Logf("%d texts, %.1f tokens each", len(texts), float64(tokens)/float64(len(texts)))
	for _, c := range []struct {
		n    int
		wide bool
	}{{1, false}, {32, false}, {1, true}, {32, true}} {
		n := c.n
		b.Run(fmt.Sprintf("%d/wide=%v", n, c.wide), func(b *testing.B) {
			defer func(w bool) { wideKernels = w }(wideKernels)
			wideKernels = c.wide
			cpu0, i := cputime.Process(), 0
			for b.Loop() {
				lo := (i * n) % (len(texts) - n)
				if _, err := m.Embed(context.Background(), embed.Query, texts[lo:lo+n]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "texts/cpu-s")
			}
		})
	}
}
