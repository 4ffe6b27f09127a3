package auth

import (
	"fmt"
	"strings"

	"github.com/ragd/ragd/data"
)

// Scope is what a key may do. Scopes nest: admin ⊇ write ⊇ read.
type Scope string

// The scopes, weakest first.
const (
	// ScopeRead: GET/HEAD routes and the read-only POST routes (search,
	// ask, query, embeddings, chat completions...).
	ScopeRead Scope = "read"
	// ScopeWrite: everything read allows, plus creating, changing and
	// deleting indexes and documents.
	ScopeWrite Scope = "write"
	// ScopeAdmin: everything, including key management routes.
	ScopeAdmin Scope = "admin"
)

// ParseScope parses "read", "write" or "admin" (case-insensitive).
func ParseScope(s string) (Scope, error) {
	sc := Scope(strings.ToLower(strings.TrimSpace(s)))
	if sc.rank() == 0 {
		return "", fmt.Errorf("%w: scope %q (want read, write or admin)", data.ErrInvalid, s)
	}
	return sc, nil
}

// Allows reports whether a key with scope s may do what needs scope need.
func (s Scope) Allows(need Scope) bool {
	return s.rank() > 0 && s.rank() >= need.rank()
}

// rank orders the scopes; 0 is not a scope.
func (s Scope) rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	}
	return 0
}
