package index

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/eval"
	"github.com/ragd/ragd/internal/testutil"
)

// kwTest opens a fresh keyword index with the given scoring options.
func kwTest(t testing.TB, opts BM25Options) *keywordIndex {
	t.Helper()
	k, created, err := openKeyword(filepath.Join(t.TempDir(), "bleve"))
	if err != nil || !created {
		t.Fatalf("open keyword: created %v, %v", created, err)
	}
	t.Cleanup(func() { k.close() })
	k.bm25 = opts
	return k
}

// cv is a one-chunk document view; the chunk id is the document id.
func cv(id, title, text string, meta map[string]any) chunkView {
	return chunkView{Chunk: data.Chunk{ID: id, DocID: id, Text: text}, Title: title, Metadata: meta}
}

func mustApply(t testing.TB, k *keywordIndex, puts []chunkView, dels ...string) {
	t.Helper()
	if err := k.apply(puts, dels, 1); err != nil {
		t.Fatal(err)
	}
}

func mustSearch(t testing.TB, k *keywordIndex, q string, n int, f data.Filter) []kwHit {
	t.Helper()
	hits, err := k.search(context.Background(), q, n, f)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func hitIDs(hits []kwHit) string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return strings.Join(ids, ",")
}

// bm25Term is one term's contribution, in the scorer's operation order.
func bm25Term(qtf, n, df, x float64) float64 {
	k1 := 1.2
	idf := math.Log(1 + (n-df+0.5)/(df+0.5))
	return qtf * idf * x * (k1 + 1) / (x + k1)
}

// Every word below is its own stem and no stop word, so the analysed
// lengths can be counted by eye.
func TestBM25HandComputed(t *testing.T) {
	k := kwTest(t, BM25Options{K1: 1.2, B: 0.75})
	mustApply(t, k, []chunkView{
		cv("d1", "", "wing wing drag", nil), // len 3
		cv("d2", "", "wing lift", nil),      // len 2
		cv("d3", "", "flow", nil),           // len 1
	})
	// N 3, avgdl 6/3 = 2.
	norm := func(dl float64) float64 { return 1 - 0.75 + 0.75*dl/2 }
	want := map[string][]kwHit{
		"wing": {
			{"d1", bm25Term(1, 3, 2, 2/norm(3))},
			{"d2", bm25Term(1, 3, 2, 1/norm(2))},
		},
		"drag lift": {
			{"d2", bm25Term(1, 3, 1, 1/norm(2))}, // shorter, so first
			{"d1", bm25Term(1, 3, 1, 1/norm(3))},
		},
		"wing flow": {
			{"d3", bm25Term(1, 3, 1, 1/norm(1))},
			{"d1", bm25Term(1, 3, 2, 2/norm(3))},
			{"d2", bm25Term(1, 3, 2, 1/norm(2))},
		},
		"wings lift": { // "wings" stems to "wing"
			{"d2", bm25Term(1, 3, 2, 1/norm(2)) + bm25Term(1, 3, 1, 1/norm(2))},
			{"d1", bm25Term(1, 3, 2, 2/norm(3))},
		},
		"the nothing": nil,
	}
	for q, w := range want {
		got := mustSearch(t, k, q, 10, data.Filter{})
		if !slices.Equal(got, w) {
			t.Errorf("%q:\n got %v\nwant %v", q, got, w)
		}
	}
	// Repeating a query term multiplies its contribution exactly.
	one := mustSearch(t, k, "wing", 10, data.Filter{})
	two := mustSearch(t, k, "wing Wing", 10, data.Filter{})
	for i := range one {
		if two[i].ID != one[i].ID || two[i].Score != 2*one[i].Score {
			t.Fatalf("repeated term: %v vs %v", two, one)
		}
	}
	mixed := mustSearch(t, k, "lift wing lift", 1, data.Filter{})
	if w := bm25Term(2, 3, 1, 1/norm(2)) + bm25Term(1, 3, 2, 1/norm(2)); len(mixed) != 1 || mixed[0] != (kwHit{"d2", w}) {
		t.Fatalf("lift wing lift: %v, want d2 %v", mixed, w)
	}
}

func TestBM25TitleField(t *testing.T) {
	k := kwTest(t, BM25Options{K1: 1.2, B: 0.75, TitleWeight: 2})
	mustApply(t, k, []chunkView{
		cv("a", "Wing", "drag", nil),       // body "Wing\ndrag": len 2; title len 1
		cv("b", "", "wing drag lift", nil), // body len 3; no title
	})
	// N 2; avg body 5/2, avg title 1/2.
	nb := func(dl float64) float64 { return 1 - 0.75 + 0.75*dl/2.5 }
	nt := func(dl float64) float64 { return 1 - 0.75 + 0.75*dl/0.5 }
	got := mustSearch(t, k, "wing", 10, data.Filter{})
	want := []kwHit{
		{"a", bm25Term(1, 2, 2, 1/nb(2)+2*(1/nt(1)))},
		{"b", bm25Term(1, 2, 2, 1/nb(3))},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("title BM25F:\n got %v\nwant %v", got, want)
	}
}

