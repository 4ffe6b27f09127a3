package onnx

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/bert"
	"github.com/ragd/ragd/embed/wordpiece"
)

var crossTexts = []string{
	"The quick brown fox jumps over the lazy dog.",
	"",
	"Supersonic flow past a blunt body: shock stand-off distance and heat transfer.",
	"a",
	"Héllo wörld — unaccented?",
}

// TestLastHiddenStateMatchesGo runs a padded batch through ONNX Runtime and
// compares every element of last_hidden_state and pooler_output (padding
// positions included) with the pure-Go forward pass.
func TestLastHiddenStateMatchesGo(t *testing.T) {
	cfg := testConfig(t)
	dir := filepath.Join(t.TempDir(), "tiny")
	w, err := BuildRandomModel(dir, RandomModelOptions{Seed: 1, TokenizerJSON: tokenizerPath(t),
		Outputs: []string{bert.OutputHidden, bert.OutputPooled}})
	if err != nil {
		t.Fatal(err)
	}
	if err := initRuntime(cfg.LibraryPath, quietLogger()); err != nil {
		t.Fatal(err)
	}
	tok, err := wordpiece.LoadTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	encs := make([]wordpiece.Encoding, len(crossTexts))
	seq := 0
	for i, s := range crossTexts {
		encs[i] = tok.Encode(s, 64)
		seq = max(seq, encs[i].Len())
	}
	ids, mask, types := make([]int64, len(encs)*seq), make([]int64, len(encs)*seq), make([]int64, len(encs)*seq)
	for i := range encs {
		encs[i] = tok.Pad(encs[i], seq)
		for j := range seq {
			ids[i*seq+j] = int64(encs[i].IDs[j])
			mask[i*seq+j] = int64(encs[i].AttentionMask[j])
			types[i*seq+j] = int64(encs[i].TypeIDs[j])
		}
	}
	shape := ort.NewShape(int64(len(encs)), int64(seq))
	var ins []ort.Value
	for _, d := range [][]int64{ids, mask, types} {
		v, err := ort.NewTensor(shape, d)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Destroy()
		ins = append(ins, v)
	}
	opts, err := sessionOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	s, err := ort.NewDynamicAdvancedSession(filepath.Join(dir, bert.ONNXFile),
		[]string{bert.InputIDs, bert.InputMask, bert.InputTypeIDs},
		[]string{bert.OutputHidden, bert.OutputPooled}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	outs := []ort.Value{nil, nil}
	if err := s.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	defer outs[0].Destroy()
	defer outs[1].Destroy()
	hidden := outs[0].(*ort.Tensor[float32]).GetData()
	pooled := outs[1].(*ort.Tensor[float32]).GetData()
	h := w.Config.HiddenSize
	var worst float64
	for i, e := range encs {
		ref, err := w.Forward(bert.Input{IDs: e.IDs, TypeIDs: e.TypeIDs, Mask: e.AttentionMask})
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, maxAbsDiff(t, hidden[i*seq*h:(i+1)*seq*h], ref.Hidden))
		worst = max(worst, maxAbsDiff(t, pooled[i*h:(i+1)*h], ref.Pooled))
	}
	t.Logf("max |ORT - Go| over %d×%d×%d hidden + pooled: %.2e", len(encs), seq, h, worst)
	if worst > tolerance {
		t.Fatalf("max |Δ| = %g > %g", worst, tolerance)
	}
}

// goEmbedding pools and normalises the Go forward pass like Embedder does.
func goEmbedding(t *testing.T, w *bert.Weights, e wordpiece.Encoding, mode string) []float32 {
	t.Helper()
	ref, err := w.Forward(bert.Input{IDs: e.IDs, TypeIDs: e.TypeIDs, Mask: e.AttentionMask})
	if err != nil {
		t.Fatal(err)
	}
	h := w.Config.HiddenSize
	v := make([]float64, h)
	if mode == PoolCLS {
		for j := range v {
			v[j] = float64(ref.Hidden[j])
		}
	} else {
		for s := range e.Len() {
			for j := range v {
				v[j] += float64(ref.Hidden[s*h+j]) / float64(e.Len())
			}
		}
	}
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	out := make([]float32, h)
	for j := range v {
		out[j] = float32(v[j] / math.Sqrt(ss))
	}
	return out
}

