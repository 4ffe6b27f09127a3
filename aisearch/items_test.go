package aisearch_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/data"
)

type fixture struct {
	t   *testing.T
	ix  *fakeIndexes
	ret *fakeRetrieval
	st  state.Store
	dir string
	svc *aisearch.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ix := newFakeIndexes()
	f := &fixture{t: t, ix: ix, ret: &fakeRetrieval{ix: ix}, st: state.NewFileStore(""), dir: t.TempDir()}
	f.svc = f.open("a")
	return f
}

// open starts a Service on the fixture's indexes, state and upload
// folder, as replica name.
func (f *fixture) open(replica string) *aisearch.Service {
	f.t.Helper()
	svc := aisearch.New(aisearch.Config{Indexes: f.ix, Retrieval: f.ret, Models: fakeModels{}, State: f.st, Dir: f.dir, Replica: replica})
	f.t.Cleanup(svc.Close)
	return svc
}

func (f *fixture) instance(ns, id string, set aisearch.Settings) aisearch.Instance {
	f.t.Helper()
	r, err := f.svc.CreateInstance(context.Background(), ns, aisearch.CreateInstanceRequest{ID: id, Settings: set})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) upload(svc *aisearch.Service, id string, u aisearch.Upload) aisearch.Item {
	f.t.Helper()
	it, err := svc.Upload(context.Background(), aisearch.DefaultNamespace, id, u)
	if err != nil {
		f.t.Fatalf("upload %s: %v", u.Key, err)
	}
	return it
}

