package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ragd/ragd/data"
)

// Key format: SecretPrefix + base64url(32 random bytes), 43 characters
// after the prefix. The first IDLen of those characters are the key's
// public ID.
const (
	SecretPrefix = "ragd_"
	IDLen        = 8
	secretBytes  = 32
	// MaxNameLen bounds a key's name.
	MaxNameLen = 100
	// reloadEvery is how often the file on disk is checked for changes.
	reloadEvery = time.Second
	fileVersion = 1
)

// Errors. They wrap the shared sentinels, so errors.Is(err,
// data.ErrUnauthorized) and friends hold.
var (
	// ErrInvalidKey: the secret is malformed or matches no key.
	ErrInvalidKey = fmt.Errorf("auth: invalid API key: %w", data.ErrUnauthorized)
	// ErrRevokedKey: the secret matches a revoked key.
	ErrRevokedKey = fmt.Errorf("auth: API key revoked: %w", data.ErrUnauthorized)
	// ErrNoKey: Revoke was given an ID that matches no key.
	ErrNoKey = fmt.Errorf("auth: no such key: %w", data.ErrNotFound)
)

// Key describes an API key. It never holds the secret or its hash, so it is
// safe to print and to log.
type Key struct {
	// ID is the key's public identifier: the first IDLen characters after
	// "ragd_" in its secret.
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scope     Scope     `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked"`
	// Rate is the key's request limit per second (0: none) and Burst the
	// bucket size.
	Rate  float64 `json:"rate,omitempty"`
	Burst int     `json:"burst,omitempty"`
}

// record is a key as stored: the Key plus the SHA-256 of its secret.
type record struct {
	Key
	Hash string `json:"sha256"`
	sum  [sha256.Size]byte
}

type fileFormat struct {
	Version int      `json:"version"`
	Keys    []record `json:"keys"`
}

// Store holds API keys in a JSON file (only their SHA-256 hashes). It is
// safe for concurrent use, and picks up changes other processes make to the
// file (checked at most once per second), so `ragd keys create` takes effect
// in a running server.
type Store struct {
	path string
	now  func() time.Time

	mu      sync.Mutex
	keys    []record
	loaded  os.FileInfo // the file the keys came from; nil: none on disk
	checked time.Time   // last time the file was stat'ed
}

// OpenStore opens the key file at path (conventionally keys.json in the
// data directory). A missing file is an empty store; the file and its
// directory are created by the first Create.
func OpenStore(path string) (*Store, error) {
	s := &Store{path: path, now: time.Now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(true); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the key file's path.
func (s *Store) Path() string { return s.path }

// Create makes a key and returns its secret, which is shown only here: the
// store keeps only its hash. rate is requests per second (0: unlimited);
// burst defaults to ceil(rate) when rate > 0.
func (s *Store) Create(name string, scope Scope, rate float64, burst int) (string, Key, error) {
	name = strings.TrimSpace(name)
	switch {
	case scope.rank() == 0:
		return "", Key{}, fmt.Errorf("%w: scope %q (want read, write or admin)", data.ErrInvalid, scope)
	case rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0):
		return "", Key{}, fmt.Errorf("%w: rate %v must be a finite number >= 0", data.ErrInvalid, rate)
	case burst < 0:
		return "", Key{}, fmt.Errorf("%w: burst %d must be >= 0", data.ErrInvalid, burst)
	case len(name) > MaxNameLen:
		return "", Key{}, fmt.Errorf("%w: name longer than %d bytes", data.ErrInvalid, MaxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", Key{}, fmt.Errorf("%w: name has control characters", data.ErrInvalid)
	}
	if rate == 0 {
		burst = 0
	} else if burst == 0 {
		burst = max(1, int(math.Ceil(rate)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Read-modify-write: pick up keys other processes added first.
	if err := s.reloadLocked(true); err != nil {
		return "", Key{}, err
	}
	var secret, id string
	for {
		b := make([]byte, secretBytes)
		if _, err := rand.Read(b); err != nil {
			return "", Key{}, fmt.Errorf("auth: random key: %w", err)
		}
		enc := base64.RawURLEncoding.EncodeToString(b)
		secret, id = SecretPrefix+enc, enc[:IDLen]
		if s.indexLocked(id) < 0 {
			break
		}
	}
	rec := record{
		Key: Key{ID: id, Name: name, Scope: scope, CreatedAt: s.now().UTC(), Rate: rate, Burst: burst},
		sum: sha256.Sum256([]byte(secret)),
	}
	rec.Hash = hex.EncodeToString(rec.sum[:])
	keys := append(append([]record(nil), s.keys...), rec)
	if err := s.writeLocked(keys); err != nil {
		return "", Key{}, err
	}
	return secret, rec.Key, nil
}

// List returns every key, revoked ones included, oldest first.
func (s *Store) List() []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.reloadLocked(false) // on a bad file, keep serving the last good keys
	out := make([]Key, len(s.keys))
	for i, r := range s.keys {
		out[i] = r.Key
	}
	return out
}

// Active counts keys that are not revoked.
func (s *Store) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.reloadLocked(false)
	n := 0
	for _, r := range s.keys {
		if !r.Revoked {
			n++
		}
	}
	return n
}

// Revoke marks the key with the given ID revoked. Revoking a revoked key is
// not an error; an unknown ID is ErrNoKey.
func (s *Store) Revoke(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(true); err != nil {
		return err
	}
	i := s.indexLocked(id)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoKey, id)
	}
	if s.keys[i].Revoked {
		return nil
	}
	keys := append([]record(nil), s.keys...)
	keys[i].Revoked = true
	return s.writeLocked(keys)
}

// Authenticate returns the key whose secret this is: ErrInvalidKey when
// none matches, ErrRevokedKey when it is revoked. The secret's hash is
// compared with every stored hash in constant time.
func (s *Store) Authenticate(secret string) (Key, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return Key{}, ErrInvalidKey
	}
	sum := sha256.Sum256([]byte(secret))
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.reloadLocked(false)
	found := -1
	for i := range s.keys {
		if subtle.ConstantTimeCompare(sum[:], s.keys[i].sum[:]) == 1 {
			found = i
		}
	}
	switch {
	case found < 0:
		return Key{}, ErrInvalidKey
	case s.keys[found].Revoked:
		return Key{}, ErrRevokedKey
	}
	return s.keys[found].Key, nil
}

