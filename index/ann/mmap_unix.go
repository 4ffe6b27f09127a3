//go:build linux || darwin || freebsd || netbsd || openbsd

package ann

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// mapping is a read-only view of part of a file. On unix it is mmap'ed:
// its pages are read from the file when first touched and the kernel may
// drop them again, so they are not resident memory of the process.
type mapping struct {
	b      []byte
	mapped bool
	once   sync.Once
}

// mapFile maps n bytes of f from off (a multiple of floatAlign).
func mapFile(f *os.File, off, n int64) (*mapping, error) {
	if n == 0 {
		return &mapping{}, nil
	}
	if n != int64(int(n)) {
		return nil, fmt.Errorf("mmap %d bytes: too large", n)
	}
	b, err := syscall.Mmap(int(f.Fd()), off, int(n), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return &mapping{b: b, mapped: true}, nil
}

// close unmaps; nothing may read the view afterwards.
func (m *mapping) close() {
	m.once.Do(func() {
		if m.mapped {
			_ = syscall.Munmap(m.b)
		}
		m.b = nil
	})
}
