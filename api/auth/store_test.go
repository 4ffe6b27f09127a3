package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
)

// clock is a hand-driven time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// openAt opens a store at path that reads time from c.
func openAt(t *testing.T, path string, c *clock) *Store {
	t.Helper()
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	s.now = c.now
	if err := s.Reload(); err != nil { // start the reload throttle on c's time
		t.Fatal(err)
	}
	return s
}

func mustCreate(t *testing.T, s *Store, name string, sc Scope, rate float64, burst int) (string, Key) {
	t.Helper()
	secret, k, err := s.Create(name, sc, rate, burst)
	if err != nil {
		t.Fatal(err)
	}
	return secret, k
}

func TestCreateListRevokePersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys.json") // directory made on first Create
	c := newClock()
	s := openAt(t, path, c)
	if got := s.List(); len(got) != 0 {
		t.Fatalf("new store lists %v", got)
	}
	secret, k := mustCreate(t, s, "  ci bot ", ScopeWrite, 2.5, 0)
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) != len(SecretPrefix)+43 {
		t.Fatalf("secret %q: want ragd_ + 43 base64url characters", secret)
	}
	if k.ID != secret[len(SecretPrefix):len(SecretPrefix)+IDLen] {
		t.Fatalf("id %q is not the secret's public prefix", k.ID)
	}
	if k.Name != "ci bot" || k.Scope != ScopeWrite || k.Rate != 2.5 || k.Burst != 3 || k.Revoked || !k.CreatedAt.Equal(c.t) {
		t.Fatalf("created key %+v", k)
	}
	c.advance(time.Minute)
	_, k2 := mustCreate(t, s, "reader", ScopeRead, 0, 7)
	if k2.Burst != 0 {
		t.Fatalf("burst without a rate should be dropped, got %d", k2.Burst)
	}
	if err := s.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(k.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := s.Revoke("nope"); !errors.Is(err, ErrNoKey) || !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("revoke unknown id: %v", err)
	}
	if n := s.Active(); n != 1 {
		t.Fatalf("active = %d, want 1", n)
	}

	// A fresh store on the same file sees the same keys, oldest first.
	s2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	got := s2.List()
	if len(got) != 2 || got[0].ID != k.ID || !got[0].Revoked || got[1].ID != k2.ID || got[1].Revoked || got[1].Scope != ScopeRead {
		t.Fatalf("reopened store lists %+v", got)
	}
	if _, err := s2.Authenticate(secret); !errors.Is(err, ErrRevokedKey) {
		t.Fatalf("revoked key after reopen: %v", err)
	}
}

func TestFileHoldsHashesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	s := openAt(t, path, newClock())
	var secrets []string
	for _, sc := range []Scope{ScopeRead, ScopeWrite, ScopeAdmin} {
		secret, _ := mustCreate(t, s, string(sc), sc, 0, 0)
		secrets = append(secrets, secret)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets {
		// Neither the secret nor its non-public part may be on disk.
		if strings.Contains(string(b), secret[len(SecretPrefix)+IDLen:]) {
			t.Fatalf("keys.json contains a secret:\n%s", b)
		}
	}
	if !strings.Contains(string(b), `"sha256"`) {
		t.Fatalf("keys.json has no hashes:\n%s", b)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	// No temp files left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only keys.json", len(ents))
	}
}

func TestAuthenticate(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keys.json"), newClock())
	good, gk := mustCreate(t, s, "good", ScopeAdmin, 0, 0)
	revoked, rk := mustCreate(t, s, "old", ScopeRead, 0, 0)
	if err := s.Revoke(rk.ID); err != nil {
		t.Fatal(err)
	}
	// Same ID, different tail: the ID alone must not authenticate.
	flipped := []byte(good)
	if flipped[len(flipped)-1] == 'A' {
		flipped[len(flipped)-1] = 'B'
	} else {
		flipped[len(flipped)-1] = 'A'
	}
	tests := []struct {
		name, secret string
		want         error
	}{
		{"good", good, nil},
		{"revoked", revoked, ErrRevokedKey},
		{"last char changed", string(flipped), ErrInvalidKey},
		{"unknown", SecretPrefix + strings.Repeat("x", 43), ErrInvalidKey},
		{"no prefix", good[len(SecretPrefix):], ErrInvalidKey},
		{"empty", "", ErrInvalidKey},
		{"trailing space", good + " ", ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := s.Authenticate(tt.secret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (k.ID != gk.ID || k.Scope != ScopeAdmin) {
				t.Fatalf("key %+v, want %+v", k, gk)
			}
			if tt.want != nil && !errors.Is(err, data.ErrUnauthorized) {
				t.Fatalf("%v does not wrap data.ErrUnauthorized", err)
			}
		})
	}
}

func TestReloadFromAnotherStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	c := newClock()
	server := openAt(t, path, c)
	cli := openAt(t, path, newClock()) // another process: `ragd keys create`

	secret, k := mustCreate(t, cli, "new", ScopeRead, 0, 0)
	// The server looked at the file less than a second ago: not yet.
	c.advance(500 * time.Millisecond)
	if _, err := server.Authenticate(secret); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("key visible before the reload interval: %v", err)
	}
	c.advance(500 * time.Millisecond)
	if got, err := server.Authenticate(secret); err != nil || got.ID != k.ID {
		t.Fatalf("after reload: %+v, %v", got, err)
	}

	if err := cli.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Second)
	if _, err := server.Authenticate(secret); !errors.Is(err, ErrRevokedKey) {
		t.Fatalf("revocation not picked up: %v", err)
	}

	// Deleting the file removes every key.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Second)
	if n := len(server.List()); n != 0 {
		t.Fatalf("after delete, %d keys", n)
	}
}

func TestCreateKeepsOtherWritersKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	a := openAt(t, path, newClock())
	b := openAt(t, path, newClock())
	_, ka := mustCreate(t, a, "a", ScopeRead, 0, 0)
	_, kb := mustCreate(t, b, "b", ScopeRead, 0, 0) // b's throttle has not expired; Create must reread anyway
	if err := a.Revoke(kb.ID); err != nil {
		t.Fatalf("a cannot see b's key: %v", err)
	}
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	got := s.List()
	if len(got) != 2 || got[0].ID != ka.ID || got[1].ID != kb.ID || !got[1].Revoked {
		t.Fatalf("file holds %+v", got)
	}
}

func TestCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(path); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("open corrupt file: %v", err)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	c := newClock()
	s := openAt(t, path, c)
	secret, _ := mustCreate(t, s, "k", ScopeRead, 0, 0)
	// A running server keeps its last good keys when the file goes bad...
	if err := os.WriteFile(path, []byte(`{"version":1,"keys":[{"id":"x","scope":"root","sha256":"00"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Second)
	if _, err := s.Authenticate(secret); err != nil {
		t.Fatalf("last good keys dropped: %v", err)
	}
	// ...and refuses to overwrite it.
	if _, _, err := s.Create("k2", ScopeRead, 0, 0); err == nil {
		t.Fatal("Create overwrote a corrupt key file")
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"root"`) {
		t.Fatalf("corrupt file was replaced: %s", b)
	}
}

func TestCreateValidation(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keys.json"), newClock())
	tests := []struct {
		name  string
		key   string
		scope Scope
		rate  float64
		burst int
	}{
		{"bad scope", "k", "root", 0, 0},
		{"empty scope", "k", "", 0, 0},
		{"negative rate", "k", ScopeRead, -1, 0},
		{"negative burst", "k", ScopeRead, 1, -1},
		{"long name", strings.Repeat("n", MaxNameLen+1), ScopeRead, 0, 0},
		{"control chars", "a\nb", ScopeRead, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.Create(tt.key, tt.scope, tt.rate, tt.burst); !errors.Is(err, data.ErrInvalid) {
				t.Fatalf("err = %v, want data.ErrInvalid", err)
			}
		})
	}
	if n := len(s.List()); n != 0 {
		t.Fatalf("rejected creates stored %d keys", n)
	}
}

func TestScopes(t *testing.T) {
	for _, in := range []string{"read", "WRITE", " admin "} {
		if _, err := ParseScope(in); err != nil {
			t.Errorf("ParseScope(%q): %v", in, err)
		}
	}
	if _, err := ParseScope("owner"); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("ParseScope(owner): %v", err)
	}
	tests := []struct {
		have, need Scope
		want       bool
	}{
		{ScopeRead, ScopeRead, true}, {ScopeRead, ScopeWrite, false}, {ScopeRead, ScopeAdmin, false},
		{ScopeWrite, ScopeRead, true}, {ScopeWrite, ScopeWrite, true}, {ScopeWrite, ScopeAdmin, false},
		{ScopeAdmin, ScopeRead, true}, {ScopeAdmin, ScopeWrite, true}, {ScopeAdmin, ScopeAdmin, true},
		{"", ScopeRead, false}, {"root", ScopeRead, false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v", tt.have, tt.need, got)
		}
	}
}

// Authenticate, List and Create from many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keys.json"), newClock())
	secret, _ := mustCreate(t, s, "k", ScopeRead, 0, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, _, err := s.Create("c", ScopeRead, 0, 0); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if _, err := s.Authenticate(secret); err != nil {
					errs <- err
				}
				_ = s.List()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := s.Active(); n != 21 {
		t.Fatalf("active = %d, want 21", n)
	}
}
