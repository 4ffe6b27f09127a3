//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package ann

import (
	"fmt"
	"os"
	"sync"
)

// mapping is a read-only view of part of a file. Without mmap it is a
// heap copy, so it counts as resident memory.
type mapping struct {
	b      []byte
	mapped bool
	once   sync.Once
}

// mapFile reads n bytes of f from off into memory.
func mapFile(f *os.File, off, n int64) (*mapping, error) {
	if n != int64(int(n)) {
		return nil, fmt.Errorf("read %d bytes: too large", n)
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, err
	}
	return &mapping{b: b}, nil
}

func (m *mapping) close() { m.once.Do(func() { m.b = nil }) }
