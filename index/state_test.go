package index_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/index/backendtest"
)

func TestFileStateStore(t *testing.T) {
	t.Run("memory", func(t *testing.T) { backendtest.RunStateStore(t, index.NewFileStateStore(""), "") })
	dir := t.TempDir()
	t.Run("files", func(t *testing.T) { backendtest.RunStateStore(t, index.NewFileStateStore(dir), "") })
	// a new process reads what the last one saved, as version 1
	b, err := os.ReadFile(filepath.Join(dir, "state-one.json"))
	if err != nil || string(b) != `{"a":2}` {
		t.Fatalf("file: %q %v", b, err)
	}
	s := index.NewFileStateStore(dir)
	v, ver, err := s.LoadState(context.Background(), "state-one")
	if err != nil || string(v) != `{"a":2}` || ver != 1 {
		t.Fatalf("reloaded: %q %d %v", v, ver, err)
	}
	for _, k := range []string{"", "../x", "a/b", ".hidden"} {
		if _, _, err := s.LoadState(context.Background(), k); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("key %q: %v, want ErrInvalid", k, err)
		}
	}
}
