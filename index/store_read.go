package index

import (
	"encoding/json"
	"fmt"

	"github.com/ragd/ragd/data"
	bolt "go.etcd.io/bbolt"
)

// getDocument returns a stored document with its chunks (vectors omitted
// unless withVectors).
func (s *Store) getDocument(name, id string, withVectors bool) (data.Document, error) {
	var d data.Document
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		raw := root.Bucket(bktDocs).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("document %q: %w", id, data.ErrNotFound)
		}
		var rec docRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		d = data.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text, Source: rec.Source, Metadata: rec.Metadata, Hash: rec.Hash, UpdatedAt: rec.UpdatedAt}
		for n := 0; n < rec.Chunks; n++ {
			cid := data.ChunkID(id, n)
			c, ok, err := readChunk(root, cid, withVectors)
			if err != nil {
				return err
			}
			if ok {
				d.Chunks = append(d.Chunks, c)
			}
		}
		return nil
	})
	return d, err
}

func readChunk(root *bolt.Bucket, cid string, withVector bool) (data.Chunk, bool, error) {
	raw := root.Bucket(bktChunks).Get([]byte(cid))
	if raw == nil {
		return data.Chunk{}, false, nil
	}
	var cr chunkRecord
	if err := json.Unmarshal(raw, &cr); err != nil {
		return data.Chunk{}, false, fmt.Errorf("chunk %q record: %w", cid, err)
	}
	c := data.Chunk{ID: cid, DocID: cr.DocID, Ordinal: cr.Ordinal, Text: cr.Text, Headings: cr.Headings, Start: cr.Start, End: cr.End}
	if withVector {
		if v := root.Bucket(bktVectors).Get([]byte(cid)); v != nil {
			c.Vector = decodeVector(v)
		}
	}
	return c, true, nil
}

// chunkView is a chunk joined with its document's fields, for hits.
type chunkView struct {
	Chunk    data.Chunk
	Title    string
	Source   string
	Metadata map[string]any
	Vector   []float32
	// New is set when the chunk id was certainly not indexed before this
	// write (a derived index can skip looking up its previous version).
	New bool
}

// chunks fetches chunks (and their documents' title/source/metadata) by id.
// Missing ids are left out of the map.
func (s *Store) chunks(name string, ids []string, withVectors bool) (map[string]chunkView, error) {
	out := make(map[string]chunkView, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		// A hit needs only these document fields: decoding into them skips
		// the document's text rather than copying it out.
		type docView struct {
			Title    string         `json:"title,omitempty"`
			Source   string         `json:"source,omitempty"`
			Metadata map[string]any `json:"metadata,omitempty"`
		}
		docCache := map[string]*docView{}
		for _, id := range ids {
			c, ok, err := readChunk(root, id, withVectors)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			dr, seen := docCache[c.DocID]
			if !seen {
				if raw := root.Bucket(bktDocs).Get([]byte(c.DocID)); raw != nil {
					dr = &docView{}
					if err := json.Unmarshal(raw, dr); err != nil {
						return err
					}
				}
				docCache[c.DocID] = dr
			}
			v := chunkView{Chunk: c, Vector: c.Vector}
			if dr != nil {
				v.Title, v.Source, v.Metadata = dr.Title, dr.Source, dr.Metadata
			}
			out[id] = v
		}
		return nil
	})
	return out, err
}

// docHashes returns id -> content hash for every stored document.
func (s *Store) docHashes(name string) (map[string]string, error) {
	return s.docField(name, func(h docHead) string { return h.Hash })
}

// docSources returns id -> source for every stored document.
func (s *Store) docSources(name string) (map[string]string, error) {
	return s.docField(name, func(h docHead) string { return h.Source })
}

// docHead is the part of a document record that docField decodes.
type docHead struct {
	Hash   string `json:"hash"`
	Source string `json:"source"`
}

// docField maps every stored document's id to one field of its record.
func (s *Store) docField(name string, pick func(docHead) string) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		return root.Bucket(bktDocs).ForEach(func(k, v []byte) error {
			var h docHead
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
			out[string(k)] = pick(h)
			return nil
		})
	})
	return out, err
}

// listDocuments pages through document ids in order, starting after `after`.
func (s *Store) listDocuments(name, after string, limit int) ([]docRecord, error) {
	var out []docRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		c := root.Bucket(bktDocs).Cursor()
		var k, v []byte
		if after == "" {
			k, v = c.First()
		} else {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			var rec docRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			rec.Text = ""
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// counts returns documents, chunks and vectors stored, plus seq and version.
func (s *Store) counts(name string) (docs, chunks, vectors int, seq, version uint64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		docs = root.Bucket(bktDocs).Stats().KeyN
		chunks = root.Bucket(bktChunks).Stats().KeyN
		vectors = root.Bucket(bktVectors).Stats().KeyN
		seq = getU64(root.Bucket(bktMeta).Get(keySeq))
		version = getU64(root.Bucket(bktMeta).Get(keyVersion))
		return nil
	})
	return
}

// version is the index's change counter (bumped by every write).
func (s *Store) version(name string) uint64 {
	var v uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		if root := tx.Bucket(idxBucketName(name)); root != nil {
			v = getU64(root.Bucket(bktMeta).Get(keyVersion))
		}
		return nil
	})
	return v
}

// forEachChunk calls fn for every stored chunk (with vector when present),
// in id order, inside one read transaction.
func (s *Store) forEachChunk(name string, withVectors bool, fn func(cv chunkView) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		docsB := root.Bucket(bktDocs)
		var lastDoc string
		var dr docRecord
		return root.Bucket(bktChunks).ForEach(func(k, _ []byte) error {
			c, _, err := readChunk(root, string(k), withVectors)
			if err != nil {
				return err
			}
			if c.DocID != lastDoc {
				dr = docRecord{}
				if raw := docsB.Get([]byte(c.DocID)); raw != nil {
					if err := json.Unmarshal(raw, &dr); err != nil {
						return err
					}
				}
				lastDoc = c.DocID
			}
			return fn(chunkView{Chunk: c, Title: dr.Title, Source: dr.Source, Metadata: dr.Metadata, Vector: c.Vector})
		})
	})
}
