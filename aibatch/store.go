package aibatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// store keeps one JSON file per batch in dir ("" keeps nothing).
type store struct{ dir string }

func openStore(dir string) (*store, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("aibatch: %w", err)
		}
	}
	return &store{dir: dir}, nil
}

func (s *store) path(id string) string { return filepath.Join(s.dir, id+".json") }

// save writes b atomically: a temporary file, synced, renamed over the old.
func (s *store) save(b *Batch) error {
	if s.dir == "" {
		return nil
	}
	buf, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("aibatch: encode batch %s: %w", b.ID, err)
	}
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("aibatch: save batch %s: %w", b.ID, err)
	}
	tmp := f.Name()
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path(b.ID))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("aibatch: save batch %s: %w", b.ID, err)
	}
	return nil
}

func (s *store) remove(id string) error {
	if s.dir == "" {
		return nil
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("aibatch: %w", err)
	}
	return nil
}

// load reads every batch file; leftover temporary files are removed. A
// file that is not a batch is renamed to <name>.bad and reported in bad,
// so that one damaged file does not stop the queue.
func (s *store) load() (batches []*Batch, bad []string, err error) {
	if s.dir == "" {
		return nil, nil, nil
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("aibatch: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		full := filepath.Join(s.dir, name)
		if strings.HasPrefix(name, ".tmp-") {
			_ = os.Remove(full)
			continue
		}
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		buf, err := os.ReadFile(full)
		if err != nil {
			return nil, nil, fmt.Errorf("aibatch: %w", err)
		}
		var b Batch
		if err := json.Unmarshal(buf, &b); err != nil || b.ID+".json" != name {
			_ = os.Rename(full, full+".bad")
			bad = append(bad, full)
			continue
		}
		batches = append(batches, &b)
	}
	return batches, bad, nil
}
