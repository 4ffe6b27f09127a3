package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ragd/ragd/data"
	bolt "go.etcd.io/bbolt"
)

// SnapshotManifest describes a snapshot folder.
type SnapshotManifest struct {
	CreatedAt time.Time         `json:"created_at"`
	Indexes   map[string]uint64 `json:"indexes"` // name -> version at the snapshot
	StoreSize int64             `json:"store_bytes"`
	// Files are the data dir's files and folders outside the engine that
	// the snapshot covers (see SnapshotFiles), whether or not they
	// existed: a restore puts back those the snapshot holds and moves
	// aside those it does not.
	Files []string `json:"files,omitempty"`
}

// DefaultSnapshotWait bounds how long a snapshot waits for a snapshot
// already running and for each index's writes (SnapshotOptions.Wait).
const DefaultSnapshotWait = 30 * time.Second

// partialSuffix marks a snapshot folder being written; it is renamed to
// its final name only once complete.
const partialSuffix = ".partial"

// SnapshotFiles names files and folders in Root (the data dir) that a
// snapshot copies beside the engine's data, into its "files" folder, and
// a restore puts back: state the front ends keep outside the store.
type SnapshotFiles struct {
	Root  string
	Names []string
	// Hold, when set, runs copy while the files' writers wait (for
	// example FileStateStore.Hold), so that they are copied consistently.
	Hold func(copy func() error) error
}

// SnapshotOptions tune Engine.SnapshotWith.
type SnapshotOptions struct {
	// Wait bounds the wait for a snapshot already running and for each
	// index's write lock (default DefaultSnapshotWait). Past it the
	// snapshot fails with data.ErrUnavailable and leaves nothing behind.
	Wait time.Duration
	// Files adds state kept outside the engine. It is copied while the
	// snapshot holds every index's write lock.
	Files []SnapshotFiles
	// Keep, when > 0, keeps only the newest Keep snapshots in the folder
	// the snapshot is written to (folders holding a manifest; leftovers of
	// interrupted snapshots are removed too) once the snapshot is done.
	Keep int
}

// SnapshotResult is what Engine.SnapshotWith wrote and removed.
type SnapshotResult struct {
	Dir      string           `json:"dir"`
	Manifest SnapshotManifest `json:"manifest"`
	// Pruned lists the older snapshot folders removed to honour Keep.
	Pruned []string `json:"pruned,omitempty"`
}

// Snapshot writes a consistent point-in-time copy of the data into dir
// (which must not exist): the store of record from one read transaction,
// and each index's vector snapshot. Writes wait while it runs; searches do
// not. The bleve indexes are not copied: they are rebuilt from the store
// when the snapshot is restored. See SnapshotWith.
func (e *Engine) Snapshot(ctx context.Context, dir string) (SnapshotManifest, error) {
	res, err := e.SnapshotWith(ctx, dir, SnapshotOptions{})
	return res.Manifest, err
}

// SnapshotWith is Snapshot with options. Snapshots run one at a time and
// take the indexes' write locks in name order, so concurrent snapshots
// queue instead of deadlocking; each wait is bounded by opts.Wait and ctx.
// The snapshot is written to dir+".partial" and renamed to dir when
// complete; a failed snapshot leaves no folder behind.
func (e *Engine) SnapshotWith(ctx context.Context, dir string, opts SnapshotOptions) (SnapshotResult, error) {
	if _, err := os.Stat(dir); err == nil {
		return SnapshotResult{Dir: dir}, fmt.Errorf("snapshot %s: %w", dir, data.ErrExists)
	}
	return e.snapshot(ctx, opts, func() (string, error) {
		// Another snapshot may have taken the name while this one waited.
		if _, err := os.Stat(dir); err == nil {
			return dir, fmt.Errorf("snapshot %s: %w", dir, data.ErrExists)
		}
		return dir, nil
	})
}

