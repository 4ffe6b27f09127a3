package aisearch

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ragd/ragd/aisearch/state"
)

// AI Search bookkeeping: namespaces, instances (each backed by one ragd
// index) and the items uploaded to them. It is saved as JSON beside the
// Vectorize state; uploaded files wait in a folder until they are indexed.
const (
	aisUploadDir = "cloudflare-ai-search-uploads"
	// DefaultNamespace always exists and cannot be deleted.
	DefaultNamespace = "default"
)

// Item statuses (the SDK's ItemGetResponse.status).
const (
	ItemQueued    = "queued"
	ItemRunning   = "running"
	ItemCompleted = "completed"
	ItemError     = "error"
)

// Namespace groups instances.
type Namespace struct {
	Name                 string          `json:"name"`
	Description          *string         `json:"description,omitempty"`
	PublicEndpointParams json.RawMessage `json:"public_endpoint_params,omitempty"`
	CreatedAt            time.Time       `json:"created_at"`
}

// Instance is one AI Search instance: one ragd index with its settings
// and the items uploaded to it.
type Instance struct {
	ID           string    `json:"id"`
	Namespace    string    `json:"namespace"`
	Index        string    `json:"index"`
	Model        string    `json:"model,omitempty"` // ragd model name ("" = keyword only)
	CreatedAt    time.Time `json:"created_at"`
	ModifiedAt   time.Time `json:"modified_at"`
	LastActivity time.Time `json:"last_activity,omitzero"`
	Settings     Settings  `json:"settings"`
	// Items by item id; nil in the copies the Service returns.
	Items map[string]*Item `json:"items,omitempty"`
}

// Item is one uploaded file and its indexing state.
type Item struct {
	ID       string         `json:"id"`
	Key      string         `json:"key"`
	Checksum string         `json:"checksum"`
	FileSize int64          `json:"file_size"`
	Format   string         `json:"format"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Status   string         `json:"status"`
	// Owner is the replica holding the upload's bytes until it is
	// indexed; only that replica's worker indexes it.
	Owner       string    `json:"owner,omitempty"`
	Error       string    `json:"error,omitempty"`
	Chunks      *int      `json:"chunks,omitempty"`
	DocIDs      []string  `json:"doc_ids,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
	Generation  int       `json:"generation"` // bumped by each upload of the key
	ProcessedAt time.Time `json:"processed_at,omitzero"`
	// Chunking is the chunk size/overlap the item was last indexed with
	// (a change re-chunks unchanged documents).
	Chunking string `json:"chunking,omitempty"`
}

type aisData struct {
	Namespaces map[string]*Namespace `json:"namespaces"`
	Instances  map[string]*Instance  `json:"instances"` // by instKey(namespace, id)
}

func instKey(ns, id string) string { return ns + "/" + id }

// aisStore holds aisData in the state document "cloudflare-ai-search"
// (shared by every replica on Weaviate); the bytes of uploads not yet
// indexed wait in a local folder (or in memory when no folder is set),
// on the replica that received them, which alone indexes them.
type aisStore struct {
	d      *state.Doc[aisData]
	blobs  string
	owner  string // this replica, as recorded on the items it must index
	log    *slog.Logger
	mu     sync.Mutex
	memory map[string][]byte
}

const aisStateKey = "cloudflare-ai-search"

// StateFiles names what AI Search keeps in its data folder with the file
// state store: its state document and the folder of uploads not yet
// indexed. A snapshot of the data dir copies them.
func StateFiles() []string { return []string{aisStateKey + ".json", aisUploadDir} }

func newAISStore(store state.Store, dir, owner string, log *slog.Logger) *aisStore {
	s := &aisStore{log: log, owner: owner, memory: map[string][]byte{}}
	if dir != "" {
		s.blobs = filepath.Join(dir, aisUploadDir)
	}
	s.d = state.NewDoc(store, aisStateKey, log, func(d *aisData) {
		if d.Namespaces == nil {
			d.Namespaces = map[string]*Namespace{}
		}
		if d.Instances == nil {
			d.Instances = map[string]*Instance{}
		}
		if _, ok := d.Namespaces[DefaultNamespace]; !ok {
			d.Namespaces[DefaultNamespace] = &Namespace{Name: DefaultNamespace, CreatedAt: time.Now().UTC()}
		}
	})
	return s
}

// read runs fn on the current state; fn must not keep pointers it is given.
func (s *aisStore) read(fn func(d *aisData)) { s.d.Read(fn) }

// update runs fn on the current state and saves it when fn returns nil.
// fn validates before it changes anything, so an error leaves the state
// as it was; it may run again on a newer state when another replica
// changed it at the same time.
func (s *aisStore) update(fn func(d *aisData) error) error { return s.d.Update(fn) }

// putBlob keeps an upload's bytes until it is indexed. Item ids are
// random UUIDs, safe as file names.
func (s *aisStore) putBlob(itemID string, b []byte) error {
	if s.blobs == "" {
		s.mu.Lock()
		s.memory[itemID] = b
		s.mu.Unlock()
		return nil
	}
	if err := os.MkdirAll(s.blobs, 0o700); err != nil {
		return fmt.Errorf("saving upload: %w", err)
	}
	p := filepath.Join(s.blobs, itemID)
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("saving upload: %w", err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("saving upload: %w", err)
	}
	return nil
}

func (s *aisStore) blob(itemID string) ([]byte, error) {
	if s.blobs == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		b, ok := s.memory[itemID]
		if !ok {
			return nil, fmt.Errorf("upload of item %s is gone", itemID)
		}
		return b, nil
	}
	return os.ReadFile(filepath.Join(s.blobs, itemID))
}

func (s *aisStore) dropBlob(itemID string) {
	if s.blobs == "" {
		s.mu.Lock()
		delete(s.memory, itemID)
		s.mu.Unlock()
		return
	}
	if err := os.Remove(filepath.Join(s.blobs, itemID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("removing upload failed", "item", itemID, "err", err)
	}
}
