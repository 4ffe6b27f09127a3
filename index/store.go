package index

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ragd/ragd/data"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Store is the store of record: one bbolt file holding every named index's
// configuration, documents, chunks, vectors and change log, plus the
// embedding cache. It is safe for concurrent use (bbolt: one writer, many
// readers).
type Store struct {
	db *bolt.DB
}

var (
	bktIndexes = []byte("indexes")
	bktCache   = []byte("embcache")
	bktDocs    = []byte("docs")
	bktChunks  = []byte("chunks")
	bktVectors = []byte("vectors")
	bktLog     = []byte("log")
	bktMeta    = []byte("meta")
	keySeq     = []byte("seq")
	keyVersion = []byte("version")
)

// ErrLocked: another process (a running server) holds the store's file.
var ErrLocked = errors.New("index: data dir in use by another process")

// OpenStore opens (creating if needed) the store file at path. A second
// process holding the file gets an error after a short wait, not a hang.
// That error is ErrLocked.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("index: store dir: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        2 * time.Second,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("index: store %s is locked by another ragd process (a running `ragd serve`?): %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("index: open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bktIndexes, bktCache} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("index: init store: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the store file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store file's path.
func (s *Store) Path() string { return s.db.Path() }

// Size is the store file's size in bytes.
func (s *Store) Size() int64 {
	var n int64
	_ = s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// indexRecord is what the store keeps per named index.
type indexRecord struct {
	Config    data.IndexConfig `json:"config"`
	CreatedAt time.Time        `json:"created_at"`
}

// docRecord is a stored document without its chunks.
type docRecord struct {
	ID        string         `json:"id"`
	Title     string         `json:"title,omitempty"`
	Text      string         `json:"text"`
	Source    string         `json:"source,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Hash      string         `json:"hash"`
	UpdatedAt time.Time      `json:"updated_at"`
	Chunks    int            `json:"chunks"`
}

// chunkRecord is a stored chunk; its vector lives in the vectors bucket.
type chunkRecord struct {
	DocID    string   `json:"doc"`
	Ordinal  int      `json:"n"`
	Text     string   `json:"text"`
	Headings []string `json:"h,omitempty"`
	Start    int      `json:"s"`
	End      int      `json:"e"`
}

// logOp is one change-log entry: a chunk was put or deleted.
type logOp struct {
	Op    byte // 'p' put, 'd' delete
	Chunk string
}

func idxBucketName(name string) []byte { return []byte("idx:" + name) }

func (s *Store) createIndex(cfg data.IndexConfig) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bktIndexes)
		if ib.Get([]byte(cfg.Name)) != nil {
			return fmt.Errorf("index %q: %w", cfg.Name, data.ErrExists)
		}
		rec, _ := json.Marshal(indexRecord{Config: cfg, CreatedAt: time.Now().UTC()})
		if err := ib.Put([]byte(cfg.Name), rec); err != nil {
			return err
		}
		root, err := tx.CreateBucket(idxBucketName(cfg.Name))
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bktDocs, bktChunks, bktVectors, bktLog, bktMeta} {
			if _, err := root.CreateBucket(b); err != nil {
				return err
			}
		}
		// The version starts from the creation time, so an index dropped
		// and created again under the same name never repeats a version
		// (caches key on name + version).
		return root.Bucket(bktMeta).Put(keyVersion, u64val(uint64(time.Now().UnixNano())))
	})
}

func (s *Store) dropIndex(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bktIndexes)
		if ib.Get([]byte(name)) == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		if err := ib.Delete([]byte(name)); err != nil {
			return err
		}
		return tx.DeleteBucket(idxBucketName(name))
	})
}

func (s *Store) setIndexConfig(cfg data.IndexConfig) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bktIndexes)
		raw := ib.Get([]byte(cfg.Name))
		if raw == nil {
			return fmt.Errorf("index %q: %w", cfg.Name, data.ErrNotFound)
		}
		var rec indexRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		rec.Config = cfg
		b, _ := json.Marshal(rec)
		return ib.Put([]byte(cfg.Name), b)
	})
}

func (s *Store) listIndexes() ([]indexRecord, error) {
	var out []indexRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktIndexes).ForEach(func(k, v []byte) error {
			var rec indexRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("index record %q: %w", k, err)
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

// writeResult reports what a document write changed.
type writeResult struct {
	Seq     uint64 // last change-log sequence written
	Written int    // documents written (new or changed)
	Skipped int    // documents unchanged (same hash)
	Chunks  int    // chunks written
	Deletes []string
	PutDocs []string
	// Replaced holds put chunk ids that existed before the write.
	Replaced map[string]bool
}

// putDocuments writes docs (with their chunks and vectors) in ONE
// transaction: each document replaces its previous version whole. A
// document whose hash equals the stored one is skipped unless force is set.
func (s *Store) putDocuments(name string, docs []data.Document, dims int, force bool) (writeResult, error) {
	var res writeResult
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		docsB, chunksB, vecB, logB, metaB := root.Bucket(bktDocs), root.Bucket(bktChunks), root.Bucket(bktVectors), root.Bucket(bktLog), root.Bucket(bktMeta)
		seq := getU64(metaB.Get(keySeq))
		appendLog := func(op byte, chunk string) error {
			seq++
			res.Seq = seq
			return logB.Put(u64key(seq), append([]byte{op}, chunk...))
		}
		for i := range docs {
			d := &docs[i]
			old := docsB.Get([]byte(d.ID))
			var oldRec docRecord
			if old != nil {
				if err := json.Unmarshal(old, &oldRec); err != nil {
					return fmt.Errorf("doc %q record: %w", d.ID, err)
				}
				if !force && oldRec.Hash == d.Hash && d.Hash != "" && sameMeta(oldRec.Metadata, d.Metadata) {
					res.Skipped++
					continue
				}
			}
			newIDs := make(map[string]bool, len(d.Chunks))
			for _, c := range d.Chunks {
				newIDs[c.ID] = true
				if c.Ordinal < oldRec.Chunks {
					if res.Replaced == nil {
						res.Replaced = map[string]bool{}
					}
					res.Replaced[c.ID] = true
				}
			}
			for n := 0; n < oldRec.Chunks; n++ {
				cid := data.ChunkID(d.ID, n)
				if newIDs[cid] {
					continue
				}
				if err := chunksB.Delete([]byte(cid)); err != nil {
					return err
				}
				if err := vecB.Delete([]byte(cid)); err != nil {
					return err
				}
				if err := appendLog('d', cid); err != nil {
					return err
				}
				res.Deletes = append(res.Deletes, cid)
			}
			rec := docRecord{ID: d.ID, Title: d.Title, Text: d.Text, Source: d.Source, Metadata: d.Metadata,
				Hash: d.Hash, UpdatedAt: d.UpdatedAt, Chunks: len(d.Chunks)}
			b, err := json.Marshal(rec)
			if err != nil {
				return fmt.Errorf("doc %q: %w", d.ID, err)
			}
			if err := docsB.Put([]byte(d.ID), b); err != nil {
				return err
			}
			for _, c := range d.Chunks {
				cb, _ := json.Marshal(chunkRecord{DocID: d.ID, Ordinal: c.Ordinal, Text: c.Text, Headings: c.Headings, Start: c.Start, End: c.End})
				if err := chunksB.Put([]byte(c.ID), cb); err != nil {
					return err
				}
				if len(c.Vector) > 0 {
					if dims > 0 && len(c.Vector) != dims {
						return fmt.Errorf("chunk %q: %w: got %d, index has %d", c.ID, data.ErrDimension, len(c.Vector), dims)
					}
					if err := vecB.Put([]byte(c.ID), encodeVector(c.Vector)); err != nil {
						return err
					}
				} else if err := vecB.Delete([]byte(c.ID)); err != nil {
					return err
				}
				if err := appendLog('p', c.ID); err != nil {
					return err
				}
				res.Chunks++
			}
			res.PutDocs = append(res.PutDocs, d.ID)
			res.Written++
		}
		if res.Written == 0 {
			return nil
		}
		if err := metaB.Put(keySeq, u64val(seq)); err != nil {
			return err
		}
		return metaB.Put(keyVersion, u64val(getU64(metaB.Get(keyVersion))+1))
	})
	return res, err
}

// deleteDocuments removes documents and their chunks in one transaction.
// Unknown ids are reported in missing.
func (s *Store) deleteDocuments(name string, ids []string) (res writeResult, missing []string, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		docsB, chunksB, vecB, logB, metaB := root.Bucket(bktDocs), root.Bucket(bktChunks), root.Bucket(bktVectors), root.Bucket(bktLog), root.Bucket(bktMeta)
		seq := getU64(metaB.Get(keySeq))
		for _, id := range ids {
			raw := docsB.Get([]byte(id))
			if raw == nil {
				missing = append(missing, id)
				continue
			}
			var rec docRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("doc %q record: %w", id, err)
			}
			for n := 0; n < rec.Chunks; n++ {
				cid := data.ChunkID(id, n)
				if err := chunksB.Delete([]byte(cid)); err != nil {
					return err
				}
				if err := vecB.Delete([]byte(cid)); err != nil {
					return err
				}
				seq++
				if err := logB.Put(u64key(seq), append([]byte{'d'}, cid...)); err != nil {
					return err
				}
				res.Deletes = append(res.Deletes, cid)
			}
			if err := docsB.Delete([]byte(id)); err != nil {
				return err
			}
			res.Written++
		}
		res.Seq = seq
		if res.Written == 0 {
			return nil
		}
		if err := metaB.Put(keySeq, u64val(seq)); err != nil {
			return err
		}
		return metaB.Put(keyVersion, u64val(getU64(metaB.Get(keyVersion))+1))
	})
	return res, missing, err
}

func sameMeta(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
