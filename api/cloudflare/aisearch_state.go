package cloudflare

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// AI Search bookkeeping: namespaces, instances (each backed by one ragd
// index) and the items uploaded to them. It is saved as JSON beside the
// Vectorize state; uploaded files wait in a folder until they are indexed.
const (
	aisStateFile = "cloudflare-ai-search.json"
	aisUploadDir = "cloudflare-ai-search-uploads"
	// defaultNamespace always exists and cannot be deleted.
	defaultNamespace = "default"
)

// Item statuses (the SDK's ItemGetResponse.status).
const (
	itemQueued    = "queued"
	itemRunning   = "running"
	itemCompleted = "completed"
	itemError     = "error"
)

type namespaceRecord struct {
	Name                 string          `json:"name"`
	Description          *string         `json:"description,omitempty"`
	PublicEndpointParams json.RawMessage `json:"public_endpoint_params,omitempty"`
	CreatedAt            time.Time       `json:"created_at"`
}

type instanceRecord struct {
	ID           string           `json:"id"`
	Namespace    string           `json:"namespace"`
	Index        string           `json:"index"`
	Model        string           `json:"model,omitempty"` // ragd model name ("" = keyword only)
	CreatedAt    time.Time        `json:"created_at"`
	ModifiedAt   time.Time        `json:"modified_at"`
	LastActivity time.Time        `json:"last_activity,omitzero"`
	Settings     instanceSettings `json:"settings"`
	// Items by item id; never copied out of the store (see itemsOf).
	Items map[string]*itemRecord `json:"items,omitempty"`
}

type itemRecord struct {
	ID          string         `json:"id"`
	Key         string         `json:"key"`
	Checksum    string         `json:"checksum"`
	FileSize    int64          `json:"file_size"`
	Format      string         `json:"format"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Status      string         `json:"status"`
	Error       string         `json:"error,omitempty"`
	Chunks      *int           `json:"chunks,omitempty"`
	DocIDs      []string       `json:"doc_ids,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	LastSeenAt  time.Time      `json:"last_seen_at"`
	Generation  int            `json:"generation"` // bumped by each upload of the key
	ProcessedAt time.Time      `json:"processed_at,omitzero"`
}

type aisData struct {
	Namespaces map[string]*namespaceRecord `json:"namespaces"`
	Instances  map[string]*instanceRecord  `json:"instances"` // by instKey(namespace, id)
}

func instKey(ns, id string) string { return ns + "/" + id }

// aisStore holds aisData under one lock, saved after every change; the
// bytes of uploads not yet indexed live in files (or in memory when no
// directory is configured).
type aisStore struct {
	path   string
	blobs  string
	log    *slog.Logger
	mu     sync.Mutex
	d      aisData
	memory map[string][]byte
}

func newAISStore(dir string, log *slog.Logger) *aisStore {
	s := &aisStore{log: log, memory: map[string][]byte{}}
	if dir != "" {
		s.path = filepath.Join(dir, aisStateFile)
		s.blobs = filepath.Join(dir, aisUploadDir)
		b, err := os.ReadFile(s.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			log.Warn("AI Search state unreadable; starting empty", "path", s.path, "err", err)
		default:
			if err := json.Unmarshal(b, &s.d); err != nil {
				log.Warn("AI Search state corrupt; starting empty", "path", s.path, "err", err)
				s.d = aisData{}
			}
		}
	}
	if s.d.Namespaces == nil {
		s.d.Namespaces = map[string]*namespaceRecord{}
	}
	if s.d.Instances == nil {
		s.d.Instances = map[string]*instanceRecord{}
	}
	if _, ok := s.d.Namespaces[defaultNamespace]; !ok {
		s.d.Namespaces[defaultNamespace] = &namespaceRecord{Name: defaultNamespace, CreatedAt: time.Now().UTC()}
	}
	return s
}

// read runs fn under the lock; fn must not keep pointers it is given.
func (s *aisStore) read(fn func(d *aisData)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.d)
}

// update runs fn under the lock and saves the state when it returns nil.
// fn validates before it changes anything, so an error leaves the state
// as it was.
func (s *aisStore) update(fn func(d *aisData) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := fn(&s.d); err != nil {
		return err
	}
	s.saveLocked()
	return nil
}

func (s *aisStore) saveLocked() {
	if s.path == "" {
		return
	}
	b, err := json.Marshal(s.d)
	if err == nil {
		tmp := s.path + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, s.path)
		}
	}
	if err != nil {
		s.log.Warn("saving AI Search state failed", "path", s.path, "err", err)
	}
}

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
