// Package backendtest is the conformance suite every index.Backend passes:
// the embedded engine runs it in index's tests, the Weaviate backend in
// index/weaviate's (build tag weaviate, against a live node). It checks the
// behaviour callers rely on: index lifecycle, writes and no-op rewrites,
// replacement, deletes, BM25 / vector / hybrid search, filters and
// namespaces, paging, and that bad writes change nothing.
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/internal/unitvec"
)

// Dims is the vector length the suite writes.
const Dims = 16

// Open returns a backend for one subtest and a prefix for its index names
// (backends shared between tests need distinct names).
type Open func(t *testing.T) (b index.Backend, prefix string)

// Run runs every conformance test against the backend open makes.
func Run(t *testing.T, open Open) {
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, open) })
	t.Run("WriteAndSearch", func(t *testing.T) { testWriteAndSearch(t, open) })
	t.Run("ReplaceAndSkip", func(t *testing.T) { testReplace(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	t.Run("Filters", func(t *testing.T) { testFilters(t, open) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, open) })
	t.Run("BadWrites", func(t *testing.T) { testBadWrites(t, open) })
}

// Vector is a deterministic unit vector for a seed.
func Vector(seed uint64) []float32 { return unitvec.FromSeed(seed, Dims) }

// Doc builds a document with one chunk per text, each with a vector seeded
// by the document's seed and the chunk's ordinal.
func Doc(id string, seed uint64, meta map[string]any, texts ...string) data.Document {
	d := data.Document{ID: id, Title: "title of " + id, Source: "test/" + id, Metadata: meta}
	off := 0
	for i, tx := range texts {
		if i > 0 {
			d.Text += "\n\n"
			off += 2
		}
		d.Text += tx
		d.Chunks = append(d.Chunks, data.Chunk{ID: data.ChunkID(id, i), DocID: id, Ordinal: i, Text: tx,
			Start: off, End: off + len(tx), Vector: Vector(seed*100 + uint64(i))})
		off += len(tx)
	}
	return d
}

func ctx() context.Context { return context.Background() }

func create(t *testing.T, b index.Backend, name string) {
	t.Helper()
	if _, err := b.CreateIndex(ctx(), data.IndexConfig{Name: name, Dims: Dims, Metric: data.Cosine}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() { _ = b.DropIndex(ctx(), name) })
}

func put(t *testing.T, b index.Backend, name string, force bool, docs ...data.Document) index.PutResult {
	t.Helper()
	res, err := b.PutDocuments(ctx(), name, docs, force)
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	return res
}

func search(t *testing.T, b index.Backend, name string, q data.Query) []data.Hit {
	t.Helper()
	hits, err := b.Search(ctx(), name, q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return hits
}

func docIDs(hits []data.Hit) []string {
	var out []string
	for _, h := range hits {
		if !slices.Contains(out, h.DocID) {
			out = append(out, h.DocID)
		}
	}
	sort.Strings(out)
	return out
}

func testLifecycle(t *testing.T, open Open) {
	b, p := open(t)
	name := p + "life"
	cfg, err := b.CreateIndex(ctx(), data.IndexConfig{Name: name, Dims: Dims, Metric: "dot-product", Model: "m1", ChunkSize: 100, ChunkOverlap: 10})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metric != data.Dot {
		t.Errorf("metric normalised to %q, want dot", cfg.Metric)
	}
	if _, err := b.CreateIndex(ctx(), data.IndexConfig{Name: name}); !errors.Is(err, data.ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	if _, err := b.CreateIndex(ctx(), data.IndexConfig{Name: "bad name!"}); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("bad name: %v, want ErrInvalid", err)
	}
	info, err := b.Index(ctx(), name)
	if err != nil {
		t.Fatal(err)
	}
	if info.Dims != Dims || info.Model != "m1" || info.ChunkSize != 100 || info.ChunkOverlap != 10 || info.Stats.Documents != 0 {
		t.Errorf("info = %+v", info)
	}
	list, err := b.Indexes(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list, func(i index.IndexInfo) bool { return i.Name == name }) {
		t.Errorf("Indexes() lacks %s: %+v", name, list)
	}
	if err := b.DropIndex(ctx(), name); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Index(ctx(), name); !errors.Is(err, data.ErrNotFound) {
		t.Errorf("after drop: %v, want ErrNotFound", err)
	}
	if err := b.DropIndex(ctx(), name); !errors.Is(err, data.ErrNotFound) {
		t.Errorf("second drop: %v, want ErrNotFound", err)
	}
	if _, err := b.Search(ctx(), name, data.Query{Text: "x"}); !errors.Is(err, data.ErrNotFound) {
		t.Errorf("search dropped index: %v, want ErrNotFound", err)
	}
	if _, err := b.PutDocuments(ctx(), name, []data.Document{Doc("a", 1, nil, "x")}, false); !errors.Is(err, data.ErrNotFound) {
		t.Errorf("write to dropped index: %v, want ErrNotFound", err)
	}
	// A re-created index starts empty.
	create(t, b, name)
	if info, err := b.Index(ctx(), name); err != nil || info.Stats.Documents != 0 || info.Stats.Chunks != 0 {
		t.Errorf("re-created index: %+v %v", info, err)
	}
}

func corpus() []data.Document {
	return []data.Document{
		Doc("apollo", 1, map[string]any{"genre": "space", "year": 1969.0}, "The lunar module landed in the Sea of Tranquility.", "Astronauts collected moon rocks."),
		Doc("beagle", 2, map[string]any{"genre": "biology", "year": 1831.0}, "Darwin sailed on the Beagle to the Galapagos islands."),
		Doc("curie", 3, map[string]any{"genre": "chemistry", "year": 1898.0, "namespace": "labs"}, "Radium and polonium were isolated from pitchblende."),
		Doc("dna", 4, map[string]any{"genre": "biology", "year": 1953.0, "namespace": "labs"}, "The double helix structure of DNA was described."),
	}
}

func testWriteAndSearch(t *testing.T, open Open) {
	b, p := open(t)
	name := p + "ws"
	create(t, b, name)
	v0 := b.Version(ctx(), name)
	res := put(t, b, name, false, corpus()...)
	if res.Written != 4 || res.Chunks != 5 || res.Skipped != 0 {
		t.Errorf("put = %+v, want 4 written, 5 chunks", res)
	}
	if v1 := b.Version(ctx(), name); v1 == 0 || v1 == v0 {
		t.Errorf("version did not move on write: %d -> %d", v0, v1)
	}
	info, err := b.Index(ctx(), name)
	if err != nil || info.Stats.Documents != 4 || info.Stats.Chunks != 5 {
		t.Errorf("stats = %+v, %v", info.Stats, err)
	}
	hits := search(t, b, name, data.Query{Text: "galapagos islands", Mode: data.ModeBM25, TopK: 3})
	if len(hits) == 0 || hits[0].DocID != "beagle" {
		t.Fatalf("bm25 hits = %+v, want beagle first", hits)
	}
	h := hits[0]
	if h.ChunkID != "beagle#0" || h.Title != "title of beagle" || h.Source != "test/beagle" || h.Start != 0 ||
		h.End != len(h.Text) || h.Metadata["genre"] != "biology" || h.Score <= 0 {
		t.Errorf("hit fields = %+v", h)
	}
	// Vector search with a chunk's own vector finds that chunk first.
	hits = search(t, b, name, data.Query{Vector: Vector(101), Mode: data.ModeVector, TopK: 3, Explain: true})
	if len(hits) == 0 || hits[0].ChunkID != "apollo#1" {
		t.Fatalf("vector hits = %+v, want apollo#1 first", hits)
	}
	if math.Abs(hits[0].Score-1) > 1e-3 {
		t.Errorf("cosine score of an identical vector = %v, want 1", hits[0].Score)
	}
	if hits[0].Explain == nil || hits[0].Explain.Vector == nil || hits[0].Explain.Vector.Rank != 1 {
		t.Errorf("explain = %+v", hits[0].Explain)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Errorf("vector hits out of order: %v", hits)
		}
	}
	// Hybrid: the keyword side and the vector side agree on curie.
	hits = search(t, b, name, data.Query{Text: "radium polonium", Vector: Vector(300), Mode: data.ModeHybrid, TopK: 2})
	if len(hits) == 0 || hits[0].DocID != "curie" {
		t.Errorf("hybrid hits = %+v, want curie first", hits)
	}
	hits = search(t, b, name, data.Query{Text: "radium polonium", Vector: Vector(300), Mode: data.ModeHybrid, Fusion: data.FusionConvex, Alpha: 0.5, TopK: 2})
	if len(hits) == 0 || hits[0].DocID != "curie" {
		t.Errorf("hybrid convex hits = %+v, want curie first", hits)
	}
	if hits := search(t, b, name, data.Query{Text: "zyzzyva", Mode: data.ModeBM25}); len(hits) != 0 {
		t.Errorf("unknown word found %+v", hits)
	}
	// Documents come back whole.
	d, err := b.Document(ctx(), name, "apollo")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Chunks) != 2 || d.Chunks[1].Text != "Astronauts collected moon rocks." || d.Text[d.Chunks[1].Start:d.Chunks[1].End] != d.Chunks[1].Text || d.Hash == "" {
		t.Errorf("document = %+v", d)
	}
	dv, err := b.DocumentVectors(ctx(), name, "apollo")
	if err != nil || len(dv.Chunks) != 2 || len(dv.Chunks[0].Vector) != Dims || math.Abs(float64(dv.Chunks[0].Vector[3]-Vector(100)[3])) > 1e-6 {
		t.Errorf("document vectors = %+v, %v", dv.Chunks, err)
	}
	if _, err := b.Document(ctx(), name, "nope"); !errors.Is(err, data.ErrNotFound) {
		t.Errorf("unknown document: %v", err)
	}
	// Bad queries are refused.
	if _, err := b.Search(ctx(), name, data.Query{Vector: []float32{1, 2}, Mode: data.ModeVector}); !errors.Is(err, data.ErrDimension) {
		t.Errorf("short query vector: %v, want ErrDimension", err)
	}
	if _, err := b.Search(ctx(), name, data.Query{Text: " ", Mode: data.ModeBM25}); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("blank query: %v, want ErrInvalid", err)
	}
	if _, err := b.Search(ctx(), name, data.Query{Text: "x", Mode: "fuzzy"}); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("bad mode: %v, want ErrInvalid", err)
	}
}

