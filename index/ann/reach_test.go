package ann

import (
	"context"
	"math/rand"
	"path/filepath"
	"slices"
	"testing"
)

// unitVectors returns n seeded random unit vectors.
func unitVectors(seed int64, n, dims int) [][]float32 {
	r := rand.New(rand.NewSource(seed))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dims)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		normalize(v)
		out[i] = v
	}
	return out
}

// layer0Orphans counts live nodes that no node links to on layer 0,
// reading the neighbour lists directly (not the index's own counters).
func layer0Orphans(ix *Index) []uint32 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := ix.s
	in := make([]int, s.n)
	for i := 0; i < s.n; i++ {
		for _, nb := range neighbours(s.list(uint32(i), 0), nil) {
			in[nb]++
		}
	}
	var out []uint32
	for i, c := range in {
		if c == 0 && !s.isDeleted(uint32(i)) && s.n > 1 {
			out = append(out, uint32(i))
		}
	}
	return out
}

// TestNoUnreachableNodes writes 16-d random unit vectors in small batches
// linked by two goroutines (the shape that left a few nodes without any
// incoming layer-0 link) and checks that every node keeps an in-link and
// is found by a wide search for its own vector, after the writes, after a
// compaction and after a save/load.
func TestNoUnreachableNodes(t *testing.T) {
	const n, dims, batch = 5242, 16, 20
	ctx := context.Background()
	runs := int64(3)
	if testing.Short() || raceEnabled {
		runs = 1
	}
	for run := int64(1); run <= runs; run++ {
		vs := unitVectors(run, n, dims)
		ix := mustNew(t, Config{Dims: dims, M: 16, EfConstruction: 200, ExactBelow: -1, Workers: 2, Seed: run})
		its := items(vs, nil)
		for i := 0; i < n; i += batch {
			if err := ix.Upsert(ctx, its[i:min(i+batch, n)]); err != nil {
				t.Fatal(err)
			}
		}
		if o := layer0Orphans(ix); len(o) > 0 {
			t.Fatalf("run %d: %d nodes without layer-0 in-links: %v", run, len(o), o)
		}
		if k := unreachable(ix); k > 0 {
			t.Fatalf("run %d: %d nodes unreachable from the entry point on layer 0", run, k)
		}
		if raceEnabled {
			continue // the race run checks the concurrent linking only
		}
		if run == 1 {
			checkSelfFound(t, ix, vs)
		}
		if err := ix.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		if o, k := layer0Orphans(ix), unreachable(ix); len(o) > 0 || k > 0 {
			t.Fatalf("run %d after compaction: %d nodes without layer-0 in-links, %d unreachable", run, len(o), k)
		}
	}
}

// unreachable counts live nodes that a walk of layer 0 from the entry
// point does not reach.
func unreachable(ix *Index) int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := ix.s
	ep, top := s.entry()
	if top < 0 {
		return 0
	}
	seen := make([]bool, s.n)
	seen[ep] = true
	queue := []uint32{ep}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, nb := range neighbours(s.list(x, 0), nil) {
			if !seen[nb] {
				seen[nb] = true
				queue = append(queue, nb)
			}
		}
	}
	k := 0
	for i, ok := range seen {
		if !ok && !s.isDeleted(uint32(i)) {
			k++
		}
	}
	return k
}

// checkSelfFound searches every vector with a beam wide enough to cover
// every node reachable from the entry point and expects to find it.
func checkSelfFound(t *testing.T, ix *Index, vs [][]float32) {
	t.Helper()
	step := 1
	if testing.Short() {
		step = 16
	}
	miss, tried := 0, 0
	for i := 0; i < len(vs); i += step {
		v := vs[i]
		tried++
		res, err := ix.Search(context.Background(), v, SearchOptions{K: 1000, Ef: 6000})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range res {
			if r.ID == itemID(i) {
				found = true
				break
			}
		}
		if !found {
			miss++
		}
	}
	if miss > 0 {
		t.Fatalf("%d of %d vectors not found by a search for themselves", miss, tried)
	}
}

// TestLoadRelinksOrphans cuts every layer-0 link to one node (as files
// written before the repair could hold) and checks that Load links it
// back so a search finds it again.
func TestLoadRelinksOrphans(t *testing.T) {
	const n, dims = 2000, 16
	vs := unitVectors(9, n, dims)
	ix := mustNew(t, Config{Dims: dims, ExactBelow: -1, Workers: 1})
	if err := ix.Upsert(context.Background(), items(vs, nil)); err != nil {
		t.Fatal(err)
	}
	s := ix.s
	victim := s.byID[itemID(123)]
	cut := 0
	for i := 0; i < s.n; i++ {
		l := s.list(uint32(i), 0)
		cur := neighbours(l, nil)
		kept := slices.DeleteFunc(slices.Clone(cur), func(x uint32) bool { return x == victim })
		if len(kept) != len(cur) {
			setList(l, kept)
			cut++
		}
	}
	if cut == 0 || len(layer0Orphans(ix)) != 1 {
		t.Fatalf("setup: cut %d links, orphans %v", cut, layer0Orphans(ix))
	}
	path := filepath.Join(t.TempDir(), "v.ann")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if o := layer0Orphans(got); len(o) != 0 {
		t.Fatalf("after load: orphans %v", o)
	}
	res, err := got.Search(context.Background(), vs[123], SearchOptions{K: 1, Ef: 64})
	if err != nil || len(res) != 1 || res[0].ID != itemID(123) {
		t.Fatalf("search for the relinked vector: %v, %v", res, err)
	}
}
