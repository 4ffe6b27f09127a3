package index

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func openTest(t *testing.T, dir string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// doc builds a document with one chunk per paragraph.
func doc(id, title string, paras ...string) data.Document {
	d := data.Document{ID: id, Title: title, Source: id + ".txt", Text: strings.Join(paras, "\n\n")}
	off := 0
	for i, p := range paras {
		d.Chunks = append(d.Chunks, data.Chunk{ID: data.ChunkID(id, i), DocID: id, Ordinal: i, Text: p, Start: off, End: off + len(p)})
		off += len(p) + 2
	}
	d.Hash = data.ContentHash(d.Title, d.Text)
	return d
}

var corpus = []data.Document{
	doc("aero", "Boundary layers", "The boundary layer on a flat plate grows with distance.", "Transition to turbulence depends on Reynolds number."),
	doc("bread", "Baking", "Sourdough bread needs a starter and a long fermentation.", "Bake the loaf in a hot oven."),
	doc("stocks", "Markets", "The stock market fell today as investors sold shares."),
}

func TestBM25RankingAndHits(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, t.TempDir())
	defer e.Close()
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.PutDocuments(ctx, "t", append([]data.Document(nil), corpus...), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 3 || res.Chunks != 5 {
		t.Fatalf("put result %+v", res)
	}
	hits, err := e.Search(ctx, "t", data.Query{Text: "sourdough bread starter", Mode: data.ModeBM25, TopK: 3, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].ChunkID != "bread#0" {
		t.Fatalf("want bread#0 first, got %+v", hits)
	}
	h := hits[0]
	if h.DocID != "bread" || h.Title != "Baking" || h.Source != "bread.txt" || !strings.Contains(h.Text, "starter") {
		t.Errorf("hit fields: %+v", h)
	}
	if h.Explain == nil || h.Explain.BM25 == nil || h.Explain.BM25.Rank != 1 {
		t.Errorf("explain: %+v", h.Explain)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Errorf("hits not sorted by score: %v", hits)
		}
	}
	// Stemming: "turbulent" matches "turbulence" via the English analyser.
	hits, err = e.Search(ctx, "t", data.Query{Text: "reynolds turbulence", TopK: 1})
	if err != nil || len(hits) != 1 || hits[0].ChunkID != "aero#1" {
		t.Fatalf("got %+v, %v", hits, err)
	}
}

func TestReingestIdempotentAndReplace(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, t.TempDir())
	defer e.Close()
	e.CreateIndex(ctx, data.IndexConfig{Name: "t"})
	if _, err := e.PutDocuments(ctx, "t", []data.Document{corpus[0]}, false); err != nil {
		t.Fatal(err)
	}
	v1 := e.Version(ctx, "t")
	res, err := e.PutDocuments(ctx, "t", []data.Document{corpus[0]}, false)
	if err != nil || res.Skipped != 1 || res.Written != 0 {
		t.Fatalf("unchanged re-put: %+v %v", res, err)
	}
	if e.Version(ctx, "t") != v1 {
		t.Fatal("a skipped write changed the version")
	}
	// Replace with a one-chunk version: the old second chunk must vanish everywhere.
	changed := doc("aero", "Boundary layers", "Shock waves form at supersonic speeds.")
	if _, err := e.PutDocuments(ctx, "t", []data.Document{changed}, false); err != nil {
		t.Fatal(err)
	}
	info, _ := e.Index(ctx, "t")
	if info.Stats.Documents != 1 || info.Stats.Chunks != 1 {
		t.Fatalf("stats after replace %+v", info.Stats)
	}
	hits, _ := e.Search(ctx, "t", data.Query{Text: "turbulence reynolds"})
	if len(hits) != 0 {
		t.Fatalf("old chunk still searchable: %+v", hits)
	}
	hits, _ = e.Search(ctx, "t", data.Query{Text: "supersonic shock"})
	if len(hits) != 1 || hits[0].ChunkID != "aero#0" {
		t.Fatalf("new chunk not found: %+v", hits)
	}
}