func testReplace(t *testing.T, open Open) {
	b, p := open(t)
	name := p + "rep"
	create(t, b, name)
	put(t, b, name, false, Doc("d", 1, nil, "first alpha chunk", "second bravo chunk", "third charlie chunk"))
	v := b.Version(ctx(), name)
	if res := put(t, b, name, false, Doc("d", 1, nil, "first alpha chunk", "second bravo chunk", "third charlie chunk")); res.Skipped != 1 || res.Written != 0 {
		t.Errorf("unchanged rewrite = %+v, want skipped", res)
	}
	if b.Version(ctx(), name) != v {
		t.Errorf("version moved on a no-op write")
	}
	if res := put(t, b, name, true, Doc("d", 1, nil, "first alpha chunk", "second bravo chunk", "third charlie chunk")); res.Written != 1 {
		t.Errorf("forced rewrite = %+v, want written", res)
	}
	// Replace with fewer chunks: the old third chunk must go.
	put(t, b, name, false, Doc("d", 2, nil, "only delta chunk"))
	d, err := b.Document(ctx(), name, "d")
	if err != nil || len(d.Chunks) != 1 || d.Chunks[0].Text != "only delta chunk" {
		t.Fatalf("replaced document = %+v, %v", d, err)
	}
	if hits := search(t, b, name, data.Query{Text: "charlie", Mode: data.ModeBM25}); len(hits) != 0 {
		t.Errorf("old chunk still found: %+v", hits)
	}
	if hits := search(t, b, name, data.Query{Text: "delta", Mode: data.ModeBM25}); len(hits) != 1 {
		t.Errorf("new chunk not found: %+v", hits)
	}
	if info, _ := b.Index(ctx(), name); info.Stats.Chunks != 1 || info.Stats.Documents != 1 {
		t.Errorf("stats after replace = %+v", info.Stats)
	}
}

