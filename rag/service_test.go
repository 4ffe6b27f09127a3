package rag_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/extractive"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// An unchanged document is skipped before it is chunked or embedded; a
// changed text or changed metadata is written again.
func TestIngestSkipsUnchangedBeforeEmbedding(t *testing.T) {
	svc, emb, _ := newService(t, rag.Config{NoCache: true})
	ctx := context.Background()
	res, err := svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Docs != 3 || res.Skipped != 0 || res.Embedded == 0 {
		t.Fatalf("first ingest: %+v", res.Summary)
	}
	first := emb.embedded()
	res, err = svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Docs != 0 || res.Skipped != 3 || res.Embedded != 0 || emb.embedded() != first {
		t.Fatalf("re-ingest of unchanged docs did work: %+v, embedded %d -> %d", res.Summary, first, emb.embedded())
	}
	changed := clone(corpus)
	changed[0].Text += " Let it rise overnight."
	changed[1].Metadata = map[string]any{"lang": "en"}
	res, err = svc.Ingest(ctx, "kb", changed, rag.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Docs != 2 || res.Skipped != 1 {
		t.Fatalf("changed text and metadata: %+v", res.Summary)
	}
	// Same metadata again: skipped.
	res, err = svc.Ingest(ctx, "kb", changed, rag.IngestOptions{})
	if err != nil || res.Docs != 0 || res.Skipped != 3 {
		t.Fatalf("unchanged with metadata: %+v %v", res.Summary, err)
	}
	res, err = svc.Ingest(ctx, "kb", clone(corpus[2:]), rag.IngestOptions{Force: true})
	if err != nil || res.Docs != 1 {
		t.Fatalf("force: %+v %v", res.Summary, err)
	}
}

// Ingest chunks with the settings stored with the index.
func TestIngestUsesStoredChunkSettings(t *testing.T) {
	svc, _, eng := newService(t, rag.Config{})
	ctx := context.Background()
	if _, err := svc.CreateIndex(ctx, data.IndexConfig{Name: "small", Model: "bag", ChunkSize: 32, ChunkOverlap: 4}); err != nil {
		t.Fatal(err)
	}
	long := data.Document{ID: "long", Text: strings.Repeat("word after word in a long text. ", 80)}
	if _, err := svc.Ingest(ctx, "small", []data.Document{long}, rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(ctx, "kb", []data.Document{long}, rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	small, _ := eng.Document(ctx, "small", "long")
	big, _ := eng.Document(ctx, "kb", "long")
	if len(small.Chunks) <= len(big.Chunks) || len(small.Chunks) < 10 {
		t.Fatalf("chunk size 32 gave %d chunks, the default %d", len(small.Chunks), len(big.Chunks))
	}
}

// Search embeds the query text with the index's model (the backend gets a
// vector), and hybrid is the default mode for an index with a model.
func TestSearchEmbedsQueryInService(t *testing.T) {
	sched := &countingScheduler{}
	svc, emb, eng := newService(t, rag.Config{Scheduler: sched})
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	hits, err := svc.Search(ctx, "kb", data.Query{Text: "how to bake sourdough bread", TopK: 2, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].DocID != "bread" {
		t.Fatalf("hits: %+v", hits)
	}
	if hits[0].Explain == nil || hits[0].Explain.Vector == nil || hits[0].Explain.BM25 == nil {
		t.Fatalf("default mode is not hybrid: %+v", hits[0].Explain)
	}
	if !slices.Contains(emb.queries, "how to bake sourdough bread") {
		t.Fatalf("query not embedded by the service: %v", emb.queries)
	}
	if !slices.Equal(sched.weights, []int{1}) {
		t.Fatalf("scheduler calls: %v, want one of weight 1", sched.weights)
	}
	// The engine alone has no embedder: a text-only vector query fails
	// there, so the vector above came from the service.
	if _, err := eng.Search(ctx, "kb", data.Query{Text: "bread", Mode: data.ModeVector}); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("engine embedded a query itself: %v", err)
	}
}

// Rerank runs in the service over more candidates than TopK, and fails
// clearly without a reranker.
func TestSearchRerank(t *testing.T) {
	rr := &reverseReranker{}
	svc, _, _ := newService(t, rag.Config{Reranker: rr})
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	plain, err := svc.Search(ctx, "kb", data.Query{Text: "water", Mode: data.ModeBM25, TopK: 3})
	if err != nil || len(plain) < 2 {
		t.Fatalf("%v %+v", err, plain)
	}
	reranked, err := svc.Search(ctx, "kb", data.Query{Text: "water", Mode: data.ModeBM25, TopK: 3, Rerank: true})
	if err != nil {
		t.Fatal(err)
	}
	if rr.calls != 1 || reranked[0].ChunkID != plain[len(plain)-1].ChunkID || reranked[0].Explain != nil {
		t.Fatalf("rerank: calls %d, plain %v, reranked %v", rr.calls, ids(plain), ids(reranked))
	}
	noRR, _, _ := newService(t, rag.Config{})
	if _, err := noRR.Search(ctx, "kb", data.Query{Text: "water", Rerank: true}); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("rerank without reranker: %v", err)
	}
}

func ids(hits []data.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ChunkID
	}
	return out
}

// Ask streams retrieval, tokens and done, and returns the same answer it
// streamed; an emit error stops it and is returned.
func TestAskStreamsOneEventSequence(t *testing.T) {
	svc, _, _ := newService(t, rag.Config{Generator: extractive.New(extractive.Config{})})
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	var types []string
	var text strings.Builder
	var done rag.Event
	res, err := svc.Ask(ctx, "kb", rag.AskRequest{Query: data.Query{Text: "How long should green tea steep?"}}, func(ev rag.Event) error {
		if len(types) == 0 || types[len(types)-1] != ev.Type {
			types = append(types, ev.Type)
		}
		switch ev.Type {
		case rag.EventRetrieval:
			if len(ev.Hits) == 0 || len(ev.Passages) == 0 {
				t.Errorf("retrieval event without hits or passages: %+v", ev)
			}
		case rag.EventToken:
			text.WriteString(ev.Delta)
		case rag.EventDone:
			done = ev
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(types, []string{rag.EventRetrieval, rag.EventToken, rag.EventDone}) {
		t.Fatalf("event order %v", types)
	}
	if text.String() != res.Answer.Text || !strings.Contains(res.Answer.Text, "two minutes") {
		t.Fatalf("streamed %q, returned %q", text.String(), res.Answer.Text)
	}
	if len(done.Citations) == 0 || done.Generator.Backend != "extractive" || res.Hits[0].DocID != "tea" {
		t.Fatalf("done %+v hits %+v", done, res.Hits)
	}
	stop := errors.New("client gone")
	if _, err := svc.Ask(ctx, "kb", rag.AskRequest{Query: data.Query{Text: "tea"}}, func(ev rag.Event) error {
		if ev.Type == rag.EventToken {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) {
		t.Fatalf("emit error: %v", err)
	}
	// Failures before the stream starts are returned, with no event.
	called := false
	_, err = svc.Ask(ctx, "missing", rag.AskRequest{Query: data.Query{Text: "tea"}}, func(rag.Event) error { called = true; return nil })
	if !errors.Is(err, data.ErrNotFound) || called {
		t.Fatalf("missing index: %v (events sent: %v)", err, called)
	}
	noGen, _, _ := newService(t, rag.Config{})
	if _, err := noGen.Ask(ctx, "kb", rag.AskRequest{Query: data.Query{Text: "tea"}}, nil); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("no generator: %v", err)
	}
}

// Answer answers from hits the caller already has: given Ask's own hits
// it streams and returns Ask's answer; given hits merged from two
// indexes, it answers from them in the order given and streams them as
// the retrieval event's hits.
func TestAnswerFromCallersHits(t *testing.T) {
	svc, _, _ := newService(t, rag.Config{Generator: extractive.New(extractive.Config{})})
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, "kb", clone(corpus[:2]), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateIndex(ctx, data.IndexConfig{Name: "kb2", Model: "bag"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(ctx, "kb2", clone(corpus[2:]), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	const question = "How long should green tea steep?"
	asked, err := svc.Ask(ctx, "kb2", rag.AskRequest{Query: data.Query{Text: question}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	same, err := svc.Answer(ctx, question, asked.Hits, generate.AnswerOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if same.Answer.Text != asked.Answer.Text || !slices.Equal(ids(same.Hits), ids(asked.Hits)) {
		t.Fatalf("Answer on Ask's hits: %q %v; Ask: %q %v", same.Answer.Text, ids(same.Hits), asked.Answer.Text, ids(asked.Hits))
	}

	// Hits merged from two indexes, the tea passage second.
	var merged []data.Hit
	for _, name := range []string{"kb", "kb2"} {
		hits, err := svc.Search(ctx, name, data.Query{Text: "bread tea", TopK: 1, Mode: data.ModeBM25})
		if err != nil || len(hits) != 1 {
			t.Fatalf("search %s: %v %v", name, hits, err)
		}
		merged = append(merged, hits...)
	}
	var types []string
	var streamed []data.Hit
	var text strings.Builder
	res, err := svc.Answer(ctx, question, merged, generate.AnswerOptions{}, func(ev rag.Event) error {
		types = append(types, ev.Type)
		switch ev.Type {
		case rag.EventRetrieval:
			streamed = ev.Hits
		case rag.EventToken:
			text.WriteString(ev.Delta)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if types[0] != rag.EventRetrieval || types[len(types)-1] != rag.EventDone {
		t.Fatalf("event order %v", types)
	}
	if !slices.Equal(ids(streamed), []string{"bread#0", "tea#0"}) || !slices.Equal(ids(res.Hits), ids(streamed)) {
		t.Fatalf("streamed hits %v, returned %v, want bread then tea", ids(streamed), ids(res.Hits))
	}
	if text.String() != res.Answer.Text || !strings.Contains(res.Answer.Text, "two minutes") {
		t.Fatalf("streamed %q, returned %q", text.String(), res.Answer.Text)
	}
	if len(res.Answer.Citations) == 0 || res.Answer.Citations[0].DocID != "tea" || res.Answer.Citations[0].N != 2 {
		t.Fatalf("citations %+v: want passage [2], the tea hit", res.Answer.Citations)
	}

	if _, err := svc.Answer(ctx, " ", merged, generate.AnswerOptions{}, nil); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("empty question: %v", err)
	}
	noGen, _, _ := newService(t, rag.Config{})
	if _, err := noGen.Answer(ctx, question, merged, generate.AnswerOptions{}, nil); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("no generator: %v", err)
	}
}

// The embedded engine's embedding cache is the service's: text embedded
// once is not embedded again in another index.
func TestIngestUsesBackendEmbeddingCache(t *testing.T) {
	svc, emb, _ := newService(t, rag.Config{})
	ctx := context.Background()
	if svc.Cache() == nil {
		t.Fatal("no cache discovered on the embedded engine")
	}
	if _, err := svc.CreateIndex(ctx, data.IndexConfig{Name: "kb2", Model: "bag"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	n := emb.embedded()
	res, err := svc.Ingest(ctx, "kb2", clone(corpus), rag.IngestOptions{})
	if err != nil || res.Docs != 3 || res.Embedded != 0 || res.CacheHits == 0 || emb.embedded() != n {
		t.Fatalf("second index re-embedded: %+v %v", res.Summary, err)
	}
}

// plainBackend hides the engine's optional capabilities: the service then
// searches with the backend's own hybrid (Backend.Search), as on Weaviate.
type plainBackend struct{ index.Backend }

// The service's own retrieve → fuse → hydrate path (index.Retriever) and a
// backend's native hybrid give the same hits.
func TestSearchRetrieverAndNativePathsAgree(t *testing.T) {
	rr := &reverseReranker{}
	svc, emb, eng := newService(t, rag.Config{Reranker: rr})
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	native, err := rag.New(rag.Config{Backend: plainBackend{eng}, Models: models{emb}, Reranker: rr})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []data.Query{
		{Text: "bake bread in the oven", TopK: 2},
		{Text: "water", Mode: data.ModeBM25, TopK: 3, Explain: true},
		{Text: "tea leaves", Mode: data.ModeVector, TopK: 3},
		{Text: "market shares", Fusion: data.FusionConvex, Alpha: 0.3, TopK: 3, Explain: true},
		{Text: "water bread", TopK: 2, Rerank: true},
	} {
		a, err := svc.Search(ctx, "kb", q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := native.Search(ctx, "kb", q)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) == 0 || !slices.Equal(ids(a), ids(b)) {
			t.Fatalf("%+v: retriever path %v, native path %v", q, ids(a), ids(b))
		}
		for i := range a {
			if a[i].Score != b[i].Score || (a[i].Explain == nil) != (b[i].Explain == nil) {
				t.Fatalf("%+v: hit %d differs: %+v vs %+v", q, i, a[i], b[i])
			}
		}
	}
}
