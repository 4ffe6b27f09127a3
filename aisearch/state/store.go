package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ragd/ragd/data"
)

// Store keeps small named documents (the JSON bookkeeping of the
// Cloudflare-compatible API and AI Search) beside an index tier. Writes are
// versioned: SaveState succeeds only over the version the caller read, so
// ragd replicas that share a tier can update the same document without
// losing each other's changes silently.
type Store interface {
	// LoadState returns the document under key and its version; an absent
	// key is (nil, 0, nil).
	LoadState(ctx context.Context, key string) (value []byte, version uint64, err error)
	// StateVersion returns the version alone (0 for an absent key): a
	// cheap check before loading a document that may be large.
	StateVersion(ctx context.Context, key string) (uint64, error)
	// SaveState stores value under key when its current version is prev
	// and returns the new version; otherwise it fails with
	// data.ErrConflict.
	SaveState(ctx context.Context, key string, value []byte, prev uint64) (version uint64, err error)
	// Shared reports whether other processes may change the documents
	// (readers must then load them again rather than trust a copy).
	Shared() bool
}

// FileStore is the Store of one process: each key is a file
// <dir>/<key>.json written atomically (temp file + rename), with versions
// counted in memory. An empty dir keeps everything in memory.
type FileStore struct {
	dir  string
	mu   sync.Mutex
	docs map[string]fileDoc
}

type fileDoc struct {
	value   []byte
	version uint64
}

// NewFileStore returns a FileStore in dir ("" for memory only).
func NewFileStore(dir string) *FileStore {
	return &FileStore{dir: dir, docs: map[string]fileDoc{}}
}

func (s *FileStore) path(key string) (string, error) {
	if key == "" || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return "", fmt.Errorf("%w: state key %q", data.ErrInvalid, key)
	}
	return filepath.Join(s.dir, key+".json"), nil
}

// LoadState implements Store. The first load of a key reads its file.
func (s *FileStore) LoadState(_ context.Context, key string) ([]byte, uint64, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.docs[key]; ok {
		return d.value, d.version, nil
	}
	d := fileDoc{}
	if s.dir != "" {
		b, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, 0, fmt.Errorf("state %s: %w", key, err)
		default:
			d = fileDoc{value: b, version: 1}
		}
	}
	s.docs[key] = d
	return d.value, d.version, nil
}

// StateVersion implements Store.
func (s *FileStore) StateVersion(ctx context.Context, key string) (uint64, error) {
	_, v, err := s.LoadState(ctx, key)
	return v, err
}

// SaveState implements Store.
func (s *FileStore) SaveState(ctx context.Context, key string, value []byte, prev uint64) (uint64, error) {
	if _, _, err := s.LoadState(ctx, key); err != nil {
		return 0, err
	}
	p, _ := s.path(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docs[key]
	if d.version != prev {
		return 0, fmt.Errorf("state %s: version %d, not %d: %w", key, d.version, prev, data.ErrConflict)
	}
	if s.dir != "" {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return 0, fmt.Errorf("state %s: %w", key, err)
		}
		if err := os.WriteFile(p+".tmp", value, 0o600); err != nil {
			return 0, fmt.Errorf("state %s: %w", key, err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return 0, fmt.Errorf("state %s: %w", key, err)
		}
	}
	s.docs[key] = fileDoc{value: value, version: prev + 1}
	return prev + 1, nil
}

// Shared implements Store: only this process writes the files.
func (s *FileStore) Shared() bool { return false }

// Hold runs fn while no SaveState can change a file: a snapshot copies
// the files inside it (see index.SnapshotFiles.Hold).
func (s *FileStore) Hold(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn()
}
