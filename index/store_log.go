package index

import (
	"fmt"

	"github.com/ragd/ragd/data"
	bolt "go.etcd.io/bbolt"
)

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