func testDelete(t *testing.T, open Open) {
	b, p := open(t)
	name := p + "del"
	create(t, b, name)
	put(t, b, name, false, corpus()...)
	v := b.Version(ctx(), name)
	n, missing, err := b.DeleteDocuments(ctx(), name, []string{"apollo", "ghost", "beagle"})
	if err != nil || n != 2 || !slices.Equal(missing, []string{"ghost"}) {
		t.Fatalf("delete = %d %v %v", n, missing, err)
	}
	if b.Version(ctx(), name) == v {
		t.Errorf("version did not move on delete")
	}
	if hits := search(t, b, name, data.Query{Text: "lunar module", Mode: data.ModeBM25}); len(hits) != 0 {
		t.Errorf("deleted document found by BM25: %+v", hits)
	}
	for _, h := range search(t, b, name, data.Query{Vector: Vector(100), Mode: data.ModeVector, TopK: 10}) {
		if h.DocID == "apollo" || h.DocID == "beagle" {
			t.Errorf("deleted document found by vector: %+v", h)
		}
	}
	if _, err := b.Document(ctx(), name, "apollo"); !errors.Is(err, data.ErrNotFound) {
		t.Errorf("deleted document readable: %v", err)
	}
	if info, _ := b.Index(ctx(), name); info.Stats.Documents != 2 || info.Stats.Chunks != 2 {
		t.Errorf("stats after delete = %+v", info.Stats)
	}
	if n, missing, err := b.DeleteDocuments(ctx(), name, []string{"ghost"}); err != nil || n != 0 || len(missing) != 1 {
		t.Errorf("delete of unknown = %d %v %v", n, missing, err)
	}
}

