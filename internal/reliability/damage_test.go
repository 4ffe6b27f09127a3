package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// seedIndexes writes a keyword and a vector index and closes the engine;
// it returns their expected states.
func seedIndexes(t *testing.T, dir string, docs int) map[string]state {
	t.Helper()
	ctx := context.Background()
	e, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]state{"dkw": {}, vecIndex: {}}
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "dkw"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: vecIndex, Dims: vecDims, Metric: data.Cosine}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < docs; i++ {
		spec := docSpec{ID: fmt.Sprintf("k%02d", i), Ver: 1, Sentences: 2 + i%7}
		kd := expectDoc(spec.ID, "t", docText(spec.ID, 1, spec.Sentences), vecChunk)
		if _, err := e.PutDocuments(ctx, "dkw", []data.Document{kd}, false); err != nil {
			t.Fatal(err)
		}
		want["dkw"][spec.ID] = kd
		vd := vecDoc(spec)
		if _, err := e.PutDocuments(ctx, vecIndex, []data.Document{vd}, false); err != nil {
			t.Fatal(err)
		}
		vd = vecDoc(spec)
		for j := range vd.Chunks {
			vd.Chunks[j].Vector = nil
		}
		want[vecIndex][spec.ID] = vd
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

func verifyDir(t *testing.T, dir string, want map[string]state) {
	t.Helper()
	ctx := context.Background()
	e, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer e.Close()
	for name, w := range want {
		got, err := readState(ctx, e, name)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffState(got, w); len(d) > 0 {
			t.Fatalf("%s: %v", name, d)
		}
		if err := checkIndex(ctx, e, name); err != nil {
			t.Fatal(err)
		}
		if err := checkSearch(ctx, e, name, got, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkVectors(ctx, e, vecIndex, want[vecIndex], vecDims); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedDerivedIndexesRebuilt damages the derived files in the ways a
// disk or an operator can (missing, truncated, garbage) and checks that
// Open rebuilds them from the store with nothing lost.
func TestDamagedDerivedIndexesRebuilt(t *testing.T) {
	garbage := func(p string) error { return os.WriteFile(p, []byte("\x00garbage\xff not an index"), 0o644) }
	truncate := func(p string) error {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		return os.Truncate(p, st.Size()/2)
	}
	cases := []struct {
		name   string
		damage func(dir string) error
	}{
		{"keyword index deleted", func(d string) error { return os.RemoveAll(filepath.Join(d, "indexes", "dkw", "bleve")) }},
		{"keyword meta garbage", func(d string) error { return garbage(filepath.Join(d, "indexes", "dkw", "bleve", "index_meta.json")) }},
		{"keyword root truncated", func(d string) error {
			return truncate(filepath.Join(d, "indexes", "dkw", "bleve", "store", "root.bolt"))
		}},
		{"keyword segments deleted", func(d string) error {
			segs, _ := filepath.Glob(filepath.Join(d, "indexes", "dkw", "bleve", "store", "*.zap"))
			if len(segs) == 0 {
				return fmt.Errorf("no segments to delete")
			}
			for _, s := range segs {
				if err := os.Remove(s); err != nil {
					return err
				}
			}
			return nil
		}},
		{"vector snapshot deleted", func(d string) error { return os.Remove(filepath.Join(d, "indexes", vecIndex, "vectors.ann")) }},
		{"vector snapshot truncated", func(d string) error { return truncate(filepath.Join(d, "indexes", vecIndex, "vectors.ann")) }},
		{"vector snapshot garbage", func(d string) error { return garbage(filepath.Join(d, "indexes", vecIndex, "vectors.ann")) }},
		{"vector sidecar garbage", func(d string) error { return garbage(filepath.Join(d, "indexes", vecIndex, "vectors.seq")) }},
		{"vector sidecar deleted", func(d string) error { return os.Remove(filepath.Join(d, "indexes", vecIndex, "vectors.seq")) }},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			want := seedIndexes(t, dir, 12)
			if err := c.damage(dir); err != nil {
				t.Fatalf("damage: %v", err)
			}
			verifyDir(t, dir, want)
		})
	}
}

// TestCheckRepairCLI makes the vector snapshot stale behind a sidecar that
// claims it is current (so Open has nothing to replay): `ragd check` must
// exit 1 naming the missing vectors, `ragd check --repair` must fix it, and
// a second `ragd check` must exit 0.
func TestCheckRepairCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ragd binary")
	}
	bin := ragdBinary(t)
	dir := t.TempDir()
	want := seedIndexes(t, dir, 6)
	snap := filepath.Join(dir, "indexes", vecIndex, "vectors.ann")
	old, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	// More documents: the snapshot and sidecar move on; then put the old
	// snapshot back under the new sidecar.
	ctx := context.Background()
	e, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := 6; i < 10; i++ {
		spec := docSpec{ID: fmt.Sprintf("k%02d", i), Ver: 1, Sentences: 3}
		if _, err := e.PutDocuments(ctx, vecIndex, []data.Document{vecDoc(spec)}, false); err != nil {
			t.Fatal(err)
		}
		d := vecDoc(spec)
		for j := range d.Chunks {
			d.Chunks[j].Vector = nil
		}
		want[vecIndex][spec.ID] = d
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snap, old, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(hermeticEnv(t), "RAGD_DATA_DIR="+dir, "RAGD_MODEL=none")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := run("check", "--index", vecIndex)
	if code != 1 || !strings.Contains(out, "missing") {
		t.Fatalf("ragd check on a stale vector snapshot: exit %d, want 1 naming missing vectors:\n%s", code, out)
	}
	out, code = run("check", "--repair")
	if code != 0 || !strings.Contains(out, "repaired") {
		t.Fatalf("ragd check --repair: exit %d:\n%s", code, out)
	}
	if out, code = run("check"); code != 0 {
		t.Fatalf("ragd check after --repair: exit %d:\n%s", code, out)
	}
	verifyDir(t, dir, want)
}
