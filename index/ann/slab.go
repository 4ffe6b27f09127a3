package ann

import "unsafe"

// pageNodes is how many nodes one slab page holds.
const pageNodes = 4096

// slab stores stride values per node in pages of pageNodes nodes: each
// page is one contiguous block, growth never copies a full page, and at
// most one page is partly used. The first page grows by doubling so small
// indexes stay small.
//
// The leading mapped pages may be views of a read-only file mapping (see
// mapPages): they are never written (growth copies a partial last page
// to the heap) and bytes does not count them.
type slab[T any] struct {
	stride int
	pages  [][]T
	mapped int
}

func newSlab[T any](stride int) slab[T] { return slab[T]{stride: stride} }

// at returns node id's values.
func (s *slab[T]) at(id uint32) []T {
	p := s.pages[id/pageNodes]
	o := int(id%pageNodes) * s.stride
	return p[o : o+s.stride : o+s.stride]
}

// capacity is the number of nodes the pages hold.
func (s *slab[T]) capacity() int {
	if len(s.pages) == 0 {
		return 0
	}
	return (len(s.pages)-1)*pageNodes + len(s.pages[len(s.pages)-1])/s.stride
}

// ensure makes room for n nodes (caller holds the index write lock).
func (s *slab[T]) ensure(n int) {
	for s.capacity() < n {
		if k := len(s.pages); k > 0 && len(s.pages[k-1]) < pageNodes*s.stride {
			nodes := min(pageNodes, max(2*len(s.pages[k-1])/s.stride, n-(k-1)*pageNodes))
			np := make([]T, nodes*s.stride)
			copy(np, s.pages[k-1])
			s.pages[k-1] = np
			s.mapped = min(s.mapped, k-1)
			continue
		}
		nodes := pageNodes
		if len(s.pages) == 0 {
			nodes = min(pageNodes, max(n, 64))
		}
		s.pages = append(s.pages, make([]T, nodes*s.stride))
	}
}

// chunks calls f with the contiguous blocks holding nodes [0, n).
func (s *slab[T]) chunks(n int, f func(b []T)) {
	for i := 0; n > 0; i++ {
		k := min(n, pageNodes)
		f(s.pages[i][:k*s.stride])
		n -= k
	}
}

// bytes is the heap memory held by the pages (mapped pages excluded).
func (s *slab[T]) bytes() int64 {
	var z T
	var b int64
	for _, p := range s.pages[s.mapped:] {
		b += int64(len(p)) * int64(unsafe.Sizeof(z))
	}
	return b
}

// mappedBytes is the size of the mapped pages.
func (s *slab[T]) mappedBytes() int64 {
	var z T
	var b int64
	for _, p := range s.pages[:s.mapped] {
		b += int64(len(p)) * int64(unsafe.Sizeof(z))
	}
	return b
}

// exact replaces the pages with heap pages holding exactly n nodes (the
// last page is not rounded up), for loading.
func (s *slab[T]) exact(n int) {
	s.pages, s.mapped = nil, 0
	for off := 0; off < n; off += pageNodes {
		s.pages = append(s.pages, make([]T, min(pageNodes, n-off)*s.stride))
	}
}

// mapPages makes b (n nodes) the slab's content, page by page, without
// copying; mapped says whether b is a file mapping rather than heap.
func (s *slab[T]) mapPages(b []T, n int, mapped bool) {
	s.pages, s.mapped = nil, 0
	for off := 0; off < n; off += pageNodes {
		lo, hi := off*s.stride, min(off+pageNodes, n)*s.stride
		s.pages = append(s.pages, b[lo:hi:hi])
	}
	if mapped {
		s.mapped = len(s.pages)
	}
}
