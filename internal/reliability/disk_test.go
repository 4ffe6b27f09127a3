package reliability

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/ingest"
)

// mountTmpfs mounts a tmpfs of the given size on a fresh folder and
// unmounts it when the test ends; it skips the test when mounting is not
// allowed (not root, or no CAP_SYS_ADMIN in a container).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs to simulate a full or read-only disk (%v: %s); this test needs root with mount permission", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -o remount,%s %s: %v: %s", opts, dir, err, out)
	}
}

var diskChunk = ingest.ChunkOptions{Size: 96, Overlap: 8}

// diskDoc is a generated document with chunk vectors, chunked coarser than
// the crash test's so a few MiB hold fewer vectors than the exact-search
// threshold (5,000) and vector checks are exact.
func diskDoc(id string, sentences int) data.Document {
	d := expectDoc(id, "disk doc "+id, docText(id, 1, sentences), diskChunk)
	for i := range d.Chunks {
		d.Chunks[i].Vector = chunkVector(d.Chunks[i].ID, d.Chunks[i].Text, vecDims)
	}
	return d
}

// fill writes batches of documents (with vectors) until a write fails;
// it returns the state of acknowledged writes, the batch that failed, and
// the error.
func fill(ctx context.Context, t *testing.T, e *index.Engine, name string, maxBatches int) (state, []data.Document, error) {
	t.Helper()
	acked := state{}
	for b := 0; b < maxBatches; b++ {
		var docs []data.Document
		for i := 0; i < 20; i++ {
			docs = append(docs, diskDoc(fmt.Sprintf("b%03dk%02d", b, i), 30))
		}
		if _, err := e.PutDocuments(ctx, name, docs, false); err != nil {
			return acked, docs, err
		}
		for _, d := range docs {
			for i := range d.Chunks {
				d.Chunks[i].Vector = nil
			}
			acked[d.ID] = d
		}
	}
	return acked, nil, nil
}

// verifyAfter reopens dir and checks that the store holds the acknowledged
// documents (plus, possibly, the whole failed batch), that the derived
// indexes agree, that search works and that a new write succeeds.
func verifyAfter(ctx context.Context, t *testing.T, dir, name string, acked state, failed []data.Document) {
	t.Helper()
	e, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		t.Fatalf("reopen after the failure: %v", err)
	}
	defer e.Close()
	got, err := readState(ctx, e, name)
	if err != nil {
		t.Fatal(err)
	}
	withFailed := acked.clone()
	for _, d := range failed {
		d.Chunks = append([]data.Chunk(nil), d.Chunks...)
		for i := range d.Chunks {
			d.Chunks[i].Vector = nil
		}
		withFailed[d.ID] = d
	}
	if d1 := diffState(got, acked); len(d1) > 0 {
		if d2 := diffState(got, withFailed); len(d2) > 0 {
			t.Fatalf("after the failure the store is neither the acknowledged state (%d differences, e.g. %s) nor that plus the whole failed batch (%d, e.g. %s)",
				len(d1), d1[0], len(d2), d2[0])
		}
		t.Logf("the failed batch had been committed to the store before its error (%d documents); it is whole", len(failed))
	}
	if err := checkIndex(ctx, e, name); err != nil {
		t.Fatal(err)
	}
	if err := checkSearch(ctx, e, name, got, nil); err != nil {
		t.Fatal(err)
	}
	if err := checkVectors(ctx, e, name, got, vecDims); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutDocuments(ctx, name, []data.Document{diskDoc("after", 3)}, false); err != nil {
		t.Fatalf("write after the disk recovered: %v", err)
	}
	if err := checkIndex(ctx, e, name); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFull fills a small tmpfs until a write fails: the write must
// return an error that says the disk is full, the store must stay
// consistent, and after space is freed everything acknowledged is there.
func TestDiskFull(t *testing.T) {
	// Different sizes make different writers hit the wall first: the
	// bbolt store, the bleve segment persister, the vector snapshot.
	for _, size := range []string{"3m", "5m", "8m"} {
		t.Run(size, func(t *testing.T) { diskFull(t, size) })
	}
}

