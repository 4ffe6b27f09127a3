package main

import (
	"testing"

	"github.com/ragd/ragd/internal/testutil"
)

// qgSharedDir is ../shared beside the repository root (the read-only test
// collections), for the tagged quality-gate and Weaviate tests.
func qgSharedDir(t *testing.T) string {
	t.Helper()
	return testutil.SharedDir(t)
}

var _ = qgSharedDir // used by the tagged test files
