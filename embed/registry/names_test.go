package registry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"use-lite", true},
		{"bge-small-en-v1.5", true},
		{"all-MiniLM-L6-v2", true},
		{"BAAI--bge-m3", true}, // a hub repository outside the catalog
		{"model+q8", true},
		{"remote:text-embedding-3-small", true},
		{"remote:BAAI/bge-large-en-v1.5", true}, // sent to the server, never a path
		{"", false},
		{"..", false},
		{"../../../../etc", false},
		{"a/../b", false},
		{"/etc", false},
		{"models/x", false},
		{`..\x`, false},
		{".hidden", false},
		{"x..y", false},
		{"a b", false},
		{"remote:", false},
		{"remote:x\n", false},
		{strings.Repeat("a", 129), false},
		{"remote:" + strings.Repeat("a", MaxNameLen), false},
	} {
		err := CheckName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, data.ErrInvalid) {
			t.Errorf("CheckName(%q) = %v, not data.ErrInvalid", tc.name, err)
		}
	}
}

// A name that leaves the models directory is refused before the file
// system is touched; a missing model answers the same whether or not a
// directory of that name exists elsewhere.
func TestEmbedderResolvesOnlyInsideModelsDir(t *testing.T) {
	root := t.TempDir()
	models := filepath.Join(root, "models")
	for _, d := range []string{models, filepath.Join(root, "outside"), filepath.Join(root, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "config.json"), []byte(`{"hidden_size":8}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := New(Config{ModelsDir: models, NodeDir: filepath.Join(root, "node")})
	ctx := context.Background()
	for _, name := range []string{"../etc", "../outside", "../missing", filepath.Join(root, "etc"), "../../../../etc", "x/../../etc"} {
		_, err := r.Embedder(ctx, name)
		if !errors.Is(err, data.ErrInvalid) || errors.Is(err, data.ErrNotFound) {
			t.Errorf("Embedder(%q) = %v, want data.ErrInvalid", name, err)
		}
		if err != nil && !strings.Contains(name, root) && strings.Contains(err.Error(), root) {
			t.Errorf("Embedder(%q) error shows a path: %v", name, err)
		}
	}
	_, errOutside := r.Embedder(ctx, "outside") // exists, but not in the models dir
	_, errMissing := r.Embedder(ctx, "missing")
	for _, err := range []error{errOutside, errMissing} {
		if !errors.Is(err, data.ErrNotFound) || !errors.Is(err, embed.ErrModelNotFound) {
			t.Fatalf("missing model: %v", err)
		}
	}
	if strings.ReplaceAll(errOutside.Error(), "outside", "X") != strings.ReplaceAll(errMissing.Error(), "missing", "X") {
		t.Fatalf("errors differ beyond the name:\n%v\n%v", errOutside, errMissing)
	}
	if _, err := r.ModelDir("../etc"); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("ModelDir: %v", err)
	}
	if d, err := r.ModelDir("bge-small-en-v1.5"); err != nil || d != filepath.Join(models, "bge-small-en-v1.5") {
		t.Fatalf("ModelDir = %q, %v", d, err)
	}
}
