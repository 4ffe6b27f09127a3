package cloudflare

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// indexState is the Vectorize bookkeeping ragd's engine does not keep.
type indexState struct {
	CreatedOn       time.Time       `json:"created_on"`
	ModifiedOn      time.Time       `json:"modified_on"`
	MetadataIndexes []metadataIndex `json:"metadata_indexes,omitempty"`
	LastMutation    string          `json:"last_mutation,omitempty"`
	LastMutationAt  time.Time       `json:"last_mutation_at,omitzero"`
}

// metadataIndex is one declared filterable metadata property.
type metadataIndex struct {
	PropertyName string `json:"propertyName"`
	IndexType    string `json:"indexType"`
}

// state holds indexState per index name, saved as JSON in dir (if set).
type state struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	indexes map[string]indexState
}

const stateFile = "cloudflare-state.json"

func newState(dir string, log *slog.Logger) *state {
	s := &state{log: log, indexes: map[string]indexState{}}
	if dir == "" {
		return s
	}
	s.path = filepath.Join(dir, stateFile)
	b, err := os.ReadFile(s.path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		log.Warn("cloudflare state unreadable; starting empty", "path", s.path, "err", err)
	default:
		if err := json.Unmarshal(b, &s.indexes); err != nil {
			log.Warn("cloudflare state corrupt; starting empty", "path", s.path, "err", err)
			s.indexes = map[string]indexState{}
		}
	}
	return s
}

// get returns a copy of an index's state (zero if none).
func (s *state) get(name string) indexState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.indexes[name]
	st.MetadataIndexes = append([]metadataIndex(nil), st.MetadataIndexes...)
	return st
}

// update changes an index's state under the lock and saves it. fn may
// return an error to abort the change.
func (s *state) update(name string, fn func(st *indexState) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.indexes[name]
	st.MetadataIndexes = append([]metadataIndex(nil), st.MetadataIndexes...)
	if err := fn(&st); err != nil {
		return err
	}
	s.indexes[name] = st
	s.saveLocked()
	return nil
}

// reset starts an index's state afresh (on create).
func (s *state) reset(name string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indexes[name] = indexState{CreatedOn: now, ModifiedOn: now}
	s.saveLocked()
}

// remove forgets an index (on delete).
func (s *state) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.indexes, name)
	s.saveLocked()
}

// mutation records a completed write and returns its id.
func (s *state) mutation(name string) string {
	id := newMutationID()
	now := time.Now().UTC()
	_ = s.update(name, func(st *indexState) error {
		st.LastMutation, st.LastMutationAt, st.ModifiedOn = id, now, now
		return nil
	})
	return id
}

// saveLocked writes the state file atomically (temp file + rename). A
// failure is logged, not returned: the bookkeeping is advisory and the
// engine's data is already durable.
func (s *state) saveLocked() {
	if s.path == "" {
		return
	}
	b, err := json.MarshalIndent(s.indexes, "", "  ")
	if err == nil {
		tmp := s.path + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, s.path)
		}
	}
	if err != nil {
		s.log.Warn("saving cloudflare state failed", "path", s.path, "err", err)
	}
}

// sortedMetadataIndexes returns the declared properties by name.
func sortedMetadataIndexes(m []metadataIndex) []metadataIndex {
	out := append([]metadataIndex{}, m...)
	sort.Slice(out, func(i, j int) bool { return out[i].PropertyName < out[j].PropertyName })
	return out
}

// newMutationID returns a random UUID (version 4), the shape Cloudflare
// uses for mutation ids.
func newMutationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
