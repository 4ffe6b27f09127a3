package use

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/embed"
)

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := -80.0; x <= 0; x += 0.001 {
		got, want := float64(exp32(float32(x))), math.Exp(float64(float32(x)))
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 1e-6 {
		t.Errorf("exp32 relative error %.3g, want below 1e-6", worst)
	}
	for _, x := range []float32{-80.5, -1000, float32(math.Inf(-1))} {
		if got := exp32(x); got != 0 {
			t.Errorf("exp32(%v) = %v, want 0", x, got)
		}
	}
}

func TestSoftmaxScaled(t *testing.T) {
	tests := []struct {
		in    []float32
		scale float32
		want  []float64
	}{
		{[]float32{0, 0}, 1, []float64{0.5, 0.5}},
		{[]float32{1, 2, 3}, 1, []float64{0.09003057, 0.24472847, 0.66524096}},
		{[]float32{2, 4, 6}, 0.5, []float64{0.09003057, 0.24472847, 0.66524096}},
		{[]float32{1000, 0}, 1, []float64{1, 0}},
		{[]float32{7}, 0.125, []float64{1}},
	}
	for _, tc := range tests {
		row := append([]float32(nil), tc.in...)
		softmaxScaled(row, tc.scale)
		for i := range row {
			if math.Abs(float64(row[i])-tc.want[i]) > 1e-6 {
				t.Errorf("softmax(%v * %v) = %v, want %v", tc.in, tc.scale, row, tc.want)
				break
			}
		}
	}
}

func TestLayerNorm(t *testing.T) {
	x := []float32{1, 2, 3, 4, -2, -2, -2, -2}
	scale := []float32{1, 1, 2, 2}
	bias := []float32{0, 0, 0, 1}
	dst := make([]float32, len(x))
	layerNorm(dst, x, 2, 4, scale, bias, 1e-6)
	// Row 1: mean 2.5, variance 1.25.
	sd := math.Sqrt(1.25 + 1e-6)
	want := []float64{-1.5 / sd, -0.5 / sd, 2 * 0.5 / sd, 2*1.5/sd + 1, 0, 0, 0, 1}
	for i := range want {
		if math.Abs(float64(dst[i])-want[i]) > 1e-5 {
			t.Fatalf("layerNorm = %v, want %v", dst, want)
		}
	}
}

// A forward pass gives the same bits on any number of goroutines: the
// dense layers split by columns, the layer norms by rows and attention by
// sequence and head never change the order of any sum.
func TestForwardSameOnAnyGoroutines(t *testing.T) {
	m := testModel(t)
	texts := benchTexts(t, 40)
	texts = append(texts, "", "a", strings.Repeat("boundary layer transition ", 60))
	seqs := make([][]int, len(texts))
	for i, s := range texts {
		ids := m.tok.encode(s, m.enc.maxLen)
		seqs[i] = ids[:min(len(ids), m.enc.maxLen)]
	}
	run := func(par int) [][]float32 {
		dst := make([][]float32, len(seqs))
		for i := range dst {
			dst[i] = make([]float32, m.enc.dModel)
		}
		m.enc.forward(new(workspace), seqs, dst, par)
		return dst
	}
	want := run(1)
	for _, par := range []int{2, 3, 7} {
		got := run(par)
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("par %d: text %d differs from the one-goroutine pass", par, i)
			}
		}
	}
	// And an Embed call (one pass on all threads) matches texts embedded
	// one at a time on one thread.
	one := newModel(m.tok, m.enc, Options{Threads: 1})
	all := newModel(m.tok, m.enc, Options{Threads: 4})
	batch, err := all.Embed(context.Background(), embed.Passage, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range texts {
		v, err := one.Embed(context.Background(), embed.Passage, []string{s})
		if err != nil {
			t.Fatal(err)
		}
		for j := range v[0] {
			if d := math.Abs(float64(v[0][j] - batch[i][j])); d > 1e-6 {
				t.Fatalf("text %d: batched and lone vectors differ by %g at %d", i, d, j)
			}
		}
	}
}
