package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
)

func TestSnapshotRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := fakeEmbedder{dims: 16}
	e, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e.CreateIndex(ctx, data.IndexConfig{Name: "v", Model: "fake"})
	e.PutDocuments(ctx, "v", vecCorpus(f), false)
	snap := filepath.Join(t.TempDir(), "snap")
	man, err := e.Snapshot(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	if man.Indexes["v"] == 0 {
		t.Fatalf("manifest %+v", man)
	}
	if _, err := e.Snapshot(ctx, snap); !errors.Is(err, data.ErrExists) {
		t.Fatalf("second snapshot into the same dir: %v", err)
	}
	// Changes after the snapshot are undone by the restore.
	e.DeleteDocuments(ctx, "v", []string{"bread"})
	e.PutDocuments(ctx, "v", []data.Document{doc("later", "", "written after the snapshot")}, false)
	if _, err := RestoreSnapshot(snap, dir); err == nil {
		t.Fatal("restore must refuse while the engine holds the store")
	}
	e.Close()
	if _, err := RestoreSnapshot(snap, dir); err != nil {
		t.Fatal(err)
	}
	e, err = Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Document(ctx, "v", "bread"); err != nil {
		t.Fatalf("bread should be back: %v", err)
	}
	if _, err := e.Document(ctx, "v", "later"); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("later should be gone: %v", err)
	}
	hits, err := e.Search(ctx, "v", data.Query{Text: "sourdough starter", Vector: f.vec("sourdough starter"), Mode: data.ModeHybrid})
	if err != nil || len(hits) == 0 || hits[0].DocID != "bread" {
		t.Fatalf("search after restore: %+v %v", hits, err)
	}
	rep, err := e.Check(ctx, "v")
	if err != nil || !rep.OK() {
		t.Fatalf("check after restore: %+v %v", rep, err)
	}
	if _, err := RestoreSnapshot(t.TempDir(), dir); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("restore from a non-snapshot: %v", err)
	}
}

// openSnapEngine opens an engine with n indexes (vector indexes on a fake
// model), each holding the small vector corpus.
func openSnapEngine(t *testing.T, n int) (*Engine, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := fakeEmbedder{dims: 16}
	e, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() { // after a deadlock Close would wait forever
			e.Close()
		}
	})
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("ix%d", i)
		if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: name, Model: "fake"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.PutDocuments(ctx, name, vecCorpus(f), false); err != nil {
			t.Fatal(err)
		}
	}
	return e, dir
}

// TestConcurrentSnapshotsWithWrites runs six snapshots at once on five
// indexes while documents are written to each: every call returns within
// the deadline (before the fix, snapshots took the write locks in map
// order and two of them could each hold a lock the other waited for,
// freezing every later write), every snapshot is complete and nothing
// half-written is left behind.
func TestConcurrentSnapshotsWithWrites(t *testing.T) {
	e, _ := openSnapEngine(t, 5)
	parent := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Snapshot(ctx, filepath.Join(parent, fmt.Sprintf("s%d", i)))
			errs <- err
		}()
	}
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 4; j++ {
				_, err := e.PutDocuments(ctx, fmt.Sprintf("ix%d", i), []data.Document{doc(fmt.Sprintf("w%d", j), "", "written during snapshots")}, false)
				errs <- err
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("snapshots and writes did not finish in 30s: deadlock")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(parent)
	if len(ents) != 6 {
		t.Fatalf("want 6 snapshot folders, got %d", len(ents))
	}
	for _, ent := range ents {
		if _, err := os.Stat(filepath.Join(parent, ent.Name(), "manifest.json")); err != nil {
			t.Fatalf("snapshot %s incomplete: %v", ent.Name(), err)
		}
	}
}

