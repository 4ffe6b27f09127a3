package ann

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	vs := clustered(21, 1500, 24)
	qs := clustered(22, 10, 24)
	for _, tc := range []struct {
		name string
		cfg  Config
		flat bool
	}{
		{"hnsw-cosine", Config{Dims: 24, ExactBelow: -1}, false},
		{"hnsw-l2-int8", Config{Dims: 24, Metric: data.L2, Quantize: true, ExactBelow: -1}, false},
		{"flat-dot", Config{Dims: 24, Metric: data.Dot}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ix := mustNew(t, tc.cfg)
			if tc.flat {
				f, err := NewFlat(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				ix = f.ix
			}
			its := items(vs, filterMeta)
			its[3].Namespace = "ns"
			if err := ix.Upsert(ctx, its); err != nil {
				t.Fatal(err)
			}
			if _, err := ix.Delete(ctx, []string{itemID(5), itemID(6)}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "x.ann")
			if err := ix.Save(path); err != nil {
				t.Fatal(err)
			}
			var got *Index
			if tc.flat {
				f, err := LoadFlat(path)
				if err != nil {
					t.Fatal(err)
				}
				got = f.ix
			} else {
				var err error
				if got, err = Load(path); err != nil {
					t.Fatal(err)
				}
			}
			s1, s2 := got.Stats(), ix.Stats()
			s1.VectorBytes, s1.GraphBytes, s2.VectorBytes, s2.GraphBytes = 0, 0, 0, 0 // capacity may differ
			if got.Len() != ix.Len() || s1 != s2 {
				t.Fatalf("stats differ: %+v vs %+v", s1, s2)
			}
			a, b := got.Config(), ix.Config()
			a.Logger, b.Logger = nil, nil
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("config %+v vs %+v", a, b)
			}
			f := mustFilter(t, `{"bucket": {"$in": [1,2,3,4,5,6,7,8,9,10]}}`)
			for _, q := range qs {
				for _, opts := range []SearchOptions{{K: 5}, {K: 5, Filter: f}, {K: 5, Namespace: "ns"}} {
					r1, err1 := ix.Search(ctx, q, opts)
					r2, err2 := got.Search(ctx, q, opts)
					if err1 != nil || err2 != nil || !reflect.DeepEqual(r1, r2) {
						t.Fatalf("results differ after load: %v %v / %v %v", r1, err1, r2, err2)
					}
				}
			}
			it, ok := got.Get(itemID(3))
			if !ok || it.Namespace != "ns" || it.Metadata["bucket"] != float64(3) {
				t.Fatalf("Get after load: %+v %v", it, ok)
			}
			if _, ok := got.Get(itemID(5)); ok {
				t.Fatal("deleted item came back")
			}
			// the loaded index keeps accepting writes
			if err := got.Upsert(ctx, []Item{{ID: "new", Vector: vs[0]}}); err != nil {
				t.Fatal(err)
			}
			if r, _ := got.Search(ctx, vs[0], SearchOptions{K: 2}); len(r) != 2 {
				t.Fatalf("search after write: %v", r)
			}
		})
	}
}

func TestLoadCorrupt(t *testing.T) {
	ix := mustNew(t, Config{Dims: 8, ExactBelow: -1})
	if err := ix.Upsert(context.Background(), items(clustered(23, 300, 8), filterMeta)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "good.ann")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(off int) []byte {
		b := append([]byte(nil), good...)
		b[off] ^= 0x40
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated header", good[:20]},
		{"truncated slabs", good[:len(good)/2]},
		{"truncated checksum", good[:len(good)-2]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"bad magic", flip(0)},
		{"wrong version", flip(8)},
		{"flipped vector byte", flip(200)},
		{"flipped last byte", flip(len(good) - 10)},
		{"huge node count", flip(12 + 8*8 + 3)},
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
	if _, err := Load(filepath.Join(dir, "missing.ann")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := LoadFlat(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LoadFlat of a graph file: %v", err)
	}
	// a failed save leaves the old file alone and no temp files behind
	if err := ix.Save(filepath.Join(dir, "nodir", "x.ann")); err == nil {
		t.Fatal("save into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".ann" {
			t.Fatalf("left behind %s", e.Name())
		}
	}
}
