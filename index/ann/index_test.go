package ann

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"sync"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	ix := mustNew(t, Config{Dims: 3})
	if err := ix.Upsert(ctx, []Item{{ID: "ok", Vector: []float32{1, 2, 3}}}); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name  string
		items []Item
		want  error
	}{
		{"wrong dims", []Item{{ID: "a", Vector: []float32{1, 2}}}, data.ErrDimension},
		{"nil vector", []Item{{ID: "a"}}, data.ErrDimension},
		{"NaN", []Item{{ID: "a", Vector: []float32{1, nan, 3}}}, data.ErrInvalid},
		{"Inf", []Item{{ID: "a", Vector: []float32{inf, 0, 3}}}, data.ErrInvalid},
		{"zero vector under cosine", []Item{{ID: "a", Vector: []float32{0, 0, 0}}}, data.ErrInvalid},
		{"empty id", []Item{{Vector: []float32{1, 2, 3}}}, data.ErrInvalid},
		{"duplicate ids", []Item{{ID: "a", Vector: []float32{1, 2, 3}}, {ID: "a", Vector: []float32{3, 2, 1}}}, data.ErrInvalid},
		{"bad item after good ones", []Item{{ID: "b", Vector: []float32{1, 2, 3}}, {ID: "c", Vector: []float32{1}}}, data.ErrDimension},
		{"NaN metadata", []Item{{ID: "a", Vector: []float32{1, 2, 3}, Metadata: map[string]any{"x": math.NaN()}}}, data.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ix.Upsert(ctx, tc.items)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Upsert = %v, want %v", err, tc.want)
			}
			if ix.Len() != 1 {
				t.Fatalf("a rejected batch changed the index: Len = %d", ix.Len())
			}
		})
	}
	for _, tc := range []struct {
		name string
		q    []float32
		opts SearchOptions
		want error
	}{
		{"query dims", []float32{1}, SearchOptions{}, data.ErrDimension},
		{"query NaN", []float32{nan, 1, 1}, SearchOptions{}, data.ErrInvalid},
		{"negative k", []float32{1, 1, 1}, SearchOptions{K: -1}, data.ErrInvalid},
		{"huge ef", []float32{1, 1, 1}, SearchOptions{Ef: MaxK + 1}, data.ErrInvalid},
		{"bad filter", []float32{1, 1, 1}, SearchOptions{Filter: data.Filter{Conds: []data.Cond{{Field: "x", Op: "$regex"}}}}, data.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ix.Search(ctx, tc.q, tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("Search = %v, want %v", err, tc.want)
			}
		})
	}
	for _, cfg := range []Config{{}, {Dims: -1}, {Dims: 4, Metric: "hamming"}, {Dims: 4, M: 1}, {Dims: 4, EfSearch: -3}} {
		if _, err := New(cfg); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("New(%+v) = %v", cfg, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := ix.Upsert(cctx, []Item{{ID: "z", Vector: []float32{1, 1, 1}}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Upsert = %v", err)
	}
}

func TestUpsertReplacesAndDeletes(t *testing.T) {
	ctx := context.Background()
	ix := mustNew(t, Config{Dims: 8, Metric: data.L2, ExactBelow: -1})
	vs := clustered(31, 500, 8)
	if err := ix.Upsert(ctx, items(vs, nil)); err != nil {
		t.Fatal(err)
	}
	far := []float32{100, 100, 100, 100, 100, 100, 100, 100}
	if err := ix.Upsert(ctx, []Item{{ID: itemID(7), Vector: far, Namespace: "moved", Metadata: map[string]any{"k": "v"}}}); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 500 {
		t.Fatalf("Len after replace = %d", ix.Len())
	}
	got, err := ix.Search(ctx, far, SearchOptions{K: 1})
	if err != nil || len(got) != 1 || got[0].ID != itemID(7) || got[0].Score != 0 {
		t.Fatalf("search for replaced vector: %v %v", got, err)
	}
	// the old vector of v000007 is gone
	got, _ = ix.Search(ctx, vs[7], SearchOptions{K: 3})
	for _, r := range got {
		if r.ID == itemID(7) {
			t.Fatalf("old vector still found: %v", got)
		}
	}
	it, ok := ix.Get(itemID(7))
	if !ok || it.Namespace != "moved" || it.Metadata["k"] != "v" || it.Vector[0] != 100 {
		t.Fatalf("Get = %+v", it)
	}
	n, err := ix.Delete(ctx, []string{itemID(7), itemID(8), "nope"})
	if err != nil || n != 2 || ix.Len() != 498 {
		t.Fatalf("Delete = %d %v, Len %d", n, err, ix.Len())
	}
	got, _ = ix.Search(ctx, far, SearchOptions{K: 500})
	for _, r := range got {
		if r.ID == itemID(7) || r.ID == itemID(8) {
			t.Fatalf("deleted id returned")
		}
	}
	if len(got) != 498 {
		t.Fatalf("K=500 returned %d of 498", len(got))
	}
	if _, ok := ix.Get(itemID(8)); ok {
		t.Fatal("Get of deleted id")
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	ix := mustNew(t, Config{Dims: 2, Metric: data.L2})
	r := rand.New(rand.NewSource(1))
	var want []string
	var its []Item
	for i := 0; i < 95; i++ {
		id := fmt.Sprintf("id-%d", r.Intn(1_000_000))
		its = append(its, Item{ID: id, Vector: []float32{float32(i), 0}})
		want = append(want, id)
	}
	its, want = dedupe(its, want)
	if err := ix.Upsert(ctx, its); err != nil {
		t.Fatal(err)
	}
	ix.Delete(ctx, want[:5])
	want = want[5:]
	sort.Strings(want)
	for _, limit := range []int{1, 7, 10, 90, 200} {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			ids, next := ix.List(cursor, limit)
			if len(ids) > limit || pages > 200 {
				t.Fatalf("limit %d: page of %d", limit, len(ids))
			}
			got = append(got, ids...)
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("limit %d: listed %v, want %v", limit, got, want)
		}
	}
	if ids, _ := ix.List("", 0); ids != nil {
		t.Fatal("limit 0 listed ids")
	}
}

func dedupe(its []Item, ids []string) ([]Item, []string) {
	seen := map[string]bool{}
	var oi []Item
	var os []string
	for i, it := range its {
		if !seen[it.ID] {
			seen[it.ID] = true
			oi = append(oi, it)
			os = append(os, ids[i])
		}
	}
	return oi, os
}

// TestConcurrentMixedLoad runs inserts, searches and deletes together;
// run it with -race.
func TestConcurrentMixedLoad(t *testing.T) {
	ctx := context.Background()
	const dims = 16
	vs := clustered(41, 3000, dims)
	ix := mustNew(t, Config{Dims: dims, EfConstruction: 40, ExactBelow: 200, Workers: 2, Quantize: true, CompactRatio: 0.2})
	if err := ix.Upsert(ctx, items(vs[:500], filterMeta)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	stop := make(chan struct{})
	wg.Go(func() { // writer: batches of inserts, then deletes
		defer close(stop)
		for start := 500; start < len(vs); start += 250 {
			if err := ix.Upsert(ctx, items(vs[:start+250], filterMeta)[start:]); err != nil {
				errc <- err
				return
			}
			var del []string
			for i := start - 500; i < start-400; i++ {
				del = append(del, itemID(i))
			}
			if _, err := ix.Delete(ctx, del); err != nil {
				errc <- err
				return
			}
		}
	})
	for g := 0; g < 2; g++ {
		wg.Go(func() {
			r := rand.New(rand.NewSource(int64(g)))
			f := mustFilter(t, `{"even": true}`)
			for {
				select {
				case <-stop:
					return
				default:
				}
				q := vs[r.Intn(len(vs))]
				opts := SearchOptions{K: 5}
				if r.Intn(2) == 0 {
					opts.Filter = f
				}
				res, err := ix.Search(ctx, q, opts)
				if err != nil {
					errc <- err
					return
				}
				for _, x := range res {
					if x.ID == "" {
						errc <- fmt.Errorf("empty id in %v", res)
						return
					}
					ix.Get(x.ID)
				}
				ix.List("", 10)
				ix.Stats()
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// every inserted-and-not-deleted id is there; deleted ones are not
	for i := range vs {
		deleted := i < 2350 && i%250 < 100
		if _, ok := ix.Get(itemID(i)); ok == deleted {
			t.Fatalf("id %d: present %v, deleted %v", i, ok, deleted)
		}
	}
	if ix.Len() != 2000 {
		t.Fatalf("Len = %d, want 2000", ix.Len())
	}
	st := ix.Stats()
	if st.Live != ix.Len() || st.Nodes >= len(vs) {
		// 1,000 of 3,000 nodes deleted crosses CompactRatio 0.2
		t.Fatalf("want a compacted index, stats %+v", st)
	}
	if st.Live == 0 {
		t.Fatalf("stats %+v", st)
	}
	got, err := ix.Search(ctx, vs[len(vs)-1], SearchOptions{K: 1})
	if err != nil || len(got) != 1 || got[0].ID != itemID(len(vs)-1) {
		t.Fatalf("last inserted vector not found first: %v %v", got, err)
	}
}
