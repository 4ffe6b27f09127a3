package hub

import (
	"testing"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		query    string
		wantName string
		wantDims int
		wantPool Pooling
		wantKind Kind
	}{
		{"bge-small-en-v1.5", "bge-small-en-v1.5", 384, PoolCLS, Embedding},
		{"@cf/baai/bge-small-en-v1.5", "bge-small-en-v1.5", 384, PoolCLS, Embedding},
		{"BAAI/bge-small-en-v1.5", "bge-small-en-v1.5", 384, PoolCLS, Embedding},
		{"@cf/baai/bge-base-en-v1.5", "bge-base-en-v1.5", 768, PoolCLS, Embedding},
		{"all-minilm-l6-v2", "all-MiniLM-L6-v2", 384, PoolMean, Embedding},
		{"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2", 384, PoolMean, Embedding},
		{"e5-small-v2", "e5-small-v2", 384, PoolMean, Embedding},
		{"thenlper/gte-small", "gte-small", 384, PoolMean, Embedding},
		{"@cf/baai/bge-reranker-base", "bge-reranker-base", 1, PoolCLS, Reranker},
		{"bge-large", "", 0, "", ""},
		{"", "", 0, "", ""},
	}
	cat := Catalog()
	for _, c := range cases {
		m, ok := Lookup(cat, c.query)
		if ok != (c.wantName != "") || m.Name != c.wantName || m.Dims != c.wantDims || m.Pooling != c.wantPool || m.Kind != c.wantKind {
			t.Errorf("Lookup(%q) = %+v, %v", c.query, m, ok)
		}
	}
}

func TestCatalogPrefixes(t *testing.T) {
	cat := Catalog()
	bge, _ := Lookup(cat, "bge-small-en-v1.5")
	if bge.QueryPrefix != "Represent this sentence for searching relevant passages: " || bge.PassagePrefix != "" {
		t.Errorf("bge prefixes %q %q", bge.QueryPrefix, bge.PassagePrefix)
	}
	e5, _ := Lookup(cat, "e5-small-v2")
	if e5.QueryPrefix != "query: " || e5.PassagePrefix != "passage: " {
		t.Errorf("e5 prefixes %q %q", e5.QueryPrefix, e5.PassagePrefix)
	}
	seen := map[string]bool{}
	for _, m := range cat {
		if !validRepo(m.Repo) || m.MaxTokens <= 0 || m.Dims <= 0 || seen[m.Name] {
			t.Errorf("bad catalog entry %+v", m)
		}
		seen[m.Name] = true
		if len(m.FileList()) == 0 {
			t.Errorf("%s has no files", m.Name)
		}
	}
	// Catalog returns a copy.
	cat[0].Aliases[0] = "changed"
	if Catalog()[0].Aliases[0] == "changed" {
		t.Error("Catalog shares its slices")
	}
}

func TestValidPathAndRepo(t *testing.T) {
	for _, c := range []struct {
		s          string
		path, repo bool
	}{
		{"onnx/model.onnx", true, true},
		{"config.json", true, false},
		{"../x", false, false},
		{"/etc/passwd", false, false},
		{"a/../../b", false, false},
		{"a\\b", false, false},
		{"BAAI/bge-small-en-v1.5", true, true},
		{"a/b/c", true, false},
		{"", false, false},
	} {
		if got := validPath(c.s); got != c.path {
			t.Errorf("validPath(%q) = %v", c.s, got)
		}
		if got := validRepo(c.s); got != c.repo {
			t.Errorf("validRepo(%q) = %v", c.s, got)
		}
	}
}
