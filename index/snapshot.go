package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ragd/ragd/data"
	bolt "go.etcd.io/bbolt"
)

// SnapshotManifest describes a snapshot folder.
type SnapshotManifest struct {
	CreatedAt time.Time         `json:"created_at"`
	Indexes   map[string]uint64 `json:"indexes"` // name -> version at the snapshot
	StoreSize int64             `json:"store_bytes"`
}

// Snapshot writes a consistent point-in-time copy of the data into dir
// (which must not exist): the store of record from one read transaction,
// and each index's vector snapshot. Writes wait while it runs; searches do
// not. The bleve indexes are not copied: they are rebuilt from the store
// when the snapshot is restored.
func (e *Engine) Snapshot(ctx context.Context, dir string) (SnapshotManifest, error) {
	var man SnapshotManifest
	if _, err := os.Stat(dir); err == nil {
		return man, fmt.Errorf("snapshot %s: %w", dir, data.ErrExists)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return man, err
	}
	e.mu.RLock()
	names := make([]*named, 0, len(e.indexes))
	for _, n := range e.indexes {
		names = append(names, n)
	}
	e.mu.RUnlock()
	for _, n := range names {
		n.wmu.Lock()
	}
	defer func() {
		for _, n := range names {
			n.wmu.Unlock()
		}
	}()
	man = SnapshotManifest{CreatedAt: time.Now().UTC(), Indexes: map[string]uint64{}}
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
			if err := copyFile(filepath.Join(n.dir, f), filepath.Join(vdir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return man, err
			}
		}
	}
	err := e.store.db.View(func(tx *bolt.Tx) error {
		man.StoreSize = tx.Size()
		return tx.CopyFile(filepath.Join(dir, "ragd.db"), 0o600)
	})
	if err != nil {
		return man, fmt.Errorf("snapshot store: %w", err)
	}
	b, _ := json.MarshalIndent(man, "", "  ")
	return man, writeFileSync(filepath.Join(dir, "manifest.json"), b)
}

// RestoreSnapshot replaces the data in dataDir with the snapshot in
// snapDir. No engine may have dataDir open (the store's file lock makes a
// running server refuse). The previous data is moved to
// dataDir/replaced-<time> rather than deleted.
func RestoreSnapshot(snapDir, dataDir string) (SnapshotManifest, error) {
	var man SnapshotManifest
	b, err := os.ReadFile(filepath.Join(snapDir, "manifest.json"))
	if err != nil {
		return man, fmt.Errorf("%w: %s is not a ragd snapshot: %v", data.ErrInvalid, snapDir, err) //nolint:errorlint // cause kept as text: a missing file must not read as fs.ErrNotExist to callers
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return man, fmt.Errorf("%w: snapshot manifest: %w", data.ErrInvalid, err)
	}
	// Check the copy opens before touching the live data.
	st, err := OpenStore(filepath.Join(snapDir, "ragd.db"))
	if err != nil {
		return man, fmt.Errorf("snapshot store: %w", err)
	}
	st.Close()
	// Refuse while a server holds the live store.
	live := filepath.Join(dataDir, "ragd.db")
	if _, err := os.Stat(live); err == nil {
		lst, err := OpenStore(live)
		if err != nil {
			return man, err
		}
		lst.Close()
	}
	aside := filepath.Join(dataDir, "replaced-"+time.Now().UTC().Format("20060102T150405"))
	if err := os.MkdirAll(aside, 0o755); err != nil {
		return man, err
	}
	for _, name := range []string{"ragd.db", "indexes"} {
		if err := os.Rename(filepath.Join(dataDir, name), filepath.Join(aside, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return man, err
		}
	}
	if err := copyFile(filepath.Join(snapDir, "ragd.db"), live); err != nil {
		return man, err
	}
	err = filepath.Walk(filepath.Join(snapDir, "indexes"), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(snapDir, p)
		dst := filepath.Join(dataDir, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		return copyFile(p, dst)
	})
	return man, err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
