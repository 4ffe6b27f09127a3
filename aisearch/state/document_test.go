package state_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/data"
)

// sharedStore is a FileStore that says it is shared and can make the next
// saves lose to a "concurrent" write.
type sharedStore struct {
	*state.FileStore
	mu        sync.Mutex
	conflicts int
}

func (s *sharedStore) Shared() bool { return true }

func (s *sharedStore) SaveState(ctx context.Context, key string, value []byte, prev uint64) (uint64, error) {
	s.mu.Lock()
	lose := s.conflicts > 0
	if lose {
		s.conflicts--
	}
	s.mu.Unlock()
	if lose {
		return 0, fmt.Errorf("state %s: %w", key, data.ErrConflict)
	}
	return s.FileStore.SaveState(ctx, key, value, prev)
}

func newCounter(s state.Store) *state.Doc[map[string]int] {
	return state.NewDoc(s, "counter", nil, func(m *map[string]int) {
		if *m == nil {
			*m = map[string]int{}
		}
	})
}

func get(d *state.Doc[map[string]int], k string) int {
	var n int
	d.Read(func(m *map[string]int) { n = (*m)[k] })
	return n
}

// TestDocSharedWriters: two documents over one shared store see each
// other's updates, a conflicting save is retried on the newer value, and
// a document that keeps conflicting gives up with data.ErrOverloaded,
// leaving the value as it was.
func TestDocSharedWriters(t *testing.T) {
	s := &sharedStore{FileStore: state.NewFileStore("")}
	a, b := newCounter(s), newCounter(s)
	inc := func(d *state.Doc[map[string]int]) error {
		return d.Update(func(m *map[string]int) error { (*m)["n"]++; return nil })
	}
	if err := inc(a); err != nil {
		t.Fatal(err)
	}
	if got := get(b, "n"); got != 1 {
		t.Fatalf("b reads %d, want 1", got)
	}
	s.conflicts = 2
	if err := inc(b); err != nil {
		t.Fatalf("update after two conflicts: %v", err)
	}
	if got := get(a, "n"); got != 2 {
		t.Fatalf("a reads %d after b's retried update, want 2", got)
	}
	s.conflicts = 100
	if err := inc(a); !errors.Is(err, data.ErrOverloaded) {
		t.Fatalf("update that always conflicts: %v, want ErrOverloaded", err)
	}
	s.conflicts = 0
	if got := get(b, "n"); got != 2 {
		t.Fatalf("after the failed update: %d, want 2", got)
	}
	refused := errors.New("refused")
	if err := a.Update(func(m *map[string]int) error { (*m)["n"] = 99; return refused }); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	if got := get(a, "n"); got != 2 {
		t.Fatalf("an update that failed changed the copy: %d", got)
	}
}

// TestDocCorrupt: a document that is not valid JSON starts as fix(zero).
func TestDocCorrupt(t *testing.T) {
	s := state.NewFileStore("")
	if _, err := s.SaveState(context.Background(), "counter", []byte("{not json"), 0); err != nil {
		t.Fatal(err)
	}
	d := newCounter(s)
	if got := get(d, "n"); got != 0 {
		t.Fatalf("corrupt document reads %d", got)
	}
	if err := d.Update(func(m *map[string]int) error { (*m)["n"] = 5; return nil }); err != nil {
		t.Fatalf("update over a corrupt document: %v", err)
	}
	b, _, _ := s.LoadState(context.Background(), "counter")
	if string(b) != `{"n":5}` {
		t.Fatalf("saved %s", b)
	}
}
