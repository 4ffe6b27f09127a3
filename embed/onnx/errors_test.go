package onnx

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/bert"
)

// tinyDir builds a tiny mean-pooled model once per test.
func tinyDir(t *testing.T, opts RandomModelOptions) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "m")
	if opts.TokenizerJSON == "" {
		opts.TokenizerJSON = tokenizerPath(t)
	}
	if _, err := BuildRandomModel(dir, opts); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBadModelDirs(t *testing.T) {
	cfg := testConfig(t)
	tests := []struct {
		name    string
		breakIt func(t *testing.T, dir string) string // returns the dir to load
		want    error
		msg     string
	}{
		{"missing dir", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") },
			embed.ErrModelNotFound, "does not exist"},
		{"missing config", func(t *testing.T, dir string) string { rm(t, dir, "config.json"); return dir },
			embed.ErrBadModel, "config.json"},
		{"corrupt config", func(t *testing.T, dir string) string { write(t, dir, "config.json", "{hidden"); return dir },
			embed.ErrBadModel, "config.json"},
		{"no hidden size", func(t *testing.T, dir string) string { write(t, dir, "config.json", "{}"); return dir },
			embed.ErrBadModel, "hidden_size"},
		{"missing onnx", func(t *testing.T, dir string) string { rm(t, dir, bert.ONNXFile); return dir },
			embed.ErrBadModel, "model.onnx"},
		{"corrupt onnx", func(t *testing.T, dir string) string {
			write(t, dir, bert.ONNXFile, "not a protobuf \x00\xff")
			return dir
		},
			embed.ErrBadModel, "cannot load"},
		{"missing tokenizer", func(t *testing.T, dir string) string { rm(t, dir, "tokenizer.json"); return dir },
			embed.ErrBadModel, "tokenizer.json"},
		{"corrupt tokenizer", func(t *testing.T, dir string) string { write(t, dir, "tokenizer.json", "[1,2"); return dir },
			embed.ErrBadModel, "tokenizer"},
		{"output width mismatch", func(t *testing.T, dir string) string {
			c := bert.TinyConfig()
			c.HiddenSize = 128
			if err := bert.WriteConfig(filepath.Join(dir, "config.json"), c); err != nil {
				t.Fatal(err)
			}
			return dir
		}, embed.ErrBadModel, "hidden_size is 128"},
		{"max pooling", func(t *testing.T, dir string) string {
			write(t, dir, "1_Pooling/config.json", `{"pooling_mode_max_tokens": true}`)
			return dir
		}, embed.ErrBadModel, "pooling"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.breakIt(t, tinyDir(t, RandomModelOptions{Pooling: PoolMean}))
			e, err := NewEmbedder(dir, cfg)
			if err == nil {
				e.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadConfigAndRuntime(t *testing.T) {
	cfg := testConfig(t)
	dir := tinyDir(t, RandomModelOptions{})
	tests := []struct {
		name string
		mod  func(*Config)
		want error
		msg  string
	}{
		{"missing library", func(c *Config) { c.LibraryPath = filepath.Join(t.TempDir(), "libonnxruntime.so.1") },
			ErrRuntime, "scripts/setup.sh"},
		{"unknown device", func(c *Config) { c.Device = "tpu" }, ErrConfig, "tpu"},
		{"unknown pooling", func(c *Config) { c.Pooling = "max" }, ErrConfig, "max"},
		{"unknown prefixes", func(c *Config) { c.Prefixes = "instructor" }, ErrConfig, "instructor"},
		{"cuda without provider", func(c *Config) { c.Device = DeviceCUDA }, ErrCUDA, cudaProviderLib},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			tc.mod(&c)
			e, err := NewEmbedder(dir, c)
			if err == nil {
				e.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestRerankerRejectsNonRerankers(t *testing.T) {
	cfg := testConfig(t)
	t.Run("embedding model", func(t *testing.T) {
		_, err := NewReranker(tinyDir(t, RandomModelOptions{}), cfg)
		if !errors.Is(err, embed.ErrBadModel) || !strings.Contains(err.Error(), "rank 2") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("two labels", func(t *testing.T) {
		c := bert.TinyConfig()
		c.NumLabels = 2
		_, err := NewReranker(tinyDir(t, RandomModelOptions{Config: c}), cfg)
		if !errors.Is(err, embed.ErrBadModel) || !strings.Contains(err.Error(), "2 labels") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestEmbedEdgeCases(t *testing.T) {
	cfg := testConfig(t)
	e, err := NewEmbedder(tinyDir(t, RandomModelOptions{Pooling: PoolCLS}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()

	got, err := e.Embed(ctx, embed.Passage, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty list: %v, %v", got, err)
	}

	// A text far beyond the model's 128 positions is truncated, not an error.
	huge := strings.Repeat("boundary layer transition ", 5000)
	vs, err := e.Embed(ctx, embed.Passage, []string{"", huge, "  "})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if len(v) != 64 {
			t.Fatalf("vector %d has %d dims", i, len(v))
		}
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if ss < 0.999 || ss > 1.001 {
			t.Fatalf("vector %d not unit length: %g", i, ss)
		}
	}
	// "" and "  " both tokenize to [CLS] [SEP].
	if d := maxAbsDiff(t, vs[0], vs[2]); d > tolerance {
		t.Fatalf("empty and blank texts differ by %g", d)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Embed(cancelled, embed.Passage, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}

	// Concurrent callers get the same vectors as a single caller.
	texts := []string{"wing", "a longer sentence about wings and flow", "shock"}
	want, err := e.Embed(ctx, embed.Query, texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for g := range errs {
		wg.Go(func() {
			got, err := e.Embed(ctx, embed.Query, texts)
			if err != nil {
				errs[g] = err
				return
			}
			for i := range got {
				if d := maxAbsDiff(t, got[i], want[i]); d > 1e-6 {
					errs[g] = errors.New("concurrent result differs")
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestUseAfterClose(t *testing.T) {
	cfg := testConfig(t)
	e, err := NewEmbedder(tinyDir(t, RandomModelOptions{}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Embed(context.Background(), embed.Passage, []string{"x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Embed after Close: %v", err)
	}
}

func TestPrefixes(t *testing.T) {
	tests := []struct {
		cfg  Config
		id   string
		q, p string
	}{
		{Config{}, "bge-small-en-v1.5", BGEQueryPrefix, ""},
		{Config{}, "e5-small-v2", E5QueryPrefix, E5PassagePrefix},
		{Config{}, "multilingual-e5-base", E5QueryPrefix, E5PassagePrefix},
		{Config{}, "all-MiniLM-L6-v2", "", ""},
		{Config{Prefixes: "none"}, "bge-base-en", "", ""},
		{Config{Prefixes: "e5"}, "my-model", E5QueryPrefix, E5PassagePrefix},
		{Config{Prefixes: "bge", QueryPrefix: "q: "}, "x", "q: ", ""},
	}
	for _, tc := range tests {
		q, p := tc.cfg.prefixes(tc.id)
		if q != tc.q || p != tc.p {
			t.Errorf("%+v %s: got (%q, %q), want (%q, %q)", tc.cfg, tc.id, q, p, tc.q, tc.p)
		}
	}
}
