package aisearch_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/ingest"
	"github.com/ragd/ragd/rag"
)

// fakeIndexes keeps indexes and their documents in memory.
type fakeIndexes struct {
	mu   sync.Mutex
	idx  map[string]data.IndexConfig
	docs map[string]map[string]data.Document // index -> id -> doc
}

func newFakeIndexes() *fakeIndexes {
	return &fakeIndexes{idx: map[string]data.IndexConfig{}, docs: map[string]map[string]data.Document{}}
}

func (f *fakeIndexes) CreateIndex(_ context.Context, cfg data.IndexConfig) (data.IndexConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.idx[cfg.Name]; ok {
		return cfg, fmt.Errorf("index %q: %w", cfg.Name, data.ErrExists)
	}
	f.idx[cfg.Name] = cfg
	f.docs[cfg.Name] = map[string]data.Document{}
	return cfg, nil
}

func (f *fakeIndexes) DropIndex(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.idx[name]; !ok {
		return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
	}
	delete(f.idx, name)
	delete(f.docs, name)
	return nil
}

func (f *fakeIndexes) Index(_ context.Context, name string) (index.IndexInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg, ok := f.idx[name]
	if !ok {
		return index.IndexInfo{}, fmt.Errorf("index %q: %w", name, data.ErrNotFound)
	}
	info := index.IndexInfo{IndexConfig: cfg}
	info.Stats.Documents = len(f.docs[name])
	for _, d := range f.docs[name] {
		info.Stats.Vectors += len(d.Chunks)
	}
	return info, nil
}

func (f *fakeIndexes) DeleteDocuments(_ context.Context, name string, ids []string) (int, []string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	var missing []string
	for _, id := range ids {
		if _, ok := f.docs[name][id]; ok {
			delete(f.docs[name], id)
			n++
		} else {
			missing = append(missing, id)
		}
	}
	return n, missing, nil
}

func (f *fakeIndexes) Document(_ context.Context, name, id string) (data.Document, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.docs[name][id]
	if !ok {
		return data.Document{}, fmt.Errorf("document %q: %w", id, data.ErrNotFound)
	}
	return d, nil
}

// ids lists an index's document ids, sorted.
func (f *fakeIndexes) ids(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.docs[name] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

type ingestCall struct {
	index   string
	ids     []string
	opts    rag.IngestOptions
	skipped []string // unchanged documents it did not chunk
}

// fakeRetrieval writes each document as one chunk per paragraph into
// fakeIndexes, answers searches from a table, and "generates" an answer
// naming the passages it got.
type fakeRetrieval struct {
	ix *fakeIndexes

	mu      sync.Mutex
	ingests []ingestCall
	block   chan struct{}           // when set, Ingest waits for it or ctx
	hits    map[string][]data.Hit   // by index
	fail    map[string]error        // Search failures by index
	queries map[string][]data.Query // by index
	asked   []answerCall
}

type answerCall struct {
	system, prompt string
}

func (r *fakeRetrieval) Ingest(ctx context.Context, name string, docs []data.Document, opts rag.IngestOptions) (rag.IngestResult, error) {
	r.mu.Lock()
	block := r.block
	call := ingestCall{index: name, opts: opts}
	for _, d := range docs {
		call.ids = append(call.ids, d.ID)
	}
	r.ingests = append(r.ingests, call)
	r.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return rag.IngestResult{}, ctx.Err()
		}
	}
	n, skipped := 0, 0
	r.ix.mu.Lock()
	defer r.ix.mu.Unlock()
	if _, ok := r.ix.idx[name]; !ok {
		return rag.IngestResult{}, fmt.Errorf("index %q: %w", name, data.ErrNotFound)
	}
	for _, d := range docs {
		if old, ok := r.ix.docs[name][d.ID]; ok && !opts.Force && old.Hash == d.Hash && reflect.DeepEqual(old.Metadata, d.Metadata) {
			skipped++
			r.mu.Lock()
			r.ingests[len(r.ingests)-1].skipped = append(r.ingests[len(r.ingests)-1].skipped, d.ID)
			r.mu.Unlock()
			continue
		}
		for i, p := range strings.Split(d.Text, "\n\n") {
			d.Chunks = append(d.Chunks, data.Chunk{ID: fmt.Sprintf("%s#%d", d.ID, i), DocID: d.ID, Text: p})
		}
		n += len(d.Chunks)
		r.ix.docs[name][d.ID] = d
	}
	return rag.IngestResult{Summary: ingest.Summary{Docs: len(docs) - skipped, Chunks: n, Skipped: skipped}}, nil
}

