package index

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed/embedtest"
	"github.com/ragd/ragd/index/ann"
)

// fakeEmbedder embeds with embedtest's bag of words: texts sharing words
// get similar vectors.
type fakeEmbedder struct{ dims int }

func (f fakeEmbedder) EmbedQuery(ctx context.Context, model, text string) ([]float32, error) {
	return f.vec(text), nil
}

func (f fakeEmbedder) vec(text string) []float32 { return embedtest.BagOfWords(text, f.dims) }

func vecCorpus(f fakeEmbedder) []data.Document {
	docs := append([]data.Document(nil), corpus...)
	for i := range docs {
		docs[i].Chunks = append([]data.Chunk(nil), docs[i].Chunks...)
		for j := range docs[i].Chunks {
			docs[i].Chunks[j].Vector = f.vec(docs[i].Chunks[j].Text)
		}
	}
	return docs
}

func TestVectorAndHybridSearch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := fakeEmbedder{dims: 32}
	e, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "v", Model: "fake"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutDocuments(ctx, "v", vecCorpus(f), false); err != nil {
		t.Fatal(err)
	}
	info, _ := e.Index(ctx, "v")
	if info.Dims != 32 || info.Metric != data.Cosine || info.Stats.Vectors != 5 {
		t.Fatalf("first vector write should fix dims: %+v", info)
	}
	q := "Bake the loaf in a hot oven."
	hits, err := e.Search(ctx, "v", data.Query{Text: q, Vector: f.vec(q), Mode: data.ModeVector, TopK: 2, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if hits[0].ChunkID != "bread#1" || math.Abs(hits[0].Score-1) > 1e-5 {
		t.Fatalf("vector search: %+v", hits[0])
	}
	if hits[0].Explain.Vector == nil || hits[0].Explain.BM25 != nil {
		t.Fatalf("vector explain: %+v", hits[0].Explain)
	}
	hits, err = e.Search(ctx, "v", data.Query{Text: q, Vector: f.vec(q), Mode: data.ModeHybrid, TopK: 3, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if hits[0].ChunkID != "bread#1" || hits[0].Explain.BM25 == nil || hits[0].Explain.Vector == nil {
		t.Fatalf("hybrid top hit should be found by both sides: %+v %+v", hits[0], hits[0].Explain)
	}
	want := 1.0/61 + 1.0/61
	if math.Abs(hits[0].Score-want) > 1e-12 {
		t.Fatalf("hybrid RRF score %v want %v", hits[0].Score, want)
	}
	// A query vector of the wrong size and a mismatched model are refused.
	if _, err := e.Search(ctx, "v", data.Query{Vector: make([]float32, 3), Mode: data.ModeVector}); !errors.Is(err, data.ErrDimension) {
		t.Fatalf("wrong dims: %v", err)
	}
	if _, err := e.Search(ctx, "v", data.Query{Text: "x", Model: "other"}); !errors.Is(err, data.ErrModelMismatch) {
		t.Fatalf("model mismatch: %v", err)
	}
	// Wrong-dimension and NaN writes are refused and change nothing.
	bad := doc("bad", "", "x")
	bad.Chunks[0].Vector = make([]float32, 5)
	if _, err := e.PutDocuments(ctx, "v", []data.Document{bad}, false); !errors.Is(err, data.ErrDimension) {
		t.Fatalf("bad dims write: %v", err)
	}
	bad.Chunks[0].Vector = f.vec("x")
	bad.Chunks[0].Vector[3] = float32(math.NaN())
	if _, err := e.PutDocuments(ctx, "v", []data.Document{bad}, false); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("NaN write: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: the snapshot loads; a corrupt snapshot is rebuilt from the store.
	for _, corrupt := range []bool{false, true} {
		if corrupt {
			if err := os.WriteFile(filepath.Join(dir, "indexes", "v", "vectors.ann"), []byte("not an index"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		e, err = Open(ctx, Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		hits, err = e.Search(ctx, "v", data.Query{Text: q, Vector: f.vec(q), Mode: data.ModeVector, TopK: 1})
		if err != nil || len(hits) != 1 || hits[0].ChunkID != "bread#1" {
			t.Fatalf("corrupt=%v: %+v %v", corrupt, hits, err)
		}
		e.Close()
	}
}

func TestVectorLogReplay(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := fakeEmbedder{dims: 16}
	e, _ := Open(ctx, Options{Dir: dir})
	e.CreateIndex(ctx, data.IndexConfig{Name: "v", Model: "fake"})
	e.PutDocuments(ctx, "v", vecCorpus(f), false)
	e.Close()
	e, _ = Open(ctx, Options{Dir: dir})
	// Store-only writes (a crash before the derived indexes saw them).
	var docs []data.Document
	for i := range 20 {
		d := doc("x"+strconv.Itoa(i), "", "unique phrase number "+strconv.Itoa(i))
		d.Chunks[0].Vector = f.vec(d.Chunks[0].Text)
		docs = append(docs, d)
	}
	if _, err := e.store.putDocuments("v", docs, 16, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.deleteDocuments("v", []string{"bread"}); err != nil {
		t.Fatal(err)
	}
	// Simulate a kill: no Close, so no snapshot; release the file lock only.
	e.store.Close()
	for _, n := range e.indexes {
		n.kw.close()
	}
	e, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	hits, err := e.Search(ctx, "v", data.Query{Text: "unique phrase number 7", Vector: f.vec("unique phrase number 7"), Mode: data.ModeVector, TopK: 1})
	if err != nil || hits[0].ChunkID != "x7#0" {
		t.Fatalf("replayed put: %+v %v", hits, err)
	}
	hits, _ = e.Search(ctx, "v", data.Query{Text: "Bake the loaf in a hot oven.", Vector: f.vec("Bake the loaf in a hot oven."), Mode: data.ModeVector, TopK: 30})
	for _, h := range hits {
		if h.DocID == "bread" {
			t.Fatalf("replayed delete missing: %+v", h)
		}
	}
}

// TestQuantizedSnapshotDamaged: an int8 vector index keeps its float
// vectors in a mapped section at the end of its snapshot; a snapshot cut
// short there is rebuilt from the store, and the reopened index answers.
func TestQuantizedSnapshotDamaged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := fakeEmbedder{dims: 16}
	opts := Options{Dir: dir, Vector: VectorOptions{Quantize: true}}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "v", Model: "fake"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutDocuments(ctx, "v", vecCorpus(f), false); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "indexes", "v", "vectors.ann")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-6); err != nil {
		t.Fatal(err)
	}
	e, err = Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := e.Search(ctx, "v", data.Query{Text: "Bake the loaf in a hot oven.", Vector: f.vec("Bake the loaf in a hot oven."), Mode: data.ModeVector, TopK: 1})
	if err != nil || len(hits) != 1 || hits[0].ChunkID != "bread#1" {
		t.Fatalf("after a damaged snapshot: %+v %v", hits, err)
	}
	// the rebuilt index was saved again, whole
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Load(path); err != nil {
		t.Fatalf("snapshot after the rebuild: %v", err)
	}
}

// TestVectorSettingsChangeRebuilds: a snapshot built with other graph
// settings (M, efConstruction, quantization) is rebuilt with the
// configured ones on open; the same settings load it as it is.
func TestVectorSettingsChangeRebuilds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := fakeEmbedder{dims: 16}
	var logs strings.Builder
	open := func(v VectorOptions) *Engine {
		t.Helper()
		e, err := Open(ctx, Options{Dir: dir, Vector: v, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	search := func(e *Engine) ann.Config {
		t.Helper()
		hits, err := e.Search(ctx, "v", data.Query{Text: "Bake the loaf in a hot oven.", Vector: f.vec("Bake the loaf in a hot oven."), Mode: data.ModeVector, TopK: 1})
		if err != nil || len(hits) != 1 || hits[0].ChunkID != "bread#1" {
			t.Fatalf("search: %+v %v", hits, err)
		}
		return e.indexes["v"].vec.ix.Config()
	}
	e := open(VectorOptions{})
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "v", Model: "fake"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutDocuments(ctx, "v", vecCorpus(f), false); err != nil {
		t.Fatal(err)
	}
	if c := search(e); c.M != ann.DefaultM || c.Quantize {
		t.Fatalf("default index built with %+v", c)
	}
	e.Close()

	want := VectorOptions{M: 8, EfConstruction: 50, Quantize: true}
	e = open(want)
	if c := search(e); c.M != 8 || c.EfConstruction != 50 || !c.Quantize {
		t.Fatalf("after a settings change the index has %+v", c)
	}
	e.Close()
	if n := strings.Count(logs.String(), "settings changed"); n != 1 {
		t.Fatalf("%d rebuild messages, want 1:\n%s", n, logs.String())
	}

	// efSearch alone is a query default: no rebuild.
	want.EfSearch = 7
	e = open(want)
	defer e.Close()
	if c := search(e); c.M != 8 || !c.Quantize {
		t.Fatalf("reopened index has %+v", c)
	}
	if n := strings.Count(logs.String(), "settings changed"); n != 1 {
		t.Fatalf("same graph settings rebuilt the index:\n%s", logs.String())
	}
}
