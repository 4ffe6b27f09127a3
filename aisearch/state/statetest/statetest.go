// Package statetest is the conformance suite every state.Store passes (the
// file store here, the Weaviate backend in its live tests).
package statetest

import (
	"context"
	"errors"
	"testing"

	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/data"
)

// Run checks a state.Store: absent keys, versioned saves,
// stale saves refused with data.ErrConflict and leaving the document as it
// was, and independent keys. Keys are prefix + a name, so that runs in a
// shared cluster do not meet.
func Run(t *testing.T, s state.Store, prefix string) {
	t.Helper()
	ctx := context.Background()
	k1, k2 := prefix+"state-one", prefix+"state-two"
	v, ver, err := s.LoadState(ctx, k1)
	if err != nil || v != nil || ver != 0 {
		t.Fatalf("absent key: %q %d %v", v, ver, err)
	}
	ver1, err := s.SaveState(ctx, k1, []byte(`{"a":1}`), 0)
	if err != nil || ver1 == 0 {
		t.Fatalf("first save: %d %v", ver1, err)
	}
	if _, err := s.SaveState(ctx, k1, []byte(`{"a":"stale"}`), 0); !errors.Is(err, data.ErrConflict) {
		t.Fatalf("save over a stale version: %v, want ErrConflict", err)
	}
	v, ver, err = s.LoadState(ctx, k1)
	if err != nil || string(v) != `{"a":1}` || ver != ver1 {
		t.Fatalf("after the refused save: %q %d %v", v, ver, err)
	}
	ver2, err := s.SaveState(ctx, k1, []byte(`{"a":2}`), ver1)
	if err != nil || ver2 <= ver1 {
		t.Fatalf("second save: %d %v", ver2, err)
	}
	if v, err := s.StateVersion(ctx, k1); err != nil || v != ver2 {
		t.Fatalf("StateVersion: %d %v, want %d", v, err, ver2)
	}
	if v, err := s.StateVersion(ctx, prefix+"state-absent"); err != nil || v != 0 {
		t.Fatalf("StateVersion of an absent key: %d %v", v, err)
	}
	if _, ver, _ := s.LoadState(ctx, k2); ver != 0 {
		t.Fatalf("another key has version %d", ver)
	}
	if _, err := s.SaveState(ctx, k2, []byte(`{}`), 0); err != nil {
		t.Fatal(err)
	}
	v, ver, err = s.LoadState(ctx, k1)
	if err != nil || string(v) != `{"a":2}` || ver != ver2 {
		t.Fatalf("after saving another key: %q %d %v", v, ver, err)
	}
}