func (r *fakeRetrieval) Search(_ context.Context, name string, q data.Query) ([]data.Hit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queries == nil {
		r.queries = map[string][]data.Query{}
	}
	r.queries[name] = append(r.queries[name], q)
	if err := r.fail[name]; err != nil {
		return nil, err
	}
	hits := r.hits[name]
	if len(hits) > q.TopK {
		hits = hits[:q.TopK]
	}
	return append([]data.Hit(nil), hits...), nil
}

// Ask searches like Search, drops hits under req.MinScore and answers
// them with Answer.
func (r *fakeRetrieval) Ask(ctx context.Context, name string, req rag.AskRequest, emit func(rag.Event) error) (*rag.AskResult, error) {
	hits, err := r.Search(ctx, name, req.Query)
	if err != nil {
		return nil, err
	}
	kept := hits[:0]
	for _, h := range hits {
		if req.MinScore == nil || h.Score >= *req.MinScore {
			kept = append(kept, h)
		}
	}
	return r.Answer(ctx, req.Query.Text, kept, req.Answer, emit)
}

// Answer answers with the chunk ids it got, as the retrieval service's
// event stream.
func (r *fakeRetrieval) Answer(ctx context.Context, question string, hits []data.Hit, opts generate.AnswerOptions, emit func(rag.Event) error) (*rag.AskResult, error) {
	if emit == nil {
		emit = func(rag.Event) error { return nil }
	}
	ans, err := generate.Answer(ctx, r.Generator(), question, hits, opts, func(ev generate.AnswerEvent) error {
		switch ev.Type {
		case generate.AnswerToken:
			return emit(rag.Event{Type: rag.EventToken, Delta: ev.Delta})
		case generate.AnswerDone:
			return emit(rag.Event{Type: rag.EventDone, FinishReason: ev.FinishReason})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rag.AskResult{Hits: hits, Answer: ans}, nil
}

func (r *fakeRetrieval) Generator() generate.Generator { return echoGen{r} }

// echoGen answers with the passages' numbers and records what it was
// asked.
type echoGen struct{ r *fakeRetrieval }

func (g echoGen) Info() generate.Info { return generate.Info{ID: "echo"} }

func (g echoGen) Generate(_ context.Context, req generate.Request, emit func(generate.Event) error) error {
	var system, user string
	for _, m := range req.Messages {
		switch m.Role {
		case "system":
			system = m.Content
		case "user":
			user = m.Content
		}
	}
	g.r.mu.Lock()
	g.r.asked = append(g.r.asked, answerCall{system: system, prompt: user})
	g.r.mu.Unlock()
	if err := emit(generate.Event{Type: generate.EventToken, Delta: "answer"}); err != nil {
		return err
	}
	return emit(generate.Event{Type: generate.EventDone, FinishReason: "stop"})
}

func (r *fakeRetrieval) ingestCalls() []ingestCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ingestCall(nil), r.ingests...)
}

// fakeModels has 8-dimensional models of any name but "missing".
type fakeModels struct{}

type fakeEmbedder struct{ id string }

func (e fakeEmbedder) Info() embed.Info { return embed.Info{ID: e.id, Dims: 8} }

func (e fakeEmbedder) Embed(_ context.Context, _ embed.Kind, texts []string) ([][]float32, error) {
	return make([][]float32, len(texts)), nil
}

func (fakeModels) Embedder(_ context.Context, name string) (embed.Embedder, error) {
	if name == "missing" {
		return nil, fmt.Errorf("model %q: %w", name, embed.ErrModelNotFound)
	}
	return fakeEmbedder{id: name}, nil
}
