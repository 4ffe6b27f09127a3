package weaviate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/ragd/ragd/data"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate/entities/models"
)

// The backend is a state.Store (package aisearch/state; its live tests
// check it): every ragd replica on the cluster keeps the
// Cloudflare-compatible API's and AI Search's bookkeeping in one
// collection, one object per key, read and written at the backend's
// consistency level.

const stateClass = "RagdState"

func (b *Backend) ensureState(ctx context.Context) error {
	return b.ensureClass(ctx, &models.Class{
		Class:             stateClass,
		Description:       "ragd: shared bookkeeping of the Cloudflare-compatible API, one document per key",
		Vectorizer:        "none",
		VectorIndexConfig: map[string]any{"skip": true},
		ReplicationConfig: &models.ReplicationConfig{Factor: b.replication()},
		Properties: []*models.Property{
			textProp("key", false, true),
			textProp("value", false, false),
			textProp("version", false, false),
			textProp("token", false, false),
		},
	})
}

type stateObj struct {
	version uint64
	token   string
}

// readState reads the version and write token of key's object (not the
// document itself, see LoadState).
func (b *Backend) readState(ctx context.Context, key string) (stateObj, error) {
	res, err := b.c.Experimental().Search().WithCollection(stateClass).WithConsistencyLevel(b.cl).WithLimit(2).
		WithProperties("key", "version", "token").
		WithWhere(filters.Where().WithPath([]string{"key"}).WithOperator(filters.Equal).WithValueText(key)).Do(ctx)
	if err != nil {
		return stateObj{}, wrap("state "+key, err)
	}
	for _, r := range res {
		if k, _ := r.Properties["key"].(string); k != key {
			continue
		}
		ver, _ := r.Properties["version"].(string)
		tok, _ := r.Properties["token"].(string)
		n, err := strconv.ParseUint(ver, 10, 64)
		if err != nil {
			return stateObj{}, fmt.Errorf("weaviate state %q: bad version %q", key, ver)
		}
		return stateObj{version: n, token: tok}, nil
	}
	return stateObj{}, nil
}

// LoadState implements state.Store. The document is read over REST
// by its object id: gRPC replies are capped at 4 MiB by the client, and an
// AI Search document with many items outgrows that.
func (b *Backend) LoadState(ctx context.Context, key string) ([]byte, uint64, error) {
	if b.closed.Load() {
		return nil, 0, data.ErrClosed
	}
	p, err := b.getObject(ctx, stateClass, objectID("state", key))
	if err != nil || p == nil {
		return nil, 0, err
	}
	v, _ := p["value"].(string)
	ver, _ := p["version"].(string)
	n, err := strconv.ParseUint(ver, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("weaviate state %q: bad version %q", key, ver)
	}
	return []byte(v), n, nil
}

// getObject reads one object's properties over REST (nil, nil when it
// does not exist).
func (b *Backend) getObject(ctx context.Context, class, id string) (map[string]any, error) {
	res, err := b.c.Data().ObjectsGetter().WithClassName(class).WithID(id).WithConsistencyLevel(b.cl).Do(ctx)
	if err != nil {
		var ce *fault.WeaviateClientError
		if errors.As(err, &ce) && ce.StatusCode == 404 {
			return nil, nil
		}
		return nil, wrap("read "+class, err)
	}
	if len(res) == 0 || res[0] == nil {
		return nil, nil
	}
	p, _ := res[0].Properties.(map[string]any)
	if p == nil {
		return nil, fmt.Errorf("weaviate %s %s: %w: object without properties", class, id, data.ErrUnavailable)
	}
	return p, nil
}

// StateVersion implements state.Store.
func (b *Backend) StateVersion(ctx context.Context, key string) (uint64, error) {
	if b.closed.Load() {
		return 0, data.ErrClosed
	}
	o, err := b.readState(ctx, key)
	return o.version, err
}

// SaveState implements state.Store. Weaviate has no conditional
// write, so this checks the version, writes with a random token and reads
// the object back: a write that another replica overwrote in the meantime
// is reported as data.ErrConflict (the caller re-applies its change on
// top). Two writes whose check and write interleave within milliseconds
// can still lose the first; the documents it holds are small, rarely
// written bookkeeping.
func (b *Backend) SaveState(ctx context.Context, key string, value []byte, prev uint64) (uint64, error) {
	if b.closed.Load() {
		return 0, data.ErrClosed
	}
	cur, err := b.readState(ctx, key)
	if err != nil {
		return 0, err
	}
	if cur.version != prev {
		return 0, fmt.Errorf("state %q: version %d, not %d: %w", key, cur.version, prev, data.ErrConflict)
	}
	var t [12]byte
	_, _ = rand.Read(t[:])
	tok := hex.EncodeToString(t[:])
	obj := &models.Object{Class: stateClass, ID: strfmtUUID(objectID("state", key)),
		Properties: map[string]any{"key": key, "value": string(value), "version": strconv.FormatUint(prev+1, 10), "token": tok}}
	if err := b.batch(ctx, []*models.Object{obj}); err != nil {
		return 0, err
	}
	back, err := b.readState(ctx, key)
	if err != nil {
		return 0, err
	}
	if back.token != tok {
		return 0, fmt.Errorf("state %q: overwritten by a concurrent write: %w", key, data.ErrConflict)
	}
	return prev + 1, nil
}

// Shared implements state.Store: other replicas write the documents.
func (b *Backend) Shared() bool { return true }
