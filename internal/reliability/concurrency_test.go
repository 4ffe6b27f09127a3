package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/ingest"
)

func concurrencyDuration() time.Duration {
	if *long {
		return 30 * time.Second
	}
	return 4 * time.Second
}

// counters are the figures a concurrency run reports.
type counters struct {
	puts, deletes, searches, creates, drops, checks, reindexes, flushes, notFound atomic.Int64
}

func (c *counters) String() string {
	return fmt.Sprintf("%d puts, %d deletes, %d searches, %d creates, %d drops, %d checks, %d reindexes, %d flushes, %d expected not-found",
		c.puts.Load(), c.deletes.Load(), c.searches.Load(), c.creates.Load(), c.drops.Load(), c.checks.Load(),
		c.reindexes.Load(), c.flushes.Load(), c.notFound.Load())
}

// writer owns a set of document ids in one index and keeps the model of
// what it wrote, so the final state is known exactly.
type writer struct {
	index  string
	prefix string
	vector bool
	rng    *rand.Rand
	want   state
	ver    map[string]int
}

func (w *writer) step(ctx context.Context, e *index.Engine, c *counters) error {
	id := fmt.Sprintf("%s%02d", w.prefix, w.rng.IntN(12))
	if w.rng.IntN(4) == 0 {
		n, missing, err := e.DeleteDocuments(ctx, w.index, []string{id})
		if err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
		_, had := w.want[id]
		if (n == 1) != had || (len(missing) == 1) == had {
			return fmt.Errorf("delete %s: deleted %d, missing %v, but the model says present=%v", id, n, missing, had)
		}
		delete(w.want, id)
		c.deletes.Add(1)
		return nil
	}
	w.ver[id]++
	spec := docSpec{ID: id, Ver: w.ver[id], Sentences: 1 + w.rng.IntN(8)}
	var d data.Document
	if w.vector {
		d = vecDoc(spec)
	} else {
		d = expectDoc(id, "doc "+id, docText(id, spec.Ver, spec.Sentences), vecChunk)
	}
	res, err := e.PutDocuments(ctx, w.index, []data.Document{d}, false)
	if err != nil {
		return fmt.Errorf("put %s: %w", id, err)
	}
	if res.Written != 1 || res.Chunks != len(d.Chunks) {
		return fmt.Errorf("put %s: %+v, want 1 written with %d chunks", id, res, len(d.Chunks))
	}
	for i := range d.Chunks {
		d.Chunks[i].Vector = nil
	}
	w.want[id] = d
	c.puts.Add(1)
	return nil
}

