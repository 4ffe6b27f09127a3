// Package testutil holds helpers shared by the repository's tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the repository root: the nearest folder at or above
// the working directory (a test runs in its package's folder) that holds
// go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod at or above the test's folder")
		}
		dir = parent
	}
}

// SharedDir returns ../shared beside the repository root: the read-only
// test collections, models and references.
func SharedDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(filepath.Dir(RepoRoot(t)), "shared")
}