func TestBM25TiesByID(t *testing.T) {
	k := kwTest(t, DefaultBM25())
	var puts []chunkView
	for _, id := range []string{"m", "c", "x", "a", "q"} {
		puts = append(puts, cv(id, "", "turbine blade", nil))
	}
	puts = append(puts, cv("z", "", "turbine turbine blade", nil))
	mustApply(t, k, puts)
	if got := hitIDs(mustSearch(t, k, "turbine", 10, data.Filter{})); got != "z,a,c,m,q,x" {
		t.Fatalf("order %s", got)
	}
	// A cut through a run of ties keeps the smallest ids.
	if got := hitIDs(mustSearch(t, k, "turbine", 3, data.Filter{})); got != "z,a,c" {
		t.Fatalf("top 3: %s", got)
	}
}

func TestBM25FilterExact(t *testing.T) {
	k := kwTest(t, DefaultBM25())
	var puts []chunkView
	langs := []string{"en", "fr", "de"}
	for i := range 30 {
		text := strings.Repeat("nozzle ", 1+i%4) + strings.Repeat("flow ", i%5)
		puts = append(puts, cv(fmt.Sprintf("c%02d", i), "", text, map[string]any{"lang": langs[i%3], "year": float64(1990 + i), "namespace": fmt.Sprint("ns", i%2)}))
	}
	mustApply(t, k, puts)
	all := mustSearch(t, k, "nozzle flow", 100, data.Filter{})
	if len(all) != 30 {
		t.Fatalf("unfiltered: %d hits", len(all))
	}
	cases := []struct {
		kv   []string
		keep func(i int) bool
	}{
		{[]string{"lang=en"}, func(i int) bool { return i%3 == 0 }},
		{[]string{"lang!=en"}, func(i int) bool { return i%3 != 0 }},
		{[]string{"lang=fr|de", "year>=2005"}, func(i int) bool { return i%3 != 0 && i >= 15 }},
		{[]string{"namespace=ns1"}, func(i int) bool { return i%2 == 1 }},
		{[]string{"lang=xx"}, func(int) bool { return false }},
	}
	for _, c := range cases {
		f, err := data.ParseFilterKV(c.kv)
		if err != nil {
			t.Fatal(err)
		}
		// Filtering restricts the ranking; it changes no score.
		var want []kwHit
		for _, h := range all {
			var i int
			fmt.Sscanf(h.ID, "c%d", &i)
			if c.keep(i) {
				want = append(want, h)
			}
		}
		if got := mustSearch(t, k, "nozzle flow", 100, f); !slices.Equal(got, want) {
			t.Errorf("filter %v:\n got %v\nwant %v", c.kv, got, want)
		}
		if got := mustSearch(t, k, "nozzle flow", 2, f); !slices.Equal(got, want[:min(2, len(want))]) {
			t.Errorf("filter %v top 2: got %v", c.kv, got)
		}
	}
}

// After replaces and deletes, the scores equal those of an index built
// from the surviving chunks alone: deleted chunks are neither returned nor
// counted, and the length totals are kept exactly.
func TestBM25DeletesAndReplaces(t *testing.T) {
	final := []chunkView{
		cv("a", "Shock", "shock waves at supersonic speed", nil),
		cv("b", "", "supersonic intake design", nil),
		cv("d", "Boundary layer", "laminar boundary layer on a flat plate", nil),
	}
	dir := filepath.Join(t.TempDir(), "bleve")
	k, _, err := openKeyword(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, k, []chunkView{
		cv("a", "Old", "subsonic flow", nil),
		cv("b", "", "supersonic intake design", nil),
		cv("c", "Gone", "supersonic shock shock shock", nil),
	})
	mustApply(t, k, []chunkView{final[0], final[2]}, "c")
	mustApply(t, k, nil, "zz") // deleting what is absent changes nothing
	fresh := kwTest(t, DefaultBM25())
	mustApply(t, fresh, final)

	var body, title float64
	for _, c := range final {
		body += float64(len(k.analyzer.Analyze([]byte(kwDocFor(c).Body))))
		title += float64(len(k.analyzer.Analyze([]byte(c.Title))))
	}
	if k.tokens != body || k.titleTokens != title || fresh.tokens != body || fresh.titleTokens != title {
		t.Fatalf("totals: body %v title %v, fresh %v %v, want %v %v", k.tokens, k.titleTokens, fresh.tokens, fresh.titleTokens, body, title)
	}
	for _, q := range []string{"supersonic shock", "subsonic", "boundary layer plate", "shock"} {
		got, want := mustSearch(t, k, q, 10, data.Filter{}), mustSearch(t, fresh, q, 10, data.Filter{})
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n got %v\nwant %v", q, got, want)
		}
		if strings.Contains(hitIDs(got), "c") {
			t.Errorf("%q: deleted chunk returned: %v", q, got)
		}
	}
	// The totals survive a reopen.
	k.close()
	k2, created, err := openKeyword(dir)
	if err != nil || created {
		t.Fatalf("reopen: %v %v", created, err)
	}
	defer k2.close()
	if k2.tokens != body || k2.titleTokens != title {
		t.Fatalf("reopened totals %v %v", k2.tokens, k2.titleTokens)
	}
	if got, want := mustSearch(t, k2, "supersonic shock", 10, data.Filter{}), mustSearch(t, fresh, "supersonic shock", 10, data.Filter{}); !slices.Equal(got, want) {
		t.Errorf("after reopen:\n got %v\nwant %v", got, want)
	}
}

