package cloudflare_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/data"
)

// sharedStore is a FileStore that says it is shared, as the Weaviate
// backend's store is, and can make the next saves lose to a "concurrent"
// write.
type sharedStore struct {
	*state.FileStore
	mu        sync.Mutex
	conflicts int
	loads     int // LoadState calls (whole documents fetched)
}

func (s *sharedStore) LoadState(ctx context.Context, key string) ([]byte, uint64, error) {
	s.mu.Lock()
	s.loads++
	s.mu.Unlock()
	return s.FileStore.LoadState(ctx, key)
}

func (s *sharedStore) loadCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads
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

func (s *sharedStore) loseNext(n int) {
	s.mu.Lock()
	s.conflicts = n
	s.mu.Unlock()
}

// twoReplicas mounts the routes twice on one engine and one shared state
// store, as two ragd processes on one Weaviate cluster would run.
func twoReplicas(t *testing.T) (a, b *env, store *sharedStore) {
	t.Helper()
	a = newEnv(t)
	store = &sharedStore{FileStore: state.NewFileStore("")}
	a = newEnvWith(t, a.engine, t.TempDir(), a.models, func(c *cloudflare.Config) { c.State, c.Replica = store, "a" })
	b = newEnvWith(t, a.engine, t.TempDir(), a.models, func(c *cloudflare.Config) { c.State, c.Replica = store, "b" })
	return a, b, store
}

// TestReplicasShareBookkeeping: what one replica records (Vectorize
// metadata indexes, AI Search namespaces, instances and items) the other
// serves at once.
func TestReplicasShareBookkeeping(t *testing.T) {
	a, b, store := twoReplicas(t)
	// both replicas read the documents first, so each holds a copy that
	// the other's writes make stale
	a.createIndex("films", 4, "cosine")
	a.json("GET", vpath("films", "metadata_index/list"), nil, 200)
	b.json("GET", ais+"/namespaces", nil, 200)
	b.json("POST", vpath("films", "metadata_index/create"), `{"propertyName":"genre","indexType":"string"}`, 200)
	if got := string(a.json("GET", vpath("films", "metadata_index/list"), nil, 200)); !strings.Contains(got, `"genre"`) {
		t.Fatalf("replica a does not see b's metadata index: %s", got)
	}
	a.json("POST", ais+"/namespaces", `{"name":"docs"}`, 200)
	if got := string(b.json("GET", ais+"/namespaces", nil, 200)); !strings.Contains(got, `"docs"`) {
		t.Fatalf("replica b does not list a's namespace: %s", got)
	}
	b.json("POST", ais+"/namespaces/docs/instances", `{"id":"kb","chunk_size":32,"chunk_overlap":0}`, 200)
	items := ais + "/namespaces/docs/instances/kb/items"
	it := a.upload(items, 200, formPart{name: "file", filename: "bread.md", contentType: "text/markdown", value: breadMD},
		formPart{name: "wait_for_completion", value: "true"})
	if it.Status != "completed" {
		t.Fatalf("upload on a: %+v", it)
	}
	if got := b.waitItem(items + "/" + it.ID); got.Status != "completed" || got.ChunksCount == nil || *got.ChunksCount < 1 {
		t.Fatalf("item as b sees it: %+v", got)
	}
	// reads of an unchanged document check its version only
	before := store.loadCount()
	for range 5 {
		a.json("GET", ais+"/namespaces/docs/instances/kb", nil, 200)
		b.json("GET", ais+"/namespaces", nil, 200)
	}
	if n := store.loadCount() - before; n > 1 {
		t.Fatalf("%d whole-document loads for 10 reads of an unchanged document", n)
	}
	// a deletion on one replica is gone on the other
	b.json("DELETE", ais+"/namespaces/docs/instances/kb", nil, 200)
	a.fail("GET", ais+"/namespaces/docs/instances/kb", "", "", 404, "not found")
}

// TestSharedStateConflicts: a write that loses to another replica's is
// applied again on top of it, once; one that keeps losing fails cleanly
// and changes nothing.
func TestSharedStateConflicts(t *testing.T) {
	a, b, store := twoReplicas(t)
	store.loseNext(3)
	a.json("POST", ais+"/namespaces", `{"name":"docs"}`, 200)
	if got := string(b.json("GET", ais+"/namespaces", nil, 200)); strings.Count(got, `"name":"docs"`) != 1 {
		t.Fatalf("namespaces after retried writes: %s", got)
	}
	store.loseNext(1000)
	status, env := a.do("POST", ais+"/namespaces", "application/json", `{"name":"other"}`)
	if status != 429 || len(env.Errors) == 0 || !strings.Contains(env.Errors[0].Message, "concurrently") {
		t.Fatalf("a write that always loses: %d %+v", status, env.Errors)
	}
	store.loseNext(0)
	if got := string(b.json("GET", ais+"/namespaces", nil, 200)); strings.Contains(got, `"other"`) {
		t.Fatalf("a failed write left its namespace: %s", got)
	}
	a.json("POST", ais+"/namespaces", `{"name":"other"}`, 200)
}
