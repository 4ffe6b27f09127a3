package index

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ragd/ragd/data"
)

// Optional capabilities. A backend implements Backend; the service and
// the commands discover what else it can do by asserting these small
// interfaces, as database/sql discovers a driver's Pinger.

// VectorCache stores embeddings by (model, text hash), so unchanged text
// is never embedded twice.
type VectorCache interface {
	CachedVectors(model string, hashes []string) (map[string][]float32, error)
	PutCachedVectors(model string, vecs map[string][]float32) error
}

// VectorCacher is a backend that keeps an embedding cache of its own (the
// embedded engine keeps one in its store).
type VectorCacher interface {
	VectorCache() VectorCache
}

// StoredHead is what a writer needs to know about a stored document to
// tell whether a new version changes it.
type StoredHead struct {
	Hash     string
	Metadata map[string]any
}

// HeadReader is a backend that reads the heads of some documents cheaply
// (without reading every document's hash). Ids not stored are absent from
// the result.
type HeadReader interface {
	DocumentHeads(ctx context.Context, name string, ids []string) (map[string]StoredHead, error)
}

// Snapshotter is a backend that writes a consistent copy of itself into a
// folder (RestoreSnapshot reads it back).
type Snapshotter interface {
	Snapshot(ctx context.Context, dir string) (SnapshotManifest, error)
	// SnapshotWith writes into dir with options (front-end files, a
	// bounded wait); SnapshotInto picks a new folder under parent.
	SnapshotWith(ctx context.Context, dir string, opts SnapshotOptions) (SnapshotResult, error)
	SnapshotInto(ctx context.Context, parent string, opts SnapshotOptions) (SnapshotResult, error)
}

// Checker is a backend that verifies and rebuilds an index's derived
// structures against its store of record.
type Checker interface {
	Check(ctx context.Context, name string) (CheckReport, error)
	Reindex(ctx context.Context, name string) (ReindexReport, error)
}

// SameMetadata reports whether two documents' metadata are equal, as
// stores compare them when deciding that a write changes nothing.
func SameMetadata(a, b map[string]any) bool { return sameMeta(a, b) }

var (
	_ VectorCacher = (*Engine)(nil)
	_ HeadReader   = (*Engine)(nil)
	_ Snapshotter  = (*Engine)(nil)
	_ Checker      = (*Engine)(nil)
)

// VectorCache is the engine's embedding cache (kept in its store).
func (e *Engine) VectorCache() VectorCache { return e.store }

// DocumentHeads returns the hash and metadata of each stored document
// among ids.
func (e *Engine) DocumentHeads(ctx context.Context, name string, ids []string) (map[string]StoredHead, error) {
	if _, err := e.get(name); err != nil {
		return nil, err
	}
	out := make(map[string]StoredHead, len(ids))
	err := e.store.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		docs := root.Bucket(bktDocs)
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := docs.Get([]byte(id))
			if v == nil {
				continue
			}
			var h struct {
				Hash     string         `json:"hash"`
				Metadata map[string]any `json:"metadata"`
			}
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("doc %q record: %w", id, err)
			}
			out[id] = StoredHead{Hash: h.Hash, Metadata: h.Metadata}
		}
		return nil
	})
	return out, err
}

// Retrieval is what one retriever needs of a normalized query.
type Retrieval struct {
	// Text is the keyword query; Vector the vector query.
	Text   string
	Vector []float32
	// K is how many candidates to return (see FetchK).
	K int
	// Ef is the HNSW search breadth (0: the index's default).
	Ef        int
	Filter    data.Filter
	Namespace string
}

// RetrievalFor is the retrieval a normalized query asks each retriever for.
func RetrievalFor(q data.Query) Retrieval {
	return Retrieval{Text: q.Text, Vector: q.Vector, K: FetchK(q), Ef: q.Ef, Filter: q.Filter, Namespace: q.Namespace}
}

// filter is the keyword side's filter: the namespace is one more condition.
func (r Retrieval) filter() data.Filter {
	f := r.Filter
	if r.Namespace != "" {
		f.Conds = append(append([]data.Cond(nil), f.Conds...), data.Cond{Field: "namespace", Op: data.OpEq, Value: r.Namespace})
	}
	return f
}

// Retriever is a backend whose keyword and vector retrieval the service
// runs one by one, fusing (index.Fuse) and reranking the candidates
// itself before Hydrate reads the hits. A backend without it searches with
// its own native hybrid (Backend.Search).
type Retriever interface {
	RetrieveKeyword(ctx context.Context, name string, r Retrieval) ([]Ranked, error)
	RetrieveVector(ctx context.Context, name string, r Retrieval) ([]Ranked, error)
	Hydrate(ctx context.Context, name string, fl []Fused, explain bool) ([]data.Hit, error)
}

var _ Retriever = (*Engine)(nil)
