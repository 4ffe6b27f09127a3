package cloudflare

import (
	"crypto/rand"
	"fmt"
	"github.com/ragd/ragd/aisearch"
	"log/slog"
	"sort"
	"time"

	"github.com/ragd/ragd/aisearch/state"
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

// vectorizeState holds indexState per index name in the state document
// "cloudflare-state" (cloudflare-state.json in the data folder of the
// embedded backend; shared by every replica on Weaviate).
type vectorizeState struct {
	d *state.Doc[map[string]indexState]
}

const stateKey = "cloudflare-state"

// StateFiles names what the routes keep in Config.StateDir when their
// state store is the file one (state.FileStore in that folder): the
// Vectorize and AI Search state documents, the folder of AI Search
// uploads not yet indexed and the Workers AI batch queue's folder
// (BatchDirName, where BatchDir is left empty). A snapshot of the data
// dir copies them; a restored batch that was not done runs again.
func StateFiles() []string {
	return append([]string{stateKey + ".json", BatchDirName}, aisearch.StateFiles()...)
}

// BatchDirName is the Workers AI batch queue's folder in StateDir.
const BatchDirName = "ai-batches"

func newState(store state.Store, log *slog.Logger) *vectorizeState {
	return &vectorizeState{d: state.NewDoc(store, stateKey, log, func(m *map[string]indexState) {
		if *m == nil {
			*m = map[string]indexState{}
		}
	})}
}

// get returns a copy of an index's state (zero if none).
func (s *vectorizeState) get(name string) indexState {
	var st indexState
	s.d.Read(func(m *map[string]indexState) {
		st = (*m)[name]
		st.MetadataIndexes = append([]metadataIndex(nil), st.MetadataIndexes...)
	})
	return st
}

// update changes an index's state and saves it. fn may return an error
// to abort the change.
func (s *vectorizeState) update(name string, fn func(st *indexState) error) error {
	return s.d.Update(func(m *map[string]indexState) error {
		st := (*m)[name]
		st.MetadataIndexes = append([]metadataIndex(nil), st.MetadataIndexes...)
		if err := fn(&st); err != nil {
			return err
		}
		(*m)[name] = st
		return nil
	})
}

// reset starts an index's state afresh (on create).
func (s *vectorizeState) reset(name string, now time.Time) error {
	return s.d.Update(func(m *map[string]indexState) error {
		(*m)[name] = indexState{CreatedOn: now, ModifiedOn: now}
		return nil
	})
}

// remove forgets an index (on delete).
func (s *vectorizeState) remove(name string) error {
	return s.d.Update(func(m *map[string]indexState) error {
		delete(*m, name)
		return nil
	})
}

// mutation records a completed write and returns its id. The write is
// already durable, so a failure to record it is logged, not returned.
func (s *vectorizeState) mutation(name string) string {
	id := newMutationID()
	now := time.Now().UTC()
	if err := s.update(name, func(st *indexState) error {
		st.LastMutation, st.LastMutationAt, st.ModifiedOn = id, now, now
		return nil
	}); err != nil {
		s.d.Logger().Warn("recording a Vectorize mutation failed", "index", name, "err", err)
	}
	return id
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