func TestDeleteAndErrors(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, t.TempDir())
	defer e.Close()
	e.CreateIndex(ctx, data.IndexConfig{Name: "t"})
	e.PutDocuments(ctx, "t", append([]data.Document(nil), corpus...), false)
	n, missing, err := e.DeleteDocuments(ctx, "t", []string{"bread", "nope"})
	if err != nil || n != 1 || len(missing) != 1 || missing[0] != "nope" {
		t.Fatalf("delete: %d %v %v", n, missing, err)
	}
	if _, err := e.Document(ctx, "t", "bread"); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("deleted doc still there: %v", err)
	}
	if hits, _ := e.Search(ctx, "t", data.Query{Text: "sourdough"}); len(hits) != 0 {
		t.Fatalf("deleted doc searchable: %v", hits)
	}
	cases := []struct {
		name string
		err  error
		run  func() error
	}{
		{"unknown index", data.ErrNotFound, func() error { _, err := e.Search(ctx, "nope", data.Query{Text: "x"}); return err }},
		{"bad mode", data.ErrInvalid, func() error { _, err := e.Search(ctx, "t", data.Query{Text: "x", Mode: "magic"}); return err }},
		{"empty query", data.ErrInvalid, func() error { _, err := e.Search(ctx, "t", data.Query{}); return err }},
		{"top_k too big", data.ErrInvalid, func() error { _, err := e.Search(ctx, "t", data.Query{Text: "x", TopK: 5000}); return err }},
		{"vector on keyword-only index", data.ErrUnsupported, func() error {
			_, err := e.Search(ctx, "t", data.Query{Vector: []float32{1, 2}, Mode: data.ModeVector})
			return err
		}},
		{"bad name", data.ErrInvalid, func() error { _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "../x"}); return err }},
		{"duplicate", data.ErrExists, func() error { _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "t"}); return err }},
		{"empty doc id", data.ErrInvalid, func() error { _, err := e.PutDocuments(ctx, "t", []data.Document{{Text: "x"}}, false); return err }},
		{"dup doc in batch", data.ErrInvalid, func() error {
			_, err := e.PutDocuments(ctx, "t", []data.Document{corpus[2], corpus[2]}, false)
			return err
		}},
	}
	for _, c := range cases {
		if err := c.run(); !errors.Is(err, c.err) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.err)
		}
	}
	// Nothing stored changed through the failed calls.
	info, _ := e.Index(ctx, "t")
	if info.Stats.Documents != 2 {
		t.Fatalf("documents after failed calls: %d", info.Stats.Documents)
	}
}

func TestFilters(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, t.TempDir())
	defer e.Close()
	e.CreateIndex(ctx, data.IndexConfig{Name: "t"})
	var docs []data.Document
	for i, lang := range []string{"en", "fr", "en", "de"} {
		d := doc(string(rune('a'+i)), "", "wing lift and drag measurements")
		d.Metadata = map[string]any{"lang": lang, "year": float64(1990 + i)}
		docs = append(docs, d)
	}
	if _, err := e.PutDocuments(ctx, "t", docs, false); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kv   []string
		want string
	}{
		{[]string{"lang=en"}, "a,c"},
		{[]string{"lang!=en"}, "b,d"},
		{[]string{"lang=fr|de"}, "b,d"},
		{[]string{"year>=1992"}, "c,d"},
		{[]string{"year<1991"}, "a"},
		{[]string{"lang=en", "year>1990"}, "c"},
	}
	for _, c := range cases {
		f, err := data.ParseFilterKV(c.kv)
		if err != nil {
			t.Fatal(err)
		}
		hits, err := e.Search(ctx, "t", data.Query{Text: "wing lift", Filter: f, TopK: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.DocID)
		}
		got := strings.Join(sorted(ids), ",")
		if got != c.want {
			t.Errorf("filter %v: got %s want %s", c.kv, got, c.want)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestPersistenceAndRecovery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := openTest(t, dir)
	e.CreateIndex(ctx, data.IndexConfig{Name: "t"})
	e.PutDocuments(ctx, "t", append([]data.Document(nil), corpus...), false)
	// Simulate a crash after the store commit but before the derived
	// indexes saw the write: write to the store only.
	extra := doc("late", "", "Hypersonic flow over a blunt body.")
	if _, err := e.store.putDocuments("t", []data.Document{extra}, 0, false); err != nil {
		t.Fatal(err)
	}
	if hits, _ := e.Search(ctx, "t", data.Query{Text: "hypersonic"}); len(hits) != 0 {
		t.Fatal("test setup: derived index should not have the store-only write yet")
	}
	e.Close()

	e = openTest(t, dir)
	hits, err := e.Search(ctx, "t", data.Query{Text: "hypersonic"})
	if err != nil || len(hits) != 1 || hits[0].DocID != "late" {
		t.Fatalf("log replay on open: %+v %v", hits, err)
	}
	e.Close()

	// A damaged keyword index is rebuilt from the store.
	bleveDir := filepath.Join(dir, "indexes", "t", "bleve")
	if err := os.RemoveAll(bleveDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bleveDir, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir)
	defer e.Close()
	hits, err = e.Search(ctx, "t", data.Query{Text: "sourdough"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("after rebuild: %+v %v", hits, err)
	}
	info, _ := e.Index(ctx, "t")
	if info.Stats.Documents != 4 || info.Stats.Chunks != 6 {
		t.Fatalf("stats %+v", info.Stats)
	}
}

func TestDropIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := openTest(t, dir)
	defer e.Close()
	e.CreateIndex(ctx, data.IndexConfig{Name: "t"})
	e.PutDocuments(ctx, "t", append([]data.Document(nil), corpus...), false)
	if err := e.DropIndex(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "indexes", "t")); !os.IsNotExist(err) {
		t.Fatalf("index dir left behind: %v", err)
	}
	e.CreateIndex(ctx, data.IndexConfig{Name: "t"})
	if hits, _ := e.Search(ctx, "t", data.Query{Text: "sourdough"}); len(hits) != 0 {
		t.Fatal("re-created index sees old data")
	}
}
