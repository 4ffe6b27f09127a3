package ann

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/ragd/ragd/data"
)

// admit decides which nodes a search may return: live nodes, in the
// namespace (if any), whose metadata match the filter (if any).
// A nil *admit admits every node (used while building the graph).
type admit struct {
	s      *state
	ns     uint32
	anyNS  bool
	filter data.Filter
	// bits, when set, is a superset of the admitted nodes (from a posting
	// list or column scan), checked before the full filter.
	bits []uint64
}

func (a *admit) ok(id uint32) bool {
	if a == nil {
		return true
	}
	if a.bits != nil && a.bits[id/64]&(1<<(id%64)) == 0 {
		return false
	}
	s := a.s
	if s.flags[id]&flagDeleted != 0 {
		return false
	}
	if !a.anyNS && s.nsOf[id] != a.ns {
		return false
	}
	if len(a.filter.Conds) > 0 && !a.filter.Match(s.meta[id]) {
		return false
	}
	return true
}

// postKey is the inverted-index key of a scalar metadata value.
// Integers and float32 are keyed as float64, as data.Filter compares them.
func postKey(field string, v any) (string, bool) {
	var k string
	switch x := v.(type) {
	case string:
		k = "s" + x
	case bool:
		k = "b" + strconv.FormatBool(x)
	case nil:
		k = "z"
	case float64:
		k = "n" + strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		k = "n" + strconv.FormatFloat(float64(x), 'g', -1, 64)
	case int:
		k = "n" + strconv.FormatFloat(float64(x), 'g', -1, 64)
	case int64:
		k = "n" + strconv.FormatFloat(float64(x), 'g', -1, 64)
	case int32:
		k = "n" + strconv.FormatFloat(float64(x), 'g', -1, 64)
	case uint64:
		k = "n" + strconv.FormatFloat(float64(x), 'g', -1, 64)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			k = "n" + strconv.FormatFloat(f, 'g', -1, 64)
		} else {
			k = "s" + string(x)
		}
	default:
		return "", false
	}
	return field + "\x00" + k, true
}

// column holds one numeric metadata field for every node (NaN where the
// node lacks it), so range conditions can be answered by a scan of one
// []float64. A field that ever holds a non-number is marked mixed and
// left to the filter.
type column struct {
	vals  []float64
	mixed bool
}

func (s *state) setColumn(field string, id uint32, v any) {
	c := s.cols[field]
	if c == nil {
		c = &column{}
		s.cols[field] = c
	}
	if c.mixed {
		return
	}
	f, ok := numeric(v)
	if !ok {
		c.mixed, c.vals = true, nil
		return
	}
	for len(c.vals) <= int(id) {
		c.vals = append(c.vals, math.NaN())
	}
	c.vals[id] = f
}

func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// rangeScan returns the nodes whose column value passes c, or ok=false
// when c cannot be answered from a column.
func (s *state) rangeScan(c data.Cond) ([]uint32, bool) {
	col := s.cols[c.Field]
	bound, isNum := c.Value.(float64)
	if col == nil || col.mixed || !isNum {
		return nil, false
	}
	var out []uint32
	for i, v := range col.vals {
		var pass bool
		switch c.Op {
		case data.OpLt:
			pass = v < bound
		case data.OpLte:
			pass = v <= bound
		case data.OpGt:
			pass = v > bound
		case data.OpGte:
			pass = v >= bound
		}
		if pass {
			out = append(out, uint32(i))
		}
	}
	return out, true
}

// indexMeta adds node id to the postings of its scalar metadata values
// (each element of an array value too) and to the numeric columns.
func (s *state) indexMeta(id uint32, meta map[string]any) {
	for f, v := range meta {
		s.setColumn(f, id, v)
		switch arr := v.(type) {
		case []any:
			for _, e := range arr {
				s.postAdd(f, e, id)
			}
		case []string:
			for _, e := range arr {
				s.postAdd(f, e, id)
			}
		default:
			s.postAdd(f, v, id)
		}
	}
}

func (s *state) postAdd(field string, v any, id uint32) {
	if k, ok := postKey(field, v); ok {
		s.post[k] = append(s.post[k], id)
	}
}

// candidates returns the smallest node list that is a superset of the
// nodes a search can return (from the namespace and the $eq/$in
// postings), or ok=false when no condition narrows the search. Lists may
// hold deleted nodes and duplicates; the caller checks each node.
func (s *state) candidates(a *admit) (lists [][]uint32, size int, ok bool) {
	if !a.anyNS {
		lists, size, ok = [][]uint32{s.nsNodes[a.ns]}, len(s.nsNodes[a.ns]), true
	}
	for _, c := range a.filter.Conds {
		var ls [][]uint32
		var n int
		switch c.Op {
		case data.OpEq:
			k, kok := postKey(c.Field, c.Value)
			if !kok {
				continue
			}
			ls = [][]uint32{s.post[k]}
			n = len(ls[0])
		case data.OpLt, data.OpLte, data.OpGt, data.OpGte:
			l, rok := s.rangeScan(c)
			if !rok {
				continue
			}
			ls, n = [][]uint32{l}, len(l)
		case data.OpIn:
			vs, _ := c.Value.([]any)
			for _, v := range vs {
				k, kok := postKey(c.Field, v)
				if !kok {
					continue
				}
				ls = append(ls, s.post[k])
				n += len(s.post[k])
			}
		default:
			continue
		}
		if !ok || n < size {
			lists, size, ok = ls, n, true
		}
	}
	return lists, size, ok
}

// estimate returns an estimate of how many nodes a admits, given the
// candidate lists of candidates: their size, refined by sampling when other
// conditions apply; with no lists, a sample of all nodes.
func (s *state) estimate(a *admit, lists [][]uint32, size int, narrowed bool) int {
	if !narrowed {
		return s.sample(a, [][]uint32{nil}, s.n)
	}
	if len(a.filter.Conds) == 0 {
		return size
	}
	return s.sample(a, lists, size)
}

// bitmap marks every node in lists, into buf.
func bitmap(n int, lists [][]uint32, buf []uint64) []uint64 {
	w := (n + 63) / 64
	if cap(buf) < w {
		buf = make([]uint64, w)
	}
	buf = buf[:w]
	clear(buf)
	for _, l := range lists {
		for _, id := range l {
			buf[id/64] |= 1 << (id % 64)
		}
	}
	return buf
}

// sample counts admitted nodes among up to 512 evenly spaced entries of
// lists (a nil list stands for all nodes) and scales to size.
func (s *state) sample(a *admit, lists [][]uint32, size int) int {
	if size == 0 {
		return 0
	}
	const want = 512
	step := max(1, size/want)
	hit, tried, pos := 0, 0, 0
	for _, l := range lists {
		n := len(l)
		if l == nil {
			n = s.n
		}
		for ; pos < n; pos += step {
			id := uint32(pos)
			if l != nil {
				id = l[pos]
			}
			tried++
			if a.ok(id) {
				hit++
			}
		}
		pos -= n
	}
	if tried == 0 {
		return 0
	}
	return (hit*size + tried - 1) / tried
}