func testFilters(t *testing.T, open Open) {
	b, p := open(t)
	name := p + "flt"
	create(t, b, name)
	docs := corpus()
	docs = append(docs, Doc("tags", 5, map[string]any{"genre": "space", "year": 2021.0, "tags": []any{"mars", "rover"}}, "A rover landed on Mars."))
	put(t, b, name, false, docs...)
	vecQ := func(f string, ns string) []string {
		t.Helper()
		flt, err := data.ParseFilterJSON([]byte(f))
		if err != nil {
			t.Fatal(err)
		}
		return docIDs(search(t, b, name, data.Query{Vector: Vector(1), Mode: data.ModeVector, TopK: 20, Filter: flt, Namespace: ns}))
	}
	cases := []struct {
		filter, ns string
		want       []string
	}{
		{`{"genre":"biology"}`, "", []string{"beagle", "dna"}},
		{`{"genre":{"$ne":"biology"}}`, "", []string{"apollo", "curie", "tags"}},
		{`{"genre":{"$in":["space","chemistry"]}}`, "", []string{"apollo", "curie", "tags"}},
		{`{"genre":{"$nin":["space","chemistry"]}}`, "", []string{"beagle", "dna"}},
		{`{"year":{"$gte":1900,"$lt":2000}}`, "", []string{"apollo", "dna"}},
		{`{"year":{"$lte":1898}}`, "", []string{"beagle", "curie"}},
		{`{"tags":"rover"}`, "", []string{"tags"}},
		{`{"missing":"x"}`, "", nil},
		{`{"missing":{"$ne":"x"}}`, "", []string{"apollo", "beagle", "curie", "dna", "tags"}},
		{`{"year":"1969"}`, "", nil},
		{``, "labs", []string{"curie", "dna"}},
		{`{"genre":"biology"}`, "labs", []string{"dna"}},
		{``, "nowhere", nil},
	}
	for _, c := range cases {
		if got := vecQ(c.filter, c.ns); !slices.Equal(got, c.want) {
			t.Errorf("filter %s ns %q: got %v, want %v", c.filter, c.ns, got, c.want)
		}
	}
	// Filters apply to BM25 and hybrid too.
	flt, _ := data.ParseFilterJSON([]byte(`{"genre":"space"}`))
	if got := docIDs(search(t, b, name, data.Query{Text: "landed", Mode: data.ModeBM25, Filter: flt, TopK: 10})); !slices.Equal(got, []string{"apollo", "tags"}) {
		t.Errorf("filtered bm25 = %v", got)
	}
	flt, _ = data.ParseFilterJSON([]byte(`{"year":{"$gt":2000}}`))
	if got := docIDs(search(t, b, name, data.Query{Text: "landed", Vector: Vector(1), Mode: data.ModeHybrid, Filter: flt, TopK: 10})); !slices.Equal(got, []string{"tags"}) {
		t.Errorf("filtered hybrid = %v", got)
	}
}

