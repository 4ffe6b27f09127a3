package onnx

import (
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/internal/testutil"
)

// repoRoot walks up from the package directory to the directory with go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

// tokenizerPath is the real all-MiniLM-L6-v2 tokenizer in ../shared.
func tokenizerPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "..", "shared", "fixtures", "tokenizers", "all-minilm-l6-v2.tokenizer.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared tokenizer fixture absent: %v", err)
	}
	return p
}

// libPath is the ONNX Runtime library; tests skip when it is not installed.
func libPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), DefaultLibraryPath)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("ONNX Runtime not installed (%v): run scripts/setup.sh", err)
	}
	return p
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testConfig is a CPU config using the repository's runtime.
func testConfig(t testing.TB) Config {
	return Config{LibraryPath: libPath(t), Logger: quietLogger()}
}

// maxAbsDiff returns max |a-b| over equal-length slices.
func maxAbsDiff(t testing.TB, a, b []float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("length %d vs %d", len(a), len(b))
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

const tolerance = 1e-4
