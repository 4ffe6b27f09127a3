package state_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/aisearch/state/statetest"
	"github.com/ragd/ragd/data"
)

func TestFileStore(t *testing.T) {
	t.Run("memory", func(t *testing.T) { statetest.Run(t, state.NewFileStore(""), "") })
	dir := t.TempDir()
	t.Run("files", func(t *testing.T) { statetest.Run(t, state.NewFileStore(dir), "") })
	// a new process reads what the last one saved, as version 1
	b, err := os.ReadFile(filepath.Join(dir, "state-one.json"))
	if err != nil || string(b) != `{"a":2}` {
		t.Fatalf("file: %q %v", b, err)
	}
	s := state.NewFileStore(dir)
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
