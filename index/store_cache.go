package index

import (
	"encoding/binary"
	"math"

	bolt "go.etcd.io/bbolt"
)

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