// TestEmbedderMatchesGo checks pooled, normalised vectors from the full
// pipeline (prefixes, length sorting, batching with padding) against the Go
// forward pass on each text alone, for both pooling modes.
func TestEmbedderMatchesGo(t *testing.T) {
	cfg := testConfig(t)
	tj := tokenizerPath(t)
	for _, mode := range []string{PoolCLS, PoolMean} {
		t.Run(mode, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bge-tiny-en")
			w, err := BuildRandomModel(dir, RandomModelOptions{Seed: 2, TokenizerJSON: tj, Pooling: mode, MaxSeqLength: 40})
			if err != nil {
				t.Fatal(err)
			}
			c := cfg
			c.BatchSize = 2 // several batches of different padded lengths
			e, err := NewEmbedder(dir, c)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			info := e.Info()
			if info.ID != "bge-tiny-en" || info.Dims != 64 || info.MaxTokens != 40 || !info.Normalized ||
				info.QueryPrefix != BGEQueryPrefix || info.PassagePrefix != "" || e.Pooling() != mode {
				t.Fatalf("info = %+v pooling %s", info, e.Pooling())
			}
			long := ""
			for range 100 {
				long += "aerodynamic "
			}
			texts := append([]string{long}, crossTexts...)
			for _, kind := range []embed.Kind{embed.Query, embed.Passage} {
				got, err := e.Embed(context.Background(), kind, texts)
				if err != nil {
					t.Fatal(err)
				}
				encs := e.Encode(kind, texts)
				if !encs[0].Truncated || encs[0].Len() != 40 {
					t.Fatalf("long text: %d tokens, truncated=%v", encs[0].Len(), encs[0].Truncated)
				}
				if kind == embed.Query && encs[1].Tokens[1] != "represent" {
					t.Fatalf("query prefix not applied: %v", encs[1].Tokens[:4])
				}
				var worst float64
				for i, enc := range encs {
					worst = max(worst, maxAbsDiff(t, got[i], goEmbedding(t, w, enc, mode)))
				}
				t.Logf("%s %s: max |Δ| = %.2e", mode, kind, worst)
				if worst > tolerance {
					t.Fatalf("max |Δ| = %g > %g", worst, tolerance)
				}
			}
		})
	}
}

// TestRerankerMatchesGo checks cross-encoder logits against the Go
// classification head.
func TestRerankerMatchesGo(t *testing.T) {
	cfg := testConfig(t)
	dir := filepath.Join(t.TempDir(), "reranker")
	bc := bert.TinyConfig()
	bc.NumLabels = 1
	w, err := BuildRandomModel(dir, RandomModelOptions{Config: bc, Seed: 3, TokenizerJSON: tokenizerPath(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BatchSize = 3
	r, err := NewReranker(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	query := "how is heat transfer measured in hypersonic flow"
	got, err := r.Rerank(context.Background(), query, crossTexts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := wordpiece.LoadTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	distinct := map[float32]bool{}
	for i, p := range crossTexts {
		e := tok.EncodePair(query, p, 128)
		ref, err := w.Forward(bert.Input{IDs: e.IDs, TypeIDs: e.TypeIDs, Mask: e.AttentionMask})
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, maxAbsDiff(t, got[i:i+1], ref.Logits))
		distinct[got[i]] = true
	}
	t.Logf("reranker logits %v, max |Δ| = %.2e", got, worst)
	if worst > tolerance {
		t.Fatalf("max |Δ| = %g > %g", worst, tolerance)
	}
	if len(distinct) != len(crossTexts) {
		t.Fatalf("logits not distinct per passage: %v", got)
	}
}
