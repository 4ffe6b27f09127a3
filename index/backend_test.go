package index_test

import (
	"context"
	"testing"

	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/index/backendtest"
)

// TestEmbeddedBackendConformance runs the backend suite on the embedded
// engine (the Weaviate backend runs the same suite in index/weaviate).
func TestEmbeddedBackendConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) (index.Backend, string) {
		e, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		return e, ""
	})
}
