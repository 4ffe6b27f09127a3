package index

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

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