// SnapshotInto is SnapshotWith into a new folder of parent named after the
// time the snapshot starts (20060102T150405.000Z, with a -N suffix when
// taken), so concurrent callers never collide.
func (e *Engine) SnapshotInto(ctx context.Context, parent string, opts SnapshotOptions) (SnapshotResult, error) {
	return e.snapshot(ctx, opts, func() (string, error) {
		base := filepath.Join(parent, time.Now().UTC().Format("20060102T150405.000Z"))
		for i := 1; ; i++ {
			dir := base
			if i > 1 {
				dir = fmt.Sprintf("%s-%d", base, i)
			}
			if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
				return dir, nil
			}
		}
	})
}

// snapshot runs a snapshot into the folder pick names once the snapshot
// lock is held.
func (e *Engine) snapshot(ctx context.Context, opts SnapshotOptions, pick func() (string, error)) (SnapshotResult, error) {
	var res SnapshotResult
	if opts.Wait <= 0 {
		opts.Wait = DefaultSnapshotWait
	}
	wctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	if err := lockWithin(wctx, &e.snap); err != nil {
		return res, waitErr(ctx, "another snapshot is still running", opts.Wait)
	}
	defer e.snap.Unlock()
	dir, err := pick()
	res.Dir = dir
	if err != nil {
		return res, err
	}
	e.mu.RLock()
	closed := e.closed
	names := make([]*named, 0, len(e.indexes))
	for _, n := range e.indexes {
		names = append(names, n)
	}
	e.mu.RUnlock()
	if closed { // a snapshot that waited behind another one while the engine closed
		return res, fmt.Errorf("snapshot: engine: %w", data.ErrClosed)
	}
	// One order for every snapshot (and for Flush and Close, which take
	// one lock at a time): no two lockers can wait on each other.
	sort.Slice(names, func(i, j int) bool { return names[i].name < names[j].name })
	locked := 0
	defer func() {
		for _, n := range names[:locked] {
			n.wmu.Unlock()
		}
	}()
	for _, n := range names {
		if err := lockWithin(wctx, &n.wmu); err != nil {
			return res, waitErr(ctx, fmt.Sprintf("index %q stayed busy with writes", n.name), opts.Wait)
		}
		locked++
	}
	partial := dir + partialSuffix
	if err := os.RemoveAll(partial); err != nil {
		return res, err
	}
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return res, err
	}
	man, err := e.writeSnapshot(ctx, partial, names, opts.Files)
	if err == nil {
		err = os.Rename(partial, dir)
	}
	if err != nil {
		os.RemoveAll(partial) //nolint:errcheck // best effort: the snapshot's error is the one to report
		return res, fmt.Errorf("snapshot %s: %w", dir, err)
	}
	res.Manifest = man
	if opts.Keep > 0 {
		res.Pruned, err = pruneSnapshots(filepath.Dir(dir), opts.Keep)
		if err != nil {
			return res, fmt.Errorf("snapshot written to %s, but removing old ones failed: %w", dir, err)
		}
	}
	return res, nil
}