// An index written under another mapping version does not open, so the
// engine rebuilds it from the store.
func TestKeywordMappingVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bleve")
	k, _, err := openKeyword(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.idx.SetInternal([]byte(internalMappingKey), []byte("1")); err != nil {
		t.Fatal(err)
	}
	k.close()
	if _, _, err := openKeyword(dir); err == nil || !strings.Contains(err.Error(), "mapping version") {
		t.Fatalf("old mapping opened: %v", err)
	}

	ctx := context.Background()
	edir := t.TempDir()
	e := openTest(t, edir)
	e.CreateIndex(ctx, data.IndexConfig{Name: "t"})
	e.PutDocuments(ctx, "t", append([]data.Document(nil), corpus...), false)
	n, _ := e.get("t")
	n.kw.idx.SetInternal([]byte(internalMappingKey), []byte("1"))
	e.Close()
	e = openTest(t, edir)
	defer e.Close()
	hits, err := e.Search(ctx, "t", data.Query{Text: "sourdough starter", TopK: 1})
	if err != nil || len(hits) != 1 || hits[0].ChunkID != "bread#0" {
		t.Fatalf("after rebuild: %+v %v", hits, err)
	}
}

func TestBM25OptionsValidate(t *testing.T) {
	if err := DefaultBM25().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []BM25Options{{K1: -1, B: 0.5}, {K1: 1, B: 1.5}, {K1: 1, B: math.NaN()}, {K1: 1, B: 0.5, TitleWeight: -1}} {
		if o.Validate() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// sharedDir finds ../shared beside the module root.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testutil.SharedDir(t)
}

type engineSearcher struct {
	e    *Engine
	name string
}

func (s engineSearcher) Search(ctx context.Context, q data.Query) ([]data.Hit, error) {
	return s.e.Search(ctx, s.name, q)
}

// TestCranfieldQuality is the retrieval-quality gate: BM25 over Cranfield,
// one chunk per document (the CLI's 256-token chunker leaves nearly every
// Cranfield document whole). The floors are the values measured with the
// default options (nDCG@10 0.377393, MAP 0.310853, R@100 0.753961); an
// outside BM25F (wink-bm25-text-search: title + body, k1 1.2, b 0.75)
// reaches nDCG@10 0.373 and MAP 0.307.
func TestCranfieldQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := filepath.Join(sharedDir(t), "datasets", "cranfield")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no Cranfield collection: %v", err)
	}
	ds, err := eval.LoadDataset("cranfield", dir, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := openTest(t, t.TempDir())
	defer e.Close()
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: "cran"}); err != nil {
		t.Fatal(err)
	}
	docs := make([]data.Document, len(ds.Docs))
	for i, d := range ds.Docs {
		d.Chunks = []data.Chunk{{ID: data.ChunkID(d.ID, 0), DocID: d.ID, Text: d.Text, End: len(d.Text)}}
		d.Hash = data.ContentHash(d.Title, d.Text)
		docs[i] = d
	}
	if _, err := e.PutDocuments(ctx, "cran", docs, false); err != nil {
		t.Fatal(err)
	}
	rep, err := eval.Evaluate(ctx, ds, engineSearcher{e, "cran"}, eval.RunConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Runs[0].Metrics
	t.Logf("Cranfield BM25 (%d queries): nDCG@10 %.6f MAP %.6f R@100 %.6f", rep.Queries, m.NDCG10, m.AP, m.Recall100)
	const minNDCG, minMAP = 0.3773, 0.3108
	if m.NDCG10 < minNDCG || m.AP < minMAP {
		t.Fatalf("nDCG@10 %.4f (floor %.4f), MAP %.4f (floor %.4f)", m.NDCG10, minNDCG, m.AP, minMAP)
	}
}