func testPaging(t *testing.T, open Open) {
	b, p := open(t)
	name := p + "pg"
	create(t, b, name)
	var docs []data.Document
	for i := range 25 {
		docs = append(docs, Doc(fmt.Sprintf("doc-%02d", i), uint64(i+10), nil, fmt.Sprintf("text number %d", i)))
	}
	put(t, b, name, false, docs...)
	var seen []string
	after := ""
	for range 10 {
		page, err := b.Documents(ctx(), name, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			seen = append(seen, d.ID)
			if d.Chunks != 1 || d.Hash == "" || d.UpdatedAt.IsZero() {
				t.Errorf("summary = %+v", d)
			}
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != 25 || !sort.StringsAreSorted(seen) || seen[0] != "doc-00" {
		t.Errorf("paged ids = %v", seen)
	}
	hashes, err := b.DocumentHashes(ctx(), name)
	if err != nil || len(hashes) != 25 || hashes["doc-03"] != data.ContentHash(docs[3].Title, docs[3].Text) {
		t.Errorf("hashes = %d entries, %v", len(hashes), err)
	}
	srcs, err := b.DocumentSources(ctx(), name)
	if err != nil || len(srcs) != 25 || srcs["doc-07"] != "test/doc-07" {
		t.Errorf("sources = %v, %v", srcs, err)
	}
}

func testBadWrites(t *testing.T, open Open) {
	b, p := open(t)
	name := p + "bad"
	create(t, b, name)
	put(t, b, name, false, Doc("keep", 1, nil, "the original text"))
	v := b.Version(ctx(), name)
	short := Doc("short", 2, nil, "short vector")
	short.Chunks[0].Vector = short.Chunks[0].Vector[:4]
	nan := Doc("nan", 3, nil, "nan vector")
	nan.Chunks[0].Vector[2] = float32(math.NaN())
	zero := Doc("zero", 4, nil, "zero vector")
	zero.Chunks[0].Vector = make([]float32, Dims)
	cases := []struct {
		name string
		docs []data.Document
		want error
	}{
		{"wrong dims", []data.Document{Doc("ok", 5, nil, "fine"), short}, data.ErrDimension},
		{"NaN", []data.Document{nan}, data.ErrInvalid},
		{"zero under cosine", []data.Document{zero}, data.ErrInvalid},
		{"duplicate ids", []data.Document{Doc("dup", 6, nil, "a"), Doc("dup", 7, nil, "b")}, data.ErrInvalid},
		{"empty id", []data.Document{Doc("", 8, nil, "x")}, data.ErrInvalid},
	}
	for _, c := range cases {
		if _, err := b.PutDocuments(ctx(), name, c.docs, false); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	info, err := b.Index(ctx(), name)
	if err != nil || info.Stats.Documents != 1 || info.Stats.Chunks != 1 {
		t.Errorf("a refused write changed the index: %+v %v", info.Stats, err)
	}
	if b.Version(ctx(), name) != v {
		t.Errorf("a refused write moved the version")
	}
	if hits := search(t, b, name, data.Query{Text: "original", Mode: data.ModeBM25}); len(hits) != 1 {
		t.Errorf("existing document lost: %+v", hits)
	}
}
