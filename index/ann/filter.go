package ann

import (
	"encoding/json"
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
}

func (a *admit) ok(id uint32) bool {
	if a == nil {
		return true
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

// indexMeta adds node id to the postings of its scalar metadata values
// (each element of an array value too).
func (s *state) indexMeta(id uint32, meta map[string]any) {
	for f, v := range meta {
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

// estimate returns an estimate of how many nodes a admits, sampling up to
// 512 nodes evenly when no posting list narrows the search.
func (s *state) estimate(a *admit) int {
	if lists, size, ok := s.candidates(a); ok {
		_ = lists
		if len(a.filter.Conds) == 0 {
			return size
		}
		// the posting bound ignores the other conditions; refine by sampling
		return s.sample(a, lists, size)
	}
	return s.sample(a, [][]uint32{nil}, s.n)
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