func diskFull(t *testing.T, size string) {
	ctx := context.Background()
	mnt := mountTmpfs(t, size)
	dir := filepath.Join(mnt, "data")
	e, err := index.Open(ctx, index.Options{Dir: dir, SnapshotEvery: 200})
	if err != nil {
		t.Fatal(err)
	}
	const name = "full"
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: name, Dims: vecDims, Metric: data.Cosine}); err != nil {
		t.Fatal(err)
	}
	acked, failed, werr := fill(ctx, t, e, name, 400)
	if werr == nil {
		t.Fatalf("400 batches fit in a %s tmpfs; the disk never filled", size)
	}
	t.Logf("write failed after %d acknowledged documents: %v", len(acked), werr)
	if !errors.Is(werr, syscall.ENOSPC) && !strings.Contains(werr.Error(), "no space left") {
		t.Errorf("a full disk should surface as ENOSPC / \"no space left on device\", got: %v", werr)
	}
	// Reads keep working on the full disk.
	if err := searchNoPanic(ctx, e, name); err != nil {
		t.Errorf("search after a write failed on a full disk: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Logf("close on a full disk: %v", err)
	}
	// Reopening while still full must not panic or corrupt; it may fail.
	if e2, err := index.Open(ctx, index.Options{Dir: dir}); err != nil {
		t.Logf("open while still full: %v", err)
	} else {
		e2.Close()
	}
	remount(t, mnt, "size=64m")
	verifyAfter(ctx, t, dir, name, acked, failed)
}

// TestReadOnlyDataDir opens a data directory that cannot be written: Open
// must fail with a clear error (or, if it opens, writes must fail and reads
// work), and nothing may be damaged.
func TestReadOnlyDataDir(t *testing.T) {
	ctx := context.Background()
	asRoot := os.Geteuid() == 0
	var dir, mnt string
	if asRoot {
		// chmod does not stop root: use a tmpfs remounted read-only.
		mnt = mountTmpfs(t, "64m")
		dir = filepath.Join(mnt, "data")
	} else {
		dir = filepath.Join(t.TempDir(), "data")
	}
	e, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const name = "ro"
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: name, Dims: vecDims, Metric: data.Cosine}); err != nil {
		t.Fatal(err)
	}
	acked, _, err := fill(ctx, t, e, name, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	want := "read-only file system"
	if asRoot {
		remount(t, mnt, "ro")
	} else {
		want = "permission denied"
		setModes(t, dir, 0o555, 0o444)
	}
	e2, err := index.Open(ctx, index.Options{Dir: dir})
	switch {
	case err != nil:
		t.Logf("open of a read-only data dir: %v", err)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("open error should say %q: %v", want, err)
		}
	default:
		_, werr := e2.PutDocuments(ctx, name, []data.Document{diskDoc("ro1", 2)}, false)
		if werr == nil {
			t.Errorf("a write to a read-only data dir succeeded")
		} else if !strings.Contains(werr.Error(), want) {
			t.Errorf("write error should say %q: %v", want, werr)
		}
		if err := searchNoPanic(ctx, e2, name); err != nil {
			t.Errorf("search on a read-only data dir: %v", err)
		}
		e2.Close()
	}
	if asRoot {
		remount(t, mnt, "rw")
	} else {
		setModes(t, dir, 0o755, 0o644)
	}
	verifyAfter(ctx, t, dir, name, acked, nil)
}

func setModes(t *testing.T, dir string, dirMode, fileMode os.FileMode) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, dirMode)
		}
		return os.Chmod(p, fileMode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// searchNoPanic runs a keyword and a vector search, turning a panic into an
// error so that one failure does not take the other tests down.
func searchNoPanic(ctx context.Context, e *index.Engine, name string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	if _, err := e.Search(ctx, name, data.Query{Text: "river", Mode: data.ModeBM25}); err != nil {
		return err
	}
	_, err = e.Search(ctx, name, data.Query{Vector: chunkVector("q", "q", vecDims), Mode: data.ModeVector})
	return err
}