// Reload rereads the file now if it changed since it was last read.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked(true)
}

func (s *Store) indexLocked(id string) int {
	for i, r := range s.keys {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// reloadLocked rereads the file if it changed (a different file, size or
// mtime). Unless force, it looks at most once per reloadEvery. On error the
// keys already loaded stay, and the next check tries again.
func (s *Store) reloadLocked(force bool) error {
	now := s.now()
	if !force && !s.checked.IsZero() && now.Sub(s.checked) < reloadEvery && now.Sub(s.checked) >= 0 {
		return nil
	}
	s.checked = now
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		// No file (or it was deleted): no keys.
		s.keys, s.loaded = nil, nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	if s.loaded != nil && os.SameFile(fi, s.loaded) && fi.Size() == s.loaded.Size() && fi.ModTime().Equal(s.loaded.ModTime()) {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("auth: read key file: %w", err)
	}
	keys, err := decode(b)
	if err != nil {
		return fmt.Errorf("auth: key file %s: %w", s.path, err)
	}
	s.keys, s.loaded = keys, fi
	return nil
}

func decode(b []byte) ([]record, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var f fileFormat
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", data.ErrInvalid, err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("%w: version %d (want %d)", data.ErrUnsupported, f.Version, fileVersion)
	}
	seen := map[string]bool{}
	for i := range f.Keys {
		r := &f.Keys[i]
		sum, err := hex.DecodeString(r.Hash)
		switch {
		case r.ID == "" || seen[r.ID]:
			return nil, fmt.Errorf("%w: key %d: empty or duplicate id %q", data.ErrInvalid, i, r.ID)
		case r.Scope.rank() == 0:
			return nil, fmt.Errorf("%w: key %q: scope %q", data.ErrInvalid, r.ID, r.Scope)
		case err != nil || len(sum) != sha256.Size:
			return nil, fmt.Errorf("%w: key %q: bad sha256", data.ErrInvalid, r.ID)
		case r.Rate < 0 || r.Burst < 0:
			return nil, fmt.Errorf("%w: key %q: negative rate or burst", data.ErrInvalid, r.ID)
		}
		seen[r.ID] = true
		copy(r.sum[:], sum)
	}
	sort.SliceStable(f.Keys, func(i, j int) bool { return f.Keys[i].CreatedAt.Before(f.Keys[j].CreatedAt) })
	return f.Keys, nil
}

// writeLocked replaces the file atomically (temp file, fsync, rename, fsync
// of the directory) with mode 0600, then adopts keys.
func (s *Store) writeLocked(keys []record) error {
	b, err := json.MarshalIndent(fileFormat{Version: fileVersion, Keys: keys}, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: encode keys: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("auth: key dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".keys-*.tmp")
	if err != nil {
		return fmt.Errorf("auth: write keys: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write keys: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write keys: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: sync keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auth: write keys: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("auth: replace key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every platform can sync a directory
		d.Close()
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	s.keys, s.loaded, s.checked = keys, fi, s.now()
	return nil
}
