package ann

import (
	"context"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestGraphRecall(t *testing.T) {
	vs := clustered(1, 3000, 64)
	qs := clustered(2, 60, 64)
	for _, tc := range []struct {
		name   string
		metric data.Metric
		quant  bool
		ef     int
		want   float64
	}{
		{"cosine", data.Cosine, false, 128, 0.95},
		{"dot", data.Dot, false, 128, 0.95},
		{"euclidean", data.L2, false, 128, 0.95},
		{"cosine-int8", data.Cosine, true, 128, 0.95},
		{"euclidean-int8", data.L2, true, 128, 0.95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := mustNew(t, Config{Dims: 64, Metric: tc.metric, EfConstruction: 100, Quantize: tc.quant, ExactBelow: -1, Workers: 2})
			if err := ix.Upsert(context.Background(), items(vs, nil)); err != nil {
				t.Fatal(err)
			}
			if ix.Len() != len(vs) {
				t.Fatalf("Len = %d", ix.Len())
			}
			st := ix.Stats()
			if !st.Graph || st.MaxLevel < 1 {
				t.Fatalf("stats %+v: want a multi-layer graph", st)
			}
			r := meanRecall(t, ix, tc.metric, vs, qs, SearchOptions{K: 10, Ef: tc.ef}, nil)
			t.Logf("recall@10 = %.3f", r)
			if r < tc.want {
				t.Fatalf("recall@10 = %.3f, want >= %.2f", r, tc.want)
			}
			// exact on demand is the ground truth
			if r := meanRecall(t, ix, tc.metric, vs, qs[:20], SearchOptions{K: 10, Exact: true}, nil); r < 0.999 {
				t.Fatalf("exact recall = %.3f", r)
			}
		})
	}
}

func TestFlatMatchesBruteForce(t *testing.T) {
	vs := clustered(3, 800, 32)
	qs := clustered(4, 20, 32)
	for _, m := range []data.Metric{data.Cosine, data.Dot, data.L2} {
		f, err := NewFlat(Config{Dims: 32, Metric: m})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Upsert(context.Background(), items(vs, nil)); err != nil {
			t.Fatal(err)
		}
		if r := meanRecall(t, f, m, vs, qs, SearchOptions{K: 10}, nil); r < 0.999 {
			t.Fatalf("%s: flat recall %.3f", m, r)
		}
	}
}

func TestDeleteRecall(t *testing.T) {
	vs := clustered(5, 3000, 64)
	qs := clustered(6, 60, 64)
	ix := mustNew(t, Config{Dims: 64, EfConstruction: 100, ExactBelow: -1, CompactRatio: -1})
	ctx := context.Background()
	if err := ix.Upsert(ctx, items(vs, nil)); err != nil {
		t.Fatal(err)
	}
	var del []string
	for i := range vs {
		if i%10 < 3 {
			del = append(del, itemID(i))
		}
	}
	n, err := ix.Delete(ctx, del)
	if err != nil || n != len(del) {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	alive := func(i int) bool { return i%10 >= 3 }
	r := meanRecall(t, ix, data.Cosine, vs, qs, SearchOptions{K: 10, Ef: 200}, alive)
	t.Logf("recall after deleting 30%%: %.3f", r)
	if r < 0.95 {
		t.Fatalf("recall after deleting 30%% = %.3f", r)
	}
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if st := ix.Stats(); st.Deleted != 0 || st.Nodes != len(vs)-len(del) {
		t.Fatalf("after compact: %+v", st)
	}
	r = meanRecall(t, ix, data.Cosine, vs, qs, SearchOptions{K: 10, Ef: 200}, alive)
	if r < 0.95 {
		t.Fatalf("recall after compaction = %.3f", r)
	}
}

func TestAutoCompact(t *testing.T) {
	vs := clustered(7, 400, 16)
	ix := mustNew(t, Config{Dims: 16, CompactRatio: 0.25})
	ctx := context.Background()
	if err := ix.Upsert(ctx, items(vs, nil)); err != nil {
		t.Fatal(err)
	}
	var del []string
	for i := 0; i < 120; i++ {
		del = append(del, itemID(i))
	}
	if _, err := ix.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	st := ix.Stats()
	if st.Deleted != 0 || st.Nodes != 280 || st.Live != 280 {
		t.Fatalf("want compaction past 25%% tombstones, stats %+v", st)
	}
}
