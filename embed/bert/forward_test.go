package bert

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func smallWeights(seed int64) *Weights {
	cfg := TinyConfig()
	cfg.VocabSize = 100
	cfg.MaxPositions = 16
	return RandomWeights(cfg, seed)
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// Padding tokens (mask 0) must not change the unmasked positions, whatever
// their ids, and the unmasked positions must equal the unpadded run.
func TestForwardMaskIgnoresPadding(t *testing.T) {
	w := smallWeights(1)
	h := w.Config.HiddenSize
	short, err := w.Forward(Input{IDs: []int32{1, 5, 9, 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, pads := range [][]int32{{0, 0}, {77, 3}} {
		in := Input{IDs: append([]int32{1, 5, 9, 2}, pads...), Mask: []int32{1, 1, 1, 1, 0, 0}}
		out, err := w.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(out.Hidden[:4*h], short.Hidden); d > 1e-6 {
			t.Fatalf("padding %v changed real tokens by %g", pads, d)
		}
	}
	// Without the mask the padding does change them.
	out, _ := w.Forward(Input{IDs: []int32{1, 5, 9, 2, 0, 0}})
	if d := maxDiff(out.Hidden[:4*h], short.Hidden); d < 1e-3 {
		t.Fatalf("unmasked padding had no effect (%g): mask test is vacuous", d)
	}
}

// Token types and positions must both matter.
func TestForwardUsesTypesAndPositions(t *testing.T) {
	w := smallWeights(2)
	base, _ := w.Forward(Input{IDs: []int32{1, 5, 9, 2}})
	typed, _ := w.Forward(Input{IDs: []int32{1, 5, 9, 2}, TypeIDs: []int32{0, 0, 1, 1}})
	if d := maxDiff(base.Hidden, typed.Hidden); d < 1e-3 {
		t.Fatalf("token types ignored (%g)", d)
	}
	swapped, _ := w.Forward(Input{IDs: []int32{1, 9, 5, 2}})
	h := w.Config.HiddenSize
	if d := maxDiff(base.Hidden[h:2*h], swapped.Hidden[2*h:3*h]); d < 1e-3 {
		t.Fatalf("positions ignored (%g)", d)
	}
}

// With identity LayerNorms and all attention/FFN weights zero except the
// value bias, every position attends to the same value vector whatever the
// attention weights are (they sum to 1), so the output is
// LN(LN(LN(emb) + W_o·b_v + b_o)) — computed here by hand.
func TestForwardAnalytic(t *testing.T) {
	cfg := Config{VocabSize: 5, HiddenSize: 4, NumLayers: 1, NumHeads: 2,
		IntermediateSize: 3, MaxPositions: 4, TypeVocabSize: 2, LayerNormEps: 1e-12}
	w := RandomWeights(cfg, 3)
	ident := func(n *Norm) {
		for i := range n.Gamma.Data {
			n.Gamma.Data[i], n.Beta.Data[i] = 1, 0
		}
	}
	ident(&w.EmbNorm)
	l := &w.Layers[0]
	ident(&l.AttnNorm)
	ident(&l.OutNorm)
	for _, lin := range []*Linear{&l.Value, &l.Inter, &l.Out} {
		clear(lin.W.Data)
	}
	clear(l.Inter.B.Data)
	clear(l.Out.B.Data)
	bv := l.Value.B.Data
	ids := []int32{1, 3, 4}
	out, err := w.Forward(Input{IDs: ids, Mask: []int32{1, 1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	ln := func(x []float64) []float64 {
		var mean, v float64
		for _, a := range x {
			mean += a / float64(len(x))
		}
		for _, a := range x {
			v += (a - mean) * (a - mean) / float64(len(x))
		}
		y := make([]float64, len(x))
		for i, a := range x {
			y[i] = (a - mean) / math.Sqrt(v+1e-12)
		}
		return y
	}
	for p, id := range ids {
		emb := make([]float64, 4)
		for j := range emb {
			emb[j] = float64(w.Word.Data[int(id)*4+j]) + float64(w.Position.Data[p*4+j]) + float64(w.TokenType.Data[j])
		}
		x := ln(emb)
		for o := range 4 {
			a := float64(l.AttnOut.B.Data[o])
			for i := range 4 {
				a += float64(l.AttnOut.W.Data[o*4+i]) * float64(bv[i])
			}
			x[o] += a
		}
		want := ln(ln(x))
		for j := range 4 {
			if d := math.Abs(want[j] - float64(out.Hidden[p*4+j])); d > 1e-5 {
				t.Fatalf("position %d dim %d: got %g want %g", p, j, out.Hidden[p*4+j], want[j])
			}
		}
	}
}

func TestForwardBadInput(t *testing.T) {
	w := smallWeights(4)
	tests := []struct {
		name string
		in   Input
		msg  string
	}{
		{"empty", Input{}, "empty"},
		{"id out of range", Input{IDs: []int32{1, 100}}, "outside vocabulary"},
		{"negative id", Input{IDs: []int32{-1}}, "outside vocabulary"},
		{"too long", Input{IDs: make([]int32, 17)}, "max_position_embeddings"},
		{"bad type", Input{IDs: []int32{1}, TypeIDs: []int32{2}}, "token type"},
		{"length mismatch", Input{IDs: []int32{1, 2}, Mask: []int32{1}}, "lengths differ"},
	}
	for _, tc := range tests {
		_, err := w.Forward(tc.in)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want ErrInput containing %q", tc.name, err, tc.msg)
		}
	}
}

func TestRandomWeightsDeterministic(t *testing.T) {
	a, b, c := smallWeights(9), smallWeights(9), smallWeights(10)
	if maxDiff(a.Layers[1].Inter.W.Data, b.Layers[1].Inter.W.Data) != 0 {
		t.Fatal("same seed, different weights")
	}
	if maxDiff(a.Layers[1].Inter.W.Data, c.Layers[1].Inter.W.Data) == 0 {
		t.Fatal("different seeds, same weights")
	}
}
