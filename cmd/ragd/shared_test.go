package main

import (
	"os"
	"path/filepath"
	"testing"
)

// qgSharedDir is ../shared beside the repository root (the read-only test
// collections), for the tagged quality-gate and Weaviate tests.
func qgSharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root not found")
		}
		dir = parent
	}
}

var _ = qgSharedDir // used by the tagged test files