// writeSnapshot writes the snapshot's contents into dir; the caller holds
// the snapshot lock and every index's write lock.
func (e *Engine) writeSnapshot(ctx context.Context, dir string, names []*named, files []SnapshotFiles) (SnapshotManifest, error) {
	man := SnapshotManifest{CreatedAt: time.Now().UTC(), Indexes: map[string]uint64{}}
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return man, err
		}
		man.Indexes[n.name] = e.store.version(n.name)
		if n.vec == nil {
			continue
		}
		if n.vec.dirty > 0 {
			if err := n.vec.save(); err != nil {
				return man, fmt.Errorf("index %q: %w", n.name, err)
			}
		}
		vdir := filepath.Join(dir, "indexes", n.name)
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return man, err
		}
		for _, f := range []string{"vectors.ann", "vectors.seq"} {
			if err := copyFileCtx(ctx, filepath.Join(n.dir, f), filepath.Join(vdir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return man, err
			}
		}
	}
	err := e.store.db.View(func(tx *bolt.Tx) error {
		man.StoreSize = tx.Size()
		f, err := os.OpenFile(filepath.Join(dir, "ragd.db"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if _, err := tx.WriteTo(ctxWriter{ctx, f}); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	if err != nil {
		return man, fmt.Errorf("snapshot store: %w", err)
	}
	for _, fs := range files {
		if err := copyFiles(ctx, fs, filepath.Join(dir, "files")); err != nil {
			return man, err
		}
		man.Files = append(man.Files, fs.Names...)
	}
	b, _ := json.MarshalIndent(man, "", "  ")
	return man, writeFileSync(filepath.Join(dir, "manifest.json"), b)
}

// copyFiles copies fs's names that exist from fs.Root into dst.
func copyFiles(ctx context.Context, fs SnapshotFiles, dst string) error {
	copyAll := func() error {
		for _, name := range fs.Names {
			if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
				return fmt.Errorf("%w: snapshot file name %q", data.ErrInvalid, name)
			}
			if err := copyTree(ctx, filepath.Join(fs.Root, name), filepath.Join(dst, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	if fs.Hold != nil {
		return fs.Hold(copyAll)
	}
	return copyAll()
}

// copyTree copies a file, or a folder with everything in it.
func copyTree(ctx context.Context, src, dst string) error {
	if _, err := os.Lstat(src); err != nil {
		return err
	}
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(to, 0o700)
		case info.Mode().IsRegular():
			if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
				return err
			}
			return copyFileCtx(ctx, p, to)
		}
		return nil // links and devices are not state ragd writes
	})
}

// pruneSnapshots keeps the newest keep snapshot folders in parent (by
// their manifests' times) and removes the rest, with any leftovers of
// interrupted snapshots. Folders without a manifest are not ragd's and
// are left alone.
func pruneSnapshots(parent string, keep int) ([]string, error) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return nil, err
	}
	type snap struct {
		dir string
		at  time.Time
	}
	var snaps []snap
	var removed []string
	for _, ent := range ents {
		if !ent.IsDir() {
			continue
		}
		p := filepath.Join(parent, ent.Name())
		if strings.HasSuffix(ent.Name(), partialSuffix) {
			if err := os.RemoveAll(p); err != nil {
				return removed, err
			}
			removed = append(removed, p)
			continue
		}
		b, err := os.ReadFile(filepath.Join(p, "manifest.json"))
		if err != nil {
			continue
		}
		var man SnapshotManifest
		if json.Unmarshal(b, &man) != nil {
			continue
		}
		snaps = append(snaps, snap{p, man.CreatedAt})
	}
	sort.Slice(snaps, func(i, j int) bool {
		if !snaps[i].at.Equal(snaps[j].at) {
			return snaps[i].at.After(snaps[j].at)
		}
		return snaps[i].dir > snaps[j].dir
	})
	for i := keep; i < len(snaps); i++ {
		if err := os.RemoveAll(snaps[i].dir); err != nil {
			return removed, err
		}
		removed = append(removed, snaps[i].dir)
	}
	return removed, nil
}

// lockWithin locks mu, or gives up when ctx ends first. A lock obtained
// after giving up is released at once.
func lockWithin(ctx context.Context, mu *sync.Mutex) error {
	if mu.TryLock() {
		return nil
	}
	got := make(chan struct{})
	go func() {
		mu.Lock()
		close(got)
	}()
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		go func() {
			<-got
			mu.Unlock()
		}()
		return ctx.Err()
	}
}

// waitErr explains a wait that ended: the caller's own cancellation or
// deadline as it is, the snapshot's own bound (opts.Wait) as
// data.ErrUnavailable, not as a deadline, so that it reads as "retry".
func waitErr(ctx context.Context, what string, wait time.Duration) error {
	if ctx.Err() != nil {
		return fmt.Errorf("snapshot: %w", ctx.Err())
	}
	return fmt.Errorf("snapshot: %s after %s; retry later: %w", what, wait, data.ErrUnavailable)
}

// ctxWriter stops a long copy once its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

// RestoreSnapshot replaces the data in dataDir with the snapshot in
// snapDir. No engine may have dataDir open (the store's file lock makes a
// running server refuse). The previous data is moved to
// dataDir/replaced-<time> rather than deleted.
func RestoreSnapshot(snapDir, dataDir string) (SnapshotManifest, error) {
	res, err := RestoreSnapshotWith(snapDir, dataDir, RestoreOptions{})
	return res.Manifest, err
}

