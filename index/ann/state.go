package ann

import (
	"math"
	"math/rand"
	"sync"
	"sync/atomic"

	"github.com/ragd/ragd/data"
)

const (
	flagDeleted = 1 << 0
	noNode      = math.MaxUint32
	maxLevel    = 31
	lockStripes = 1024
)

// state is the whole content of an index: contiguous slabs indexed by a
// dense node id (uint32), one map from string id to node, and the graph.
//
// Layout:
//   - vecs: node i's float32 vector at [i*dims, (i+1)*dims).
//   - codes/scales/sqn: int8 codes, one scale and one squared norm per node
//     (Quantize only; sqn only for euclidean).
//   - links0: layer-0 neighbour lists, stride m0+1, slot 0 holds the count.
//   - upOff/upper: a node with level L > 0 owns L lists of stride m+1 in
//     upper starting at upOff[i] (layers 1..L).
//
// Concurrency: slab headers change only while the owning Index holds its
// write lock. Neighbour lists are read and written with atomic operations;
// writers additionally serialise a node's list with a striped mutex.
// Node vectors never change once written (a re-added id gets a new node).
type state struct {
	metric data.Metric
	dims   int
	m, m0  int
	graph  bool
	quant  bool

	n        int
	vecs     slab[float32]
	fmap     *mapping // file mapping behind vecs' mapped pages, if any
	codes    slab[int8]
	scales   []float32
	sqn      []float32
	levels   []uint8
	flags    []uint8
	links0   slab[uint32]
	indeg    []int32 // layer-0 in-degree per node (atomic; see repair.go)
	upOff    []uint32
	upper    []uint32
	ids      []string
	byID     map[string]uint32
	nsOf     []uint32
	meta     []map[string]any
	nsNames  []string
	nsByName map[string]uint32
	nsNodes  [][]uint32
	post     map[string][]uint32
	cols     map[string]*column
	deleted  int

	epMu     sync.Mutex
	ep       uint32
	topLevel int

	orphMu  sync.Mutex
	orphans []uint32 // nodes whose layer-0 in-degree fell to zero

	locks [lockStripes]sync.Mutex
	rng   *rand.Rand
	mult  float64
}

func newState(cfg *Config) *state {
	seed := cfg.Seed
	if seed == 0 {
		seed = 0x5eed
	}
	s := &state{
		metric:   cfg.Metric,
		dims:     cfg.Dims,
		m:        cfg.M,
		m0:       2 * cfg.M,
		quant:    cfg.Quantize,
		byID:     map[string]uint32{},
		nsByName: map[string]uint32{"": 0},
		nsNames:  []string{""},
		nsNodes:  [][]uint32{nil},
		post:     map[string][]uint32{},
		cols:     map[string]*column{},
		ep:       noNode,
		topLevel: -1,
		rng:      rand.New(rand.NewSource(seed)),
		mult:     1 / math.Log(float64(cfg.M)),
	}
	s.graph = true
	s.vecs = newSlab[float32](s.dims)
	s.codes = newSlab[int8](s.dims)
	s.links0 = newSlab[uint32](s.m0 + 1)
	return s
}

func (s *state) live() int { return s.n - s.deleted }

func (s *state) vec(id uint32) []float32 {
	return s.vecs.at(id)
}

func (s *state) code(id uint32) []int8 {
	return s.codes.at(id)
}

func (s *state) isDeleted(id uint32) bool { return s.flags[id]&flagDeleted != 0 }

// list returns node id's neighbour list on a layer; slot 0 is the count.
func (s *state) list(id uint32, level int) []uint32 {
	if level == 0 {
		return s.links0.at(id)
	}
	o := int(s.upOff[id]) + (level-1)*(s.m+1)
	return s.upper[o : o+s.m+1 : o+s.m+1]
}

// neighbours copies a list into buf with atomic loads.
func neighbours(l []uint32, buf []uint32) []uint32 {
	c := int(atomic.LoadUint32(&l[0]))
	if c > len(l)-1 {
		c = len(l) - 1
	}
	buf = buf[:0]
	for j := 1; j <= c; j++ {
		buf = append(buf, atomic.LoadUint32(&l[j]))
	}
	return buf
}

// setList overwrites a list with atomic stores (caller holds the node lock).
func setList(l []uint32, ids []uint32) {
	for j, id := range ids {
		atomic.StoreUint32(&l[j+1], id)
	}
	atomic.StoreUint32(&l[0], uint32(len(ids)))
}

