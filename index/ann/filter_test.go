package ann

import (
	"context"
	"fmt"
	"testing"

	"github.com/ragd/ragd/data"
)

func filterMeta(i int) map[string]any {
	return map[string]any{
		"bucket": i % 100,               // 1% per value
		"year":   float64(1900 + i%120), // ranges
		"genre":  []any{"g" + fmt.Sprint(i%7), "all"},
		"even":   i%2 == 0,
	}
}

func mustFilter(t *testing.T, js string) data.Filter {
	t.Helper()
	f, err := data.ParseFilterJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFilters(t *testing.T) {
	const n, dims = 6000, 32
	vs := clustered(11, n, dims)
	qs := clustered(12, 30, dims)
	its := items(vs, filterMeta)
	for i := range its {
		if i%4 == 0 {
			its[i].Namespace = "quarter"
		}
	}
	ix := mustNew(t, Config{Dims: dims, EfConstruction: 100, ExactBelow: 500})
	if err := ix.Upsert(context.Background(), its); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		filter string
		ns     string
		allow  func(i int) bool
	}{
		{"eq 1%", `{"bucket": 7}`, "", func(i int) bool { return i%100 == 7 }},
		{"in 3%", `{"bucket": {"$in": [1, 2, 3]}}`, "", func(i int) bool { return i%100 >= 1 && i%100 <= 3 }},
		{"range 10%", `{"year": {"$gte": 1900, "$lt": 1912}}`, "", func(i int) bool { return i%120 < 12 }},
		{"range 50%", `{"year": {"$gte": 1960}}`, "", func(i int) bool { return i%120 >= 60 }},
		{"array element", `{"genre": "g3"}`, "", func(i int) bool { return i%7 == 3 }},
		{"ne", `{"genre": {"$ne": "g3"}}`, "", func(i int) bool { return i%7 != 3 }},
		{"bool", `{"even": true}`, "", func(i int) bool { return i%2 == 0 }},
		{"namespace", ``, "quarter", func(i int) bool { return i%4 == 0 }},
		{"namespace+eq", `{"bucket": 8}`, "quarter", func(i int) bool { return i%4 == 0 && i%100 == 8 }},
		{"nothing", `{"bucket": 1000}`, "", func(i int) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustFilter(t, tc.filter)
			opts := SearchOptions{K: 10, Ef: 200, Namespace: tc.ns, Filter: f}
			for _, q := range qs[:5] {
				got, err := ix.Search(context.Background(), q, opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range got {
					var i int
					fmt.Sscanf(r.ID, "v%d", &i)
					if !tc.allow(i) {
						t.Fatalf("result %s does not pass the filter", r.ID)
					}
				}
			}
			r := meanRecall(t, ix, data.Cosine, vs, qs, opts, tc.allow)
			if r < 0.95 {
				t.Fatalf("filtered recall@10 = %.3f", r)
			}
		})
	}
	if got, err := ix.Search(context.Background(), qs[0], SearchOptions{Namespace: "missing"}); err != nil || len(got) != 0 {
		t.Fatalf("unknown namespace: %v, %v", got, err)
	}
}

func TestEstimate(t *testing.T) {
	const n = 4000
	ix := mustNew(t, Config{Dims: 4, Metric: data.L2})
	vs := make([][]float32, n)
	for i := range vs {
		vs[i] = []float32{float32(i), 1, 2, 3}
	}
	if err := ix.Upsert(context.Background(), items(vs, filterMeta)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{`{"bucket": 3}`, n / 100},
		{`{"year": {"$lt": 1960}}`, n / 2},
		{`{"even": false}`, n / 2},
		{`{"bucket": {"$in": [1,2]}, "even": true}`, n / 100},
	} {
		a := &admit{s: ix.s, anyNS: true, filter: mustFilter(t, tc.filter)}
		lists, size, ok := ix.s.candidates(a)
		got := ix.s.estimate(a, lists, size, ok)
		if got < tc.want*7/10 || got > tc.want*13/10+1 {
			t.Errorf("%s: estimate %d, want about %d", tc.filter, got, tc.want)
		}
	}
}

func TestSelectiveFilterRecallAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n, dims = 10000, 48
	vs := clustered(13, n, dims)
	qs := clustered(14, 50, dims)
	ix := mustNew(t, Config{Dims: dims, EfConstruction: 64, ExactBelow: 100})
	if err := ix.Upsert(context.Background(), items(vs, filterMeta)); err != nil {
		t.Fatal(err)
	}
	opts := SearchOptions{K: 10, Filter: mustFilter(t, `{"bucket": 42}`)}
	if r := meanRecall(t, ix, data.Cosine, vs, qs, opts, func(i int) bool { return i%100 == 42 }); r < 0.95 {
		t.Fatalf("1%% filter recall %.3f", r)
	}
}

func TestRangeOnMixedField(t *testing.T) {
	ctx := context.Background()
	ix := mustNew(t, Config{Dims: 2, Metric: data.L2})
	its := []Item{
		{ID: "n1", Vector: []float32{1, 0}, Metadata: map[string]any{"v": 1}},
		{ID: "n9", Vector: []float32{2, 0}, Metadata: map[string]any{"v": 9.0}},
		{ID: "s", Vector: []float32{3, 0}, Metadata: map[string]any{"v": "x"}},
		{ID: "none", Vector: []float32{4, 0}},
	}
	for _, mixed := range []bool{false, true} {
		batch := its[:2]
		if mixed {
			batch = its
		}
		if err := ix.Upsert(ctx, batch); err != nil {
			t.Fatal(err)
		}
		got, err := ix.Search(ctx, []float32{0, 0}, SearchOptions{K: 10, Filter: mustFilter(t, `{"v": {"$lt": 5}}`)})
		if err != nil || len(got) != 1 || got[0].ID != "n1" {
			t.Fatalf("mixed=%v: %v %v", mixed, got, err)
		}
		if c := ix.s.cols["v"]; c == nil || c.mixed != mixed {
			t.Fatalf("mixed=%v: column %+v", mixed, c)
		}
	}
}