// RestoreOptions tune RestoreSnapshotWith.
type RestoreOptions struct {
	// KeepLive names snapshot files (SnapshotManifest.Files) that are
	// restored only when dataDir has none: the live one is kept otherwise
	// (the API keys: a restore must not bring back a key revoked since).
	KeepLive []string
}

// RestoreResult says what RestoreSnapshotWith did.
type RestoreResult struct {
	Manifest SnapshotManifest
	// Aside is the folder the replaced data was moved to.
	Aside string
	// Restored and Kept list the manifest's files put back from the
	// snapshot and those left as they were (RestoreOptions.KeepLive).
	Restored, Kept []string
}

// RestoreSnapshotWith is RestoreSnapshot with options: besides the store
// and the vector indexes it puts back the files the snapshot covers.
func RestoreSnapshotWith(snapDir, dataDir string, opts RestoreOptions) (RestoreResult, error) {
	var res RestoreResult
	b, err := os.ReadFile(filepath.Join(snapDir, "manifest.json"))
	if err != nil {
		return res, fmt.Errorf("%w: %s is not a ragd snapshot: %v", data.ErrInvalid, snapDir, err) //nolint:errorlint // cause kept as text: a missing file must not read as fs.ErrNotExist to callers
	}
	if err := json.Unmarshal(b, &res.Manifest); err != nil {
		return res, fmt.Errorf("%w: snapshot manifest: %w", data.ErrInvalid, err)
	}
	for _, name := range res.Manifest.Files {
		if name == "" || name != filepath.Base(name) || name == "." || name == ".." || name == "ragd.db" || name == "indexes" {
			return res, fmt.Errorf("%w: snapshot manifest names file %q", data.ErrInvalid, name)
		}
	}
	// Check the copy opens before touching the live data.
	st, err := OpenStore(filepath.Join(snapDir, "ragd.db"))
	if err != nil {
		return res, fmt.Errorf("snapshot store: %w", err)
	}
	st.Close()
	// Refuse while a server holds the live store.
	live := filepath.Join(dataDir, "ragd.db")
	if _, err := os.Stat(live); err == nil {
		lst, err := OpenStore(live)
		if err != nil {
			return res, err
		}
		lst.Close()
	}
	if res.Aside, err = asideDir(dataDir); err != nil {
		return res, err
	}
	keep := map[string]bool{}
	for _, name := range opts.KeepLive {
		keep[name] = true
	}
	moved := []string{"ragd.db", "indexes"}
	for _, name := range res.Manifest.Files {
		if _, err := os.Stat(filepath.Join(dataDir, name)); err == nil && keep[name] {
			res.Kept = append(res.Kept, name)
			continue
		}
		moved = append(moved, name)
	}
	for _, name := range moved {
		if err := os.Rename(filepath.Join(dataDir, name), filepath.Join(res.Aside, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return res, err
		}
	}
	if err := copyFile(filepath.Join(snapDir, "ragd.db"), live); err != nil {
		return res, err
	}
	ctx := context.Background()
	if err := copyTree(ctx, filepath.Join(snapDir, "indexes"), filepath.Join(dataDir, "indexes")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, err
	}
	for _, name := range moved[2:] {
		err := copyTree(ctx, filepath.Join(snapDir, "files", name), filepath.Join(dataDir, name))
		switch {
		case errors.Is(err, os.ErrNotExist): // absent at the snapshot: absent now
		case err != nil:
			return res, err
		default:
			res.Restored = append(res.Restored, name)
		}
	}
	return res, nil
}

// asideDir creates a new folder for the data a restore replaces.
func asideDir(dataDir string) (string, error) {
	base := filepath.Join(dataDir, "replaced-"+time.Now().UTC().Format("20060102T150405"))
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	for i := 1; ; i++ {
		p := base
		if i > 1 {
			p = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(p, 0o755)
		if !errors.Is(err, os.ErrExist) {
			return p, err
		}
	}
}

func copyFile(src, dst string) error { return copyFileCtx(context.Background(), src, dst) }

func copyFileCtx(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(ctxWriter{ctx, out}, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
