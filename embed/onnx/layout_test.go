package onnx

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/bert"
)

// writeVocabTxt turns tokenizer.json's WordPiece vocabulary into vocab.txt.
func writeVocabTxt(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tj struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &tj); err != nil {
		t.Fatal(err)
	}
	lines := make([]string, len(tj.Model.Vocab))
	for tok, id := range tj.Model.Vocab {
		lines[id] = tok
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestModelLayouts loads the same weights from the directory variants
// Hugging Face repositories use and expects the same vectors from each.
func TestModelLayouts(t *testing.T) {
	cfg := testConfig(t)
	texts := []string{"Shock waves at Mach 3.", "", "boundary-layer transition on a flat plate"}
	ref, err := NewEmbedder(tinyDir(t, RandomModelOptions{Seed: 4, Pooling: PoolMean}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	want, err := ref.Embed(context.Background(), embed.Passage, texts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   RandomModelOptions
		modify func(t *testing.T, dir string)
		check  func(t *testing.T, e *Embedder)
	}{
		{"vocab.txt instead of tokenizer.json", RandomModelOptions{Seed: 4, Pooling: PoolMean},
			func(t *testing.T, dir string) {
				writeVocabTxt(t, dir)
				rm(t, dir, "tokenizer.json")
				write(t, dir, "tokenizer_config.json", `{"do_lower_case": true, "model_max_length": 512}`)
			}, nil},
		{"model.onnx at the root", RandomModelOptions{Seed: 4, Pooling: PoolMean},
			func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, bert.ONNXFile), filepath.Join(dir, "model.onnx")); err != nil {
					t.Fatal(err)
				}
			}, nil},
		{"no sentence-transformers files: mean pooling", RandomModelOptions{Seed: 4}, nil,
			func(t *testing.T, e *Embedder) {
				if e.Pooling() != PoolMean || e.Info().MaxTokens != 128 {
					t.Fatalf("pooling %s, max tokens %d", e.Pooling(), e.Info().MaxTokens)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tinyDir(t, tc.opts)
			if tc.modify != nil {
				tc.modify(t, dir)
			}
			e, err := NewEmbedder(dir, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if tc.check != nil {
				tc.check(t, e)
			}
			got, err := e.Embed(context.Background(), embed.Passage, texts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if d := maxAbsDiff(t, got[i], want[i]); d > tolerance {
					t.Fatalf("text %d differs by %g", i, d)
				}
			}
		})
	}
}

// TestConfigOverrides checks that Config beats the model directory.
func TestConfigOverrides(t *testing.T) {
	cfg := testConfig(t)
	dir := tinyDir(t, RandomModelOptions{Seed: 5, Pooling: PoolMean})
	c := cfg
	c.Pooling, c.MaxTokens, c.SkipNormalize, c.ID, c.Prefixes = PoolCLS, 16, true, "custom", "e5"
	e, err := NewEmbedder(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	info := e.Info()
	if e.Pooling() != PoolCLS || info.MaxTokens != 16 || info.Normalized || info.ID != "custom" ||
		info.QueryPrefix != E5QueryPrefix || info.PassagePrefix != E5PassagePrefix {
		t.Fatalf("info %+v pooling %s", info, e.Pooling())
	}
	q := e.Encode(embed.Query, []string{"wing"})[0]
	p := e.Encode(embed.Passage, []string{"wing"})[0]
	if !slices.Equal(q.Tokens, []string{"[CLS]", "query", ":", "wing", "[SEP]"}) ||
		!slices.Equal(p.Tokens, []string{"[CLS]", "passage", ":", "wing", "[SEP]"}) {
		t.Fatalf("prefixed tokens %v / %v", q.Tokens, p.Tokens)
	}
	v, err := e.Embed(context.Background(), embed.Passage, []string{strings.Repeat("lift ", 50)})
	if err != nil {
		t.Fatal(err)
	}
	var ss float64
	for _, x := range v[0] {
		ss += float64(x) * float64(x)
	}
	if ss > 0.99 && ss < 1.01 {
		t.Fatalf("SkipNormalize ignored: |v|² = %g", ss)
	}
}