// zipfWord is the synthetic word of a vocabulary rank: letters only, never
// an English stop word.
func zipfWord(rank uint64) string {
	b := []byte{'z', 'q'}
	for {
		b = append(b, byte('a'+rank%26))
		rank /= 26
		if rank == 0 {
			return string(b)
		}
	}
}

// BenchmarkKeywordSearch100k searches 100,000 synthetic chunks (40–120
// words each, drawn from a Zipfian vocabulary of 50,000 words, s 1.1,
// seeded) with 3-term queries. "mid" draws query terms uniformly from
// vocabulary ranks 20–5,000; "zipf" draws them like the documents (so
// mostly the longest postings); "filter" is "mid" restricted to half the
// chunks by a namespace filter. The corpus is built once (about a minute).
func BenchmarkKeywordSearch100k(b *testing.B) {
	const nChunks, vocab = 100_000, 50_000
	k := kwTest(b, DefaultBM25())
	rng := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(rng, 1.1, 1, vocab-1)
	start := time.Now()
	var batch []chunkView
	var sb strings.Builder
	for i := range nChunks {
		sb.Reset()
		for range 40 + rng.IntN(81) {
			sb.WriteString(zipfWord(z.Uint64()))
			sb.WriteByte(' ')
		}
		title := zipfWord(z.Uint64()) + " " + zipfWord(z.Uint64())
		batch = append(batch, cv(fmt.Sprintf("c%06d", i), title, sb.String(), map[string]any{"namespace": fmt.Sprint("ns", i%2)}))
		if len(batch) == 1000 {
			mustApply(b, k, batch)
			batch = batch[:0]
		}
	}
	b.Logf("built %d chunks in %s", nChunks, time.Since(start).Round(time.Millisecond))
	ns1 := data.Filter{Conds: []data.Cond{{Field: "namespace", Op: data.OpEq, Value: "ns1"}}}
	for _, c := range []struct {
		name   string
		term   func() uint64
		filter data.Filter
	}{
		{"mid", func() uint64 { return 20 + rng.Uint64N(4980) }, data.Filter{}},
		{"zipf", z.Uint64, data.Filter{}},
		{"filter", func() uint64 { return 20 + rng.Uint64N(4980) }, ns1},
	} {
		queries := make([]string, 1000)
		for i := range queries {
			queries[i] = zipfWord(c.term()) + " " + zipfWord(c.term()) + " " + zipfWord(c.term())
		}
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				hits, err := k.search(ctx, queries[i%len(queries)], 10, c.filter)
				lat = append(lat, time.Since(t0))
				if err != nil || len(hits) == 0 {
					b.Fatalf("%q: %d hits, %v", queries[i%len(queries)], len(hits), err)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// MaxScore pruning must not change the top k: compare every cut with the
// exhaustive ranking (k >= N never prunes) on a random skewed corpus.
func TestBM25PruningExact(t *testing.T) {
	k := kwTest(t, DefaultBM25())
	rng := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(rng, 1.3, 1, 39)
	var puts []chunkView
	for i := range 400 {
		var w []string
		for range 3 + rng.IntN(30) {
			w = append(w, zipfWord(z.Uint64()))
		}
		title := ""
		if i%3 == 0 {
			title = zipfWord(z.Uint64())
		}
		puts = append(puts, cv(fmt.Sprintf("p%03d", i), title, strings.Join(w, " "), map[string]any{"g": float64(i % 4), "s": fmt.Sprint("v", i%3)}))
	}
	mustApply(t, k, puts)
	filters := []data.Filter{{},
		{Conds: []data.Cond{{Field: "g", Op: data.OpLte, Value: 1.0}}}, // listed up front
		{Conds: []data.Cond{{Field: "s", Op: data.OpEq, Value: "v1"}}}, // checked lazily
	}
	for q := range 200 {
		var w []string
		for range 2 + rng.IntN(4) {
			w = append(w, zipfWord(z.Uint64()))
		}
		text := strings.Join(w, " ")
		f := filters[q%3]
		all := mustSearch(t, k, text, 1000, f)
		for _, n := range []int{1, 3, 10, 50} {
			if got := mustSearch(t, k, text, n, f); !slices.Equal(got, all[:min(n, len(all))]) {
				t.Fatalf("%q top %d:\n got %v\nwant %v", text, n, got, all[:min(n, len(all))])
			}
		}
	}
}