func (s *state) lock(id uint32) *sync.Mutex { return &s.locks[id%lockStripes] }

func (s *state) randomLevel() int {
	l := int(-math.Log(1-s.rng.Float64()) * s.mult)
	if l > maxLevel {
		l = maxLevel
	}
	return l
}

// grow makes room for extra more nodes (caller holds the write lock).
func (s *state) grow(extra int) {
	need := s.n + extra
	s.vecs.ensure(need)
	if s.quant {
		s.codes.ensure(need)
	}
	if s.graph {
		s.links0.ensure(need)
	}
	if need <= cap(s.ids) {
		return
	}
	nc := max(need, cap(s.ids)+cap(s.ids)/2)
	if s.quant {
		s.scales = growTo(s.scales, nc)
		if s.metric == data.L2 {
			s.sqn = growTo(s.sqn, nc)
		}
	}
	s.levels = growTo(s.levels, nc)
	s.flags = growTo(s.flags, nc)
	if s.graph {
		s.upOff = growTo(s.upOff, nc)
		s.indeg = growTo(s.indeg, nc)
	}
	s.ids = growTo(s.ids, nc)
	s.nsOf = growTo(s.nsOf, nc)
	s.meta = growTo(s.meta, nc)
}

// growTo returns a slice with the same length and capacity >= c.
func growTo[T any](x []T, c int) []T {
	if cap(x) >= c {
		return x
	}
	y := make([]T, len(x), c)
	copy(y, x)
	return y
}

// add appends one validated item as a new node (not yet linked) and
// returns its id; a previous node with the same string id is tombstoned.
// The caller holds the write lock and has called grow.
func (s *state) add(it *Item, level int) uint32 {
	if old, ok := s.byID[it.ID]; ok {
		s.tombstone(old)
	}
	id := uint32(s.n)
	s.n++
	v := s.vec(id)
	copy(v, it.Vector)
	if s.metric == data.Cosine {
		normalize(v)
	}
	if s.quant {
		s.scales = append(s.scales, quantize(s.code(id), v))
		if s.metric == data.L2 {
			var q float32
			for _, x := range v {
				q += x * x
			}
			s.sqn = append(s.sqn, q)
		}
	}
	s.levels = append(s.levels, uint8(level))
	s.flags = append(s.flags, 0)
	if s.graph {
		clear(s.links0.at(id))
		off := uint32(0)
		if level > 0 {
			off = uint32(len(s.upper))
			s.upper = append(s.upper, make([]uint32, level*(s.m+1))...)
		}
		s.upOff = append(s.upOff, off)
		s.indeg = append(s.indeg, 0)
	}
	s.ids = append(s.ids, it.ID)
	s.byID[it.ID] = id
	ns, ok := s.nsByName[it.Namespace]
	if !ok {
		ns = uint32(len(s.nsNames))
		s.nsNames = append(s.nsNames, it.Namespace)
		s.nsByName[it.Namespace] = ns
		s.nsNodes = append(s.nsNodes, nil)
	}
	s.nsOf = append(s.nsOf, ns)
	s.nsNodes[ns] = append(s.nsNodes[ns], id)
	var meta map[string]any
	if len(it.Metadata) > 0 {
		meta = make(map[string]any, len(it.Metadata))
		for k, x := range it.Metadata {
			meta[k] = x
		}
	}
	s.meta = append(s.meta, meta)
	s.indexMeta(id, meta)
	return id
}

// tombstone marks a node deleted; it keeps routing searches.
func (s *state) tombstone(id uint32) {
	if s.isDeleted(id) {
		return
	}
	s.flags[id] |= flagDeleted
	s.deleted++
	if s.byID[s.ids[id]] == id {
		delete(s.byID, s.ids[id])
	}
	s.meta[id] = nil
}

func (s *state) entry() (uint32, int) {
	s.epMu.Lock()
	defer s.epMu.Unlock()
	return s.ep, s.topLevel
}

// bytes returns the heap memory of the vectors and of the graph; mapped
// float vectors (quantized indexes after Save or Load) are not counted.
func (s *state) bytes() (vec, graph int64) {
	vec = s.vecs.bytes() + s.codes.bytes() + int64(len(s.scales)+len(s.sqn))*4
	graph = s.links0.bytes() + int64(len(s.upOff)+len(s.upper)+len(s.nsOf)+len(s.indeg))*4 + int64(len(s.levels)+len(s.flags))
	return vec, graph
}
