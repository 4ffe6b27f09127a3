package ann

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ragd/ragd/data"
)

// TestQuantizedFloatsLeaveMemory checks that a saved or loaded int8 index
// serves its float vectors from the file: resident vector memory drops to
// the codes, recall after re-scoring stays >= 0.95, and new writes,
// another save and another load keep working.
func TestQuantizedFloatsLeaveMemory(t *testing.T) {
	const n, dims = 3000, 64
	vs := clustered(31, n, dims)
	qs := clustered(32, 60, dims)
	ctx := context.Background()
	metrics := []data.Metric{data.Cosine, data.L2}
	if raceEnabled {
		metrics = metrics[:1]
	}
	for _, m := range metrics {
		t.Run(string(m), func(t *testing.T) {
			ix := mustNew(t, Config{Dims: dims, Metric: m, EfConstruction: 100, Quantize: true, ExactBelow: -1, Workers: 2})
			if err := ix.Upsert(ctx, items(vs[:n-100], nil)); err != nil {
				t.Fatal(err)
			}
			floats := int64(n-100) * dims * 4
			if st := ix.Stats(); st.VectorBytes < floats || st.MappedBytes != 0 {
				t.Fatalf("before save: %+v, want the floats resident", st)
			}
			path := filepath.Join(t.TempDir(), "q.ann")
			if err := ix.Save(path); err != nil {
				t.Fatal(err)
			}
			checkMapped(t, "after save", ix, floats)
			got, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			checkMapped(t, "after load", got, floats)
			// exact sizing on load: codes, scales and (euclidean) norms only
			perVec := int64(dims + 4)
			if m == data.L2 {
				perVec += 4
			}
			if st := got.Stats(); st.VectorBytes != int64(n-100)*perVec {
				t.Fatalf("loaded vector bytes %d, want %d (%d per vector)", st.VectorBytes, int64(n-100)*perVec, perVec)
			}
			// writes after load go to memory; the mapped pages are not written
			for _, x := range []*Index{ix, got} {
				if err := x.Upsert(ctx, items(vs, nil)[n-100:]); err != nil {
					t.Fatal(err)
				}
				r := meanRecall(t, x, m, vs, qs, SearchOptions{K: 10, Ef: 128}, nil)
				t.Logf("recall@10 after re-scoring = %.3f", r)
				if r < 0.95 {
					t.Fatalf("recall@10 = %.3f, want >= 0.95", r)
				}
				for _, i := range []int{0, 1234, n - 101, n - 1} {
					it, ok := x.Get(itemID(i))
					want := slices.Clone(vs[i])
					if m == data.Cosine {
						normalize(want)
					}
					if !ok || !slices.Equal(it.Vector, want) {
						t.Fatalf("Get(%d) = %v, want the stored vector", i, ok)
					}
				}
			}
			// save over the mapped file while the old mapping is in use
			if err := got.Save(path); err != nil {
				t.Fatal(err)
			}
			checkMapped(t, "second save", got, int64(n)*dims*4)
			again, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range qs[:10] {
				r1, _ := got.Search(ctx, q, SearchOptions{K: 10})
				r2, _ := again.Search(ctx, q, SearchOptions{K: 10})
				if !slices.Equal(r1, r2) {
					t.Fatalf("results differ after reload: %v vs %v", r1, r2)
				}
			}
			// compaction copies the floats back into memory
			if err := again.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			if st := again.Stats(); st.MappedBytes != 0 || st.VectorBytes < int64(n)*dims*4 {
				t.Fatalf("after compaction: %+v", st)
			}
		})
	}
}

func checkMapped(t *testing.T, when string, ix *Index, floats int64) {
	t.Helper()
	st := ix.Stats()
	// resident: the int8 codes (a quarter of the floats) and the slab's
	// spare capacity; the floats would add 4x the codes
	if st.MappedBytes != floats || st.VectorBytes*2 > floats {
		t.Fatalf("%s: vector bytes %d, mapped %d; want %d mapped and under half resident", when, st.VectorBytes, st.MappedBytes, floats)
	}
}

// TestLoadCorruptFloats damages the float section of a quantized index
// file: Load reports ErrCorrupt (the caller rebuilds), never panics.
func TestLoadCorruptFloats(t *testing.T) {
	ix := mustNew(t, Config{Dims: 16, Quantize: true, ExactBelow: -1})
	if err := ix.Upsert(context.Background(), items(clustered(33, 500, 16), nil)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "q.ann")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	floats := 500 * 16 * 4
	start := len(good) - 4 - floats
	if start%floatAlign != 0 {
		t.Fatalf("float section at %d, not aligned", start)
	}
	flip := func(off int) []byte {
		b := slices.Clone(good)
		b[off] ^= 0x10
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"no float section", good[:start]},
		{"truncated floats", good[:start+floats/2]},
		{"truncated float checksum", good[:len(good)-1]},
		{"trailing bytes", append(slices.Clone(good), 1)},
		{"flipped float", flip(start + 1000)},
		{"flipped float checksum", flip(len(good) - 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.ann")
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(p); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load = %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("the good file: %v", err)
	}
}