// TestSnapshotWaitIsBounded: a snapshot that cannot get an index's write
// lock in time fails with ErrUnavailable, leaves no folder, and writes go
// on afterwards.
func TestSnapshotWaitIsBounded(t *testing.T) {
	e, _ := openSnapEngine(t, 3)
	ctx := context.Background()
	n, err := e.get("ix1")
	if err != nil {
		t.Fatal(err)
	}
	n.wmu.Lock() // a write that does not finish
	dir := filepath.Join(t.TempDir(), "snaps", "one")
	_, err = e.SnapshotWith(ctx, dir, SnapshotOptions{Wait: 50 * time.Millisecond})
	n.wmu.Unlock()
	if !errors.Is(err, data.ErrUnavailable) || !strings.Contains(err.Error(), `"ix1"`) {
		t.Fatalf("want ErrUnavailable naming ix1, got %v", err)
	}
	for _, p := range []string{dir, dir + partialSuffix} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left behind: %v", p, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, name := range []string{"ix0", "ix1", "ix2"} {
		if _, err := e.PutDocuments(wctx, name, []data.Document{doc("after", "", "written after the failed snapshot")}, false); err != nil {
			t.Fatalf("write to %s after a failed snapshot: %v", name, err)
		}
	}
	// A snapshot waiting behind another one is bounded too.
	e.snap.Lock()
	_, err = e.SnapshotWith(ctx, dir, SnapshotOptions{Wait: 20 * time.Millisecond})
	e.snap.Unlock()
	if !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("snapshot behind a running one: %v", err)
	}
	// The caller's own deadline is reported as such.
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if _, err := e.SnapshotWith(cctx, dir, SnapshotOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled snapshot: %v", err)
	}
	if _, err := e.SnapshotWith(ctx, dir, SnapshotOptions{}); err != nil {
		t.Fatal(err)
	}
	// A snapshot that gets its turn after the engine closed fails cleanly.
	e.Close()
	late := filepath.Join(filepath.Dir(dir), "late")
	if _, err := e.SnapshotWith(ctx, late, SnapshotOptions{}); !errors.Is(err, data.ErrClosed) {
		t.Fatalf("snapshot after Close: %v", err)
	}
	if _, err := os.Stat(late + partialSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("snapshot after Close left %s: %v", late+partialSuffix, err)
	}
}

// TestSnapshotFilesAndRetention: files outside the engine travel with the
// snapshot and come back on restore (a file absent at the snapshot is
// moved aside; a KeepLive file that exists stays as it is), and Keep
// removes the oldest snapshots and leftovers of interrupted ones.
func TestSnapshotFilesAndRetention(t *testing.T) {
	e, dataDir := openSnapEngine(t, 1)
	ctx := context.Background()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dataDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dataDir, name))
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	write("state.json", "v1")
	write("uploads/a", "blob a")
	write("keys.json", "keys v1")
	held := false
	files := []SnapshotFiles{
		{Root: dataDir, Names: []string{"state.json", "later.json", "uploads"}, Hold: func(copy func() error) error { held = true; return copy() }},
		{Root: dataDir, Names: []string{"keys.json"}},
	}
	parent := filepath.Join(t.TempDir(), "snapshots")
	if err := os.MkdirAll(filepath.Join(parent, "x"+partialSuffix), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(parent, "not-ours"), 0o755); err != nil {
		t.Fatal(err)
	}
	var last SnapshotResult
	for i := 0; i < 4; i++ {
		res, err := e.SnapshotWith(ctx, filepath.Join(parent, fmt.Sprintf("s%d", i)), SnapshotOptions{Files: files, Keep: 2})
		if err != nil {
			t.Fatal(err)
		}
		last = res
	}
	if !held {
		t.Fatal("Hold was not used")
	}
	ents, _ := os.ReadDir(parent)
	var got []string
	for _, ent := range ents {
		got = append(got, ent.Name())
	}
	if strings.Join(got, ",") != "not-ours,s2,s3" {
		t.Fatalf("after 4 snapshots with Keep 2: %v (pruned last time %v)", got, last.Pruned)
	}
	// Change everything, then restore.
	write("state.json", "v2")
	write("later.json", "created after")
	write("uploads/b", "blob b")
	write("keys.json", "keys v2")
	e.Close()
	res, err := RestoreSnapshotWith(last.Dir, dataDir, RestoreOptions{KeepLive: []string{"keys.json"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"state.json": "v1", "uploads/a": "blob a", "keys.json": "keys v2"} {
		if got := read(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, gone := range []string{"later.json", "uploads/b"} {
		if _, err := os.Stat(filepath.Join(dataDir, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s should be moved aside: %v", gone, err)
		}
	}
	if strings.Join(res.Kept, ",") != "keys.json" {
		t.Errorf("kept %v", res.Kept)
	}
	// Without KeepLive (e.g. a fresh data dir) the keys come back too.
	if err := os.Remove(filepath.Join(dataDir, "keys.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := RestoreSnapshotWith(last.Dir, dataDir, RestoreOptions{KeepLive: []string{"keys.json"}}); err != nil {
		t.Fatal(err)
	}
	if got := read("keys.json"); got != "keys v1" {
		t.Errorf("keys.json in a data dir without one = %q", got)
	}
}
