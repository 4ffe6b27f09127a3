package index

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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

// logSince returns change-log entries with sequence > after, collapsed to
// the last operation per chunk, plus the last sequence seen. ok is false if
// the log no longer reaches back to after (it was truncated), in which case
// the caller must rebuild.
func (s *Store) logSince(name string, after uint64) (ops []logOp, last uint64, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
		}
		last = getU64(root.Bucket(bktMeta).Get(keySeq))
		c := root.Bucket(bktLog).Cursor()
		first, _ := c.First()
		if last > after && (first == nil || getU64(first) > after+1) {
			ok = false
			return nil
		}
		ok = true
		idx := map[string]int{}
		for k, v := c.Seek(u64key(after + 1)); k != nil; k, v = c.Next() {
			op := logOp{Op: v[0], Chunk: string(v[1:])}
			if i, seen := idx[op.Chunk]; seen {
				ops[i] = op
				continue
			}
			idx[op.Chunk] = len(ops)
			ops = append(ops, op)
		}
		return nil
	})
	return
}

// truncateLog drops change-log entries with sequence <= upTo (every derived
// index has applied them).
func (s *Store) truncateLog(name string, upTo uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(idxBucketName(name))
		if root == nil {
			return nil
		}
		c := root.Bucket(bktLog).Cursor()
		for k, _ := c.First(); k != nil && getU64(k) <= upTo; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
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

// currentSeq is the index's last change-log sequence.
func (s *Store) currentSeq(name string) uint64 {
	var v uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		if root := tx.Bucket(idxBucketName(name)); root != nil {
			v = getU64(root.Bucket(bktMeta).Get(keySeq))
		}
		return nil
	})
	return v
}

// CachedVectors looks up embeddings by (model, text hash); misses are absent.
func (s *Store) CachedVectors(model string, hashes []string) (map[string][]float32, error) {
	out := map[string][]float32{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktCache)
		for _, h := range hashes {
			if v := b.Get(cacheKey(model, h)); v != nil {
				out[h] = decodeVector(v)
			}
		}
		return nil
	})
	return out, err
}

// PutCachedVectors stores embeddings by (model, text hash).
func (s *Store) PutCachedVectors(model string, vecs map[string][]float32) error {
	if len(vecs) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktCache)
		for h, v := range vecs {
			if err := b.Put(cacheKey(model, h), encodeVector(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

func cacheKey(model, hash string) []byte { return []byte(model + "\x00" + hash) }

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func u64key(v uint64) []byte { return u64val(v) }

func u64val(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func getU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