// waitStatus polls an item until it has status want.
func waitStatus(t *testing.T, svc *aisearch.Service, id, itemID, want string) aisearch.Item {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		it, err := svc.Item(aisearch.DefaultNamespace, id, itemID)
		if err == nil && it.Status == want {
			return it
		}
		if time.Now().After(deadline) {
			t.Fatalf("item %s: status %q (%v), want %q", itemID, it.Status, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func intp(v int) *int { return &v }

// TestItemLifecycle: an upload is ingested with the instance's chunk
// settings; a new upload of the key replaces the item's documents (the
// ones it no longer has are deleted); chunks read back from the index;
// deleting the item deletes its documents.
func TestItemLifecycle(t *testing.T) {
	f := newFixture(t)
	f.instance(aisearch.DefaultNamespace, "docs", aisearch.Settings{ChunkSize: intp(64), ChunkOverlap: intp(0)})
	it := f.upload(f.svc, "docs", aisearch.Upload{Key: "faq.jsonl", Wait: true, Metadata: map[string]any{"team": "a"},
		Body: []byte(`{"id":"1","text":"one\n\ntwo"}` + "\n" + `{"id":"2","text":"three"}` + "\n")})
	if it.Status != aisearch.ItemCompleted || it.Chunks == nil || *it.Chunks != 3 || it.Format != "jsonl" {
		t.Fatalf("first upload: %+v", it)
	}
	calls := f.ret.ingestCalls()
	if len(calls) != 1 || calls[0].index != "docs" || !slices.Equal(calls[0].ids, []string{"faq.jsonl/1", "faq.jsonl/2"}) ||
		calls[0].opts.Chunk.Size != 64 || calls[0].opts.Chunk.Overlap != -1 || !calls[0].opts.Force {
		t.Fatalf("ingest calls: %+v", calls)
	}
	d, err := f.ix.Document(context.Background(), "docs", "faq.jsonl/1")
	if err != nil || d.Metadata["team"] != "a" || d.Source != "faq.jsonl" {
		t.Fatalf("document: %+v %v", d, err)
	}
	chunks, err := f.svc.ItemChunks(context.Background(), aisearch.DefaultNamespace, "docs", it.ID, 1, 10)
	if err != nil || len(chunks) != 2 || chunks[0].Text != "two" || chunks[1].Text != "three" || chunks[0].Key != "faq.jsonl" {
		t.Fatalf("chunks after offset 1: %+v %v", chunks, err)
	}
	again := f.upload(f.svc, "docs", aisearch.Upload{Key: "faq.jsonl", Wait: true, Body: []byte(`{"id":"2","text":"three again"}` + "\n")})
	if again.ID != it.ID || again.Generation != 2 || *again.Chunks != 1 {
		t.Fatalf("second upload of the key: %+v", again)
	}
	if ids := f.ix.ids("docs"); !slices.Equal(ids, []string{"faq.jsonl/2"}) {
		t.Fatalf("documents after the second upload: %v", ids)
	}
	if calls := f.ret.ingestCalls(); calls[1].opts.Force {
		t.Fatalf("second upload forced a rewrite at unchanged chunk settings: %+v", calls[1])
	}
	st, err := f.svc.Stats(context.Background(), aisearch.DefaultNamespace, "docs")
	if err != nil || st.Completed != 1 || st.Files != 1 || st.Vectors != 1 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if _, err := f.svc.DeleteItem(context.Background(), aisearch.DefaultNamespace, "docs", it.ID); err != nil {
		t.Fatal(err)
	}
	if ids := f.ix.ids("docs"); len(ids) != 0 {
		t.Fatalf("documents after delete: %v", ids)
	}
	if _, err := f.svc.Item(aisearch.DefaultNamespace, "docs", it.ID); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("deleted item: %v", err)
	}
}

// TestUnchangedUploadSkipsWork: a new upload of unchanged content is not
// chunked or embedded again (the retrieval service skips it by hash) and
// keeps its chunk count; changed metadata or changed chunk settings of
// the instance make it chunk again.
func TestUnchangedUploadSkipsWork(t *testing.T) {
	f := newFixture(t)
	f.instance(aisearch.DefaultNamespace, "docs", aisearch.Settings{})
	body := []byte("first part\n\nsecond part")
	up := func(meta map[string]any) aisearch.Item {
		return f.upload(f.svc, "docs", aisearch.Upload{Key: "a.txt", Body: body, Wait: true, Metadata: meta})
	}
	up(nil)
	it := up(nil)
	calls := f.ret.ingestCalls()
	if it.Status != aisearch.ItemCompleted || *it.Chunks != 2 || len(calls) != 2 || !slices.Equal(calls[1].skipped, []string{"a.txt"}) {
		t.Fatalf("unchanged upload: %+v, calls %+v", it, calls)
	}
	up(map[string]any{"team": "b"})
	if calls := f.ret.ingestCalls(); len(calls[2].skipped) != 0 {
		t.Fatalf("changed metadata was skipped: %+v", calls[2])
	}
	var upd aisearch.UpdateInstanceRequest
	upd.ChunkSize = intp(64)
	if _, err := f.svc.UpdateInstance(aisearch.DefaultNamespace, "docs", upd); err != nil {
		t.Fatal(err)
	}
	it = up(map[string]any{"team": "b"})
	if calls := f.ret.ingestCalls(); !calls[3].opts.Force || calls[3].opts.Chunk.Size != 64 || *it.Chunks != 2 {
		t.Fatalf("after a chunk size change: %+v, item %+v", calls[3], it)
	}
}

// TestUploadRefuses: bad keys, empty files, unknown instances.
func TestUploadRefuses(t *testing.T) {
	f := newFixture(t)
	f.instance(aisearch.DefaultNamespace, "docs", aisearch.Settings{})
	for _, tc := range []struct {
		id   string
		u    aisearch.Upload
		want error
	}{
		{"docs", aisearch.Upload{Key: "", Body: []byte("x")}, data.ErrInvalid},
		{"docs", aisearch.Upload{Key: "a\x00b", Body: []byte("x")}, data.ErrInvalid},
		{"docs", aisearch.Upload{Key: "empty.txt", Body: []byte("  \n")}, data.ErrInvalid},
		{"ghost", aisearch.Upload{Key: "a.txt", Body: []byte("x")}, data.ErrNotFound},
	} {
		if _, err := f.svc.Upload(context.Background(), aisearch.DefaultNamespace, tc.id, tc.u); !errors.Is(err, tc.want) {
			t.Errorf("upload %q to %s: %v, want %v", tc.u.Key, tc.id, err, tc.want)
		}
	}
	if ids := f.ix.ids("docs"); len(ids) != 0 || len(f.ret.ingestCalls()) != 0 {
		t.Fatalf("a refused upload was ingested: %v", ids)
	}
}

// TestQueueResumesAfterClose: Close cancels the item being indexed and
// leaves it queued with its upload; the next Service of the same replica
// indexes it, another replica's Service leaves it alone.
func TestQueueResumesAfterClose(t *testing.T) {
	f := newFixture(t)
	f.instance(aisearch.DefaultNamespace, "docs", aisearch.Settings{})
	f.ret.mu.Lock()
	f.ret.block = make(chan struct{})
	f.ret.mu.Unlock()
	it := f.upload(f.svc, "docs", aisearch.Upload{Key: "a.txt", Body: []byte("queued text")})
	if it.Status != aisearch.ItemQueued {
		t.Fatalf("upload without wait: %q", it.Status)
	}
	waitStatus(t, f.svc, "docs", it.ID, aisearch.ItemRunning)
	f.svc.Close()
	f.svc.Close() // twice is fine
	b := f.open("b")
	if got, _ := b.Item(aisearch.DefaultNamespace, "docs", it.ID); got.Status != aisearch.ItemQueued {
		t.Fatalf("after Close: %q, want queued", got.Status)
	}
	f.ret.mu.Lock()
	f.ret.block = nil
	f.ret.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	if got, _ := b.Item(aisearch.DefaultNamespace, "docs", it.ID); got.Status != aisearch.ItemQueued {
		t.Fatalf("replica b took replica a's item: %q", got.Status)
	}
	b.Close()
	a := f.open("a")
	done := waitStatus(t, a, "docs", it.ID, aisearch.ItemCompleted)
	if *done.Chunks != 1 || !slices.Equal(f.ix.ids("docs"), []string{"a.txt"}) {
		t.Fatalf("resumed item: %+v, documents %v", done, f.ix.ids("docs"))
	}
}

// TestItemFailure: an ingest failure marks the item as failed with the
// error, and stats count it.
func TestItemFailure(t *testing.T) {
	f := newFixture(t)
	f.instance(aisearch.DefaultNamespace, "docs", aisearch.Settings{})
	if err := f.ix.DropIndex(context.Background(), "docs"); err != nil {
		t.Fatal(err)
	}
	it := f.upload(f.svc, "docs", aisearch.Upload{Key: "a.md", Body: []byte("# t\n\ntext"), Wait: true})
	if it.Status != aisearch.ItemError || it.Error == "" {
		t.Fatalf("item: %+v", it)
	}
	items, err := f.svc.Items(aisearch.DefaultNamespace, "docs", aisearch.ItemFilter{Status: aisearch.ItemError})
	if err != nil || len(items) != 1 {
		t.Fatalf("error items: %v %v", items, err)
	}
	if _, err := f.svc.Items(aisearch.DefaultNamespace, "docs", aisearch.ItemFilter{Status: "bogus"}); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("bad status filter: %v", err)
	}
}