// TestConcurrentEngine runs writers, searchers, checks, reindexes and
// scratch-index create/drop cycles against one Engine at once (run it with
// -race), then checks the final state against the writers' models, before
// and after a reopen.
func TestConcurrentEngine(t *testing.T) {
	seed := testSeed(t)
	ctx := context.Background()
	dir := t.TempDir()
	e, err := index.Open(ctx, index.Options{Dir: dir, SnapshotEvery: 40})
	if err != nil {
		t.Fatal(err)
	}
	const kw, vec = "ckw", "cvec"
	for _, cfg := range []data.IndexConfig{{Name: kw}, {Name: vec, Dims: vecDims, Metric: data.Cosine}} {
		if _, err := e.CreateIndex(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	var writers []*writer
	for i := 0; i < 4; i++ {
		w := &writer{index: kw, prefix: fmt.Sprintf("w%dk", i), rng: rand.New(rand.NewPCG(seed, uint64(i))), want: state{}, ver: map[string]int{}}
		if i >= 2 {
			w.index, w.vector = vec, true
		}
		writers = append(writers, w)
	}
	var c counters
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []string
	fail := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	loop := func(name string, body func(r *rand.Rand) error) {
		wg.Add(1)
		r := rand.New(rand.NewPCG(seed, uint64(len(name))*7919+uint64(name[0])))
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := body(r); err != nil {
					fail("%s: %v", name, err)
					return
				}
			}
		}()
	}
	for i, w := range writers {
		loop(fmt.Sprintf("writer%d", i), func(*rand.Rand) error { return w.step(ctx, e, &c) })
	}
	for i := 0; i < 2; i++ {
		loop(fmt.Sprintf("searcher%d", i), func(r *rand.Rand) error {
			var q data.Query
			name := kw
			switch r.IntN(3) {
			case 0:
				q = data.Query{Text: vocab[r.IntN(len(vocab))] + " " + marker(fmt.Sprintf("w%dk%02d", r.IntN(2), r.IntN(12)), 1+r.IntN(5)), Mode: data.ModeBM25, TopK: 20}
			case 1:
				name, q = vec, data.Query{Vector: chunkVector(fmt.Sprint(r.Int()), "q", vecDims), Mode: data.ModeVector, TopK: 10}
			default:
				name, q = vec, data.Query{Text: vocab[r.IntN(len(vocab))], Vector: chunkVector(fmt.Sprint(r.Int()), "q", vecDims), Mode: data.ModeHybrid, TopK: 10}
			}
			hits, err := e.Search(ctx, name, q)
			if err != nil {
				return fmt.Errorf("search %s %+v: %w", name, q.Mode, err)
			}
			for _, h := range hits {
				if !strings.HasPrefix(h.ChunkID, h.DocID+"#") || h.Text == "" {
					return fmt.Errorf("search %s: malformed hit %+v", name, h)
				}
			}
			c.searches.Add(1)
			return nil
		})
	}
	loop("maintenance", func(r *rand.Rand) error {
		time.Sleep(time.Duration(50+r.IntN(150)) * time.Millisecond)
		name := []string{kw, vec}[r.IntN(2)]
		switch r.IntN(3) {
		case 0:
			if err := checkIndex(ctx, e, name); err != nil {
				return err
			}
			c.checks.Add(1)
		case 1:
			if _, err := e.Reindex(ctx, name); err != nil {
				return fmt.Errorf("reindex %s: %w", name, err)
			}
			c.reindexes.Add(1)
		default:
			if err := e.Flush(); err != nil {
				return fmt.Errorf("flush: %w", err)
			}
			c.flushes.Add(1)
		}
		return nil
	})
	// Scratch indexes: one goroutine creates, fills and drops them; two
	// others use whatever scratch index is current. Using an index that
	// was just dropped may fail with data.ErrNotFound and nothing else.
	var current atomic.Value
	current.Store("")
	var scratchN atomic.Int64
	loop("scratch-owner", func(r *rand.Rand) error {
		name := fmt.Sprintf("scratch-%d", scratchN.Add(1))
		cfg := data.IndexConfig{Name: name}
		if r.IntN(2) == 0 {
			cfg.Dims, cfg.Metric = vecDims, data.Cosine
		}
		if _, err := e.CreateIndex(ctx, cfg); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		c.creates.Add(1)
		current.Store(name)
		time.Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
		if err := e.DropIndex(ctx, name); err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
		c.drops.Add(1)
		return nil
	})
	for i := 0; i < 2; i++ {
		loop(fmt.Sprintf("scratch-user%d", i), func(r *rand.Rand) error {
			name := current.Load().(string)
			if name == "" {
				time.Sleep(time.Millisecond)
				return nil
			}
			id := fmt.Sprintf("x%02d", r.IntN(5))
			var err error
			var what string
			switch r.IntN(5) {
			case 0, 1:
				what = "put"
				d := vecDoc(docSpec{ID: id, Ver: r.IntN(1000), Sentences: 1 + r.IntN(4)})
				_, err = e.PutDocuments(ctx, name, []data.Document{d}, true)
			case 2:
				what = "search"
				_, err = e.Search(ctx, name, data.Query{Text: "river " + id, Mode: data.ModeBM25})
			case 3:
				what = "delete"
				_, _, err = e.DeleteDocuments(ctx, name, []string{id})
			default:
				what = "document"
				_, err = e.Document(ctx, name, id)
			}
			switch {
			case err == nil:
			case errors.Is(err, data.ErrNotFound):
				c.notFound.Add(1)
				time.Sleep(time.Millisecond) // the next scratch index is on its way
			default:
				return fmt.Errorf("%s on %s (being dropped): want success or not-found, got %w", what, name, err)
			}
			return nil
		})
	}
	time.Sleep(concurrencyDuration())
	close(stop)
	wg.Wait()
	for _, msg := range errs {
		t.Error(msg)
	}
	t.Logf("seed %d, %v: %s", seed, concurrencyDuration(), &c)
	if t.Failed() {
		e.Close()
		return
	}
	verifyModel := func(e *index.Engine) {
		t.Helper()
		for _, name := range []string{kw, vec} {
			want := state{}
			for _, w := range writers {
				if w.index == name {
					for id, d := range w.want {
						want[id] = d
					}
				}
			}
			got, err := readState(ctx, e, name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d := diffState(got, want); len(d) > 0 {
				t.Fatalf("%s: %d documents differ from the writers' model: %v", name, len(d), d)
			}
			if err := checkIndex(ctx, e, name); err != nil {
				t.Fatal(err)
			}
			if err := checkSearch(ctx, e, name, got, nil); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if name == vec {
				if err := checkVectors(ctx, e, name, got, vecDims); err != nil {
					t.Fatal(err)
				}
			}
		}
		infos, err := e.Indexes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 2 {
			t.Fatalf("%d indexes after every scratch index was dropped, want 2: %+v", len(infos), infos)
		}
	}
	verifyModel(e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	verifyModel(e2)
}

// TestConcurrentHTTP drives the same kind of load through the REST API
// (api.New over httptest): writers own disjoint documents, readers search,
// and the final store matches what the writers were told was written.
func TestConcurrentHTTP(t *testing.T) {
	seed := testSeed(t)
	ctx := context.Background()
	e, err := index.Open(ctx, index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewServer(api.New(api.Config{Engine: e}).Handler())
	defer srv.Close()
	const name = "hkw"
	opts := ingest.ChunkOptions{Size: 32, Overlap: 4}
	if code, b, err := httpDo(srv.URL, "POST", "/v1/indexes", map[string]any{"name": name, "chunk_size": opts.Size, "chunk_overlap": opts.Overlap}); err != nil || code != http.StatusCreated {
		t.Fatalf("create: %d %v %s", code, err, b)
	}
	var c counters
	stop := make(chan struct{})
	var wg sync.WaitGroup
	models := make([]state, 3)
	errCh := make(chan error, 8)
	for i := range models {
		models[i] = state{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			ver := map[string]int{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("h%dk%02d", i, r.IntN(10))
				if r.IntN(4) == 0 {
					code, b, err := httpDo(srv.URL, "DELETE", "/v1/indexes/"+name+"/documents/"+id, nil)
					_, had := models[i][id]
					if err != nil || (had && code != http.StatusNoContent) || (!had && code != http.StatusNotFound) {
						errCh <- fmt.Errorf("DELETE %s (present %v): %d %v %s", id, had, code, err, b)
						return
					}
					delete(models[i], id)
					c.deletes.Add(1)
					continue
				}
				ver[id]++
				d := expectDoc(id, "http "+id, docText(id, ver[id], 1+r.IntN(8)), opts)
				code, b, err := httpDo(srv.URL, "POST", "/v1/indexes/"+name+"/documents",
					map[string]any{"documents": []map[string]any{{"id": id, "title": d.Title, "text": d.Text}}})
				if err != nil || code != http.StatusOK {
					errCh <- fmt.Errorf("POST %s: %d %v %s", id, code, err, b)
					return
				}
				models[i][id] = d
				c.puts.Add(1)
			}
		}()
	}
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 100+uint64(i)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, b, err := httpDo(srv.URL, "POST", "/v1/indexes/"+name+"/search",
					map[string]any{"query": vocab[r.IntN(len(vocab))], "top_k": 10, "mode": "bm25"})
				if err != nil || code != http.StatusOK {
					errCh <- fmt.Errorf("search: %d %v %s", code, err, b)
					return
				}
				var res struct{ Hits []data.Hit }
				if err := json.Unmarshal(b, &res); err != nil {
					errCh <- err
					return
				}
				c.searches.Add(1)
			}
		}()
	}
	time.Sleep(concurrencyDuration() / 2)
	close(stop)
	wg.Wait()
	close(errCh)
	for err := range errCh {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	want := state{}
	for _, m := range models {
		for id, d := range m {
			want[id] = d
		}
	}
	got, err := readState(ctx, e, name)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffState(got, want); len(d) > 0 {
		t.Fatalf("%d documents differ from the writers' model: %v", len(d), d)
	}
	if err := checkIndex(ctx, e, name); err != nil {
		t.Fatal(err)
	}
	if err := checkSearch(ctx, e, name, got, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %s", seed, &c)
}
