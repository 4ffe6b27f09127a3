package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/index"
	"golang.org/x/sync/errgroup"
)

// Writer is where the pipeline writes: the index engine.
type Writer interface {
	PutDocuments(ctx context.Context, name string, docs []data.Document, force bool) (index.PutResult, error)
	DocumentHashes(ctx context.Context, name string) (map[string]string, error)
	DocumentSources(ctx context.Context, name string) (map[string]string, error)
	DeleteDocuments(ctx context.Context, name string, ids []string) (int, []string, error)
}

// VectorCache stores embeddings by (model, text hash) so unchanged text is
// never embedded twice.
type VectorCache interface {
	CachedVectors(model string, hashes []string) (map[string][]float32, error)
	PutCachedVectors(model string, vecs map[string][]float32) error
}

// Config configures one ingest run.
type Config struct {
	// Index is the target index name.
	Index string
	// Include and Exclude are glob patterns (with **) applied to files
	// found under folders.
	Include, Exclude []string
	// Load configures the loaders.
	Load LoadOptions
	// Chunk configures the chunker (size and overlap in tokens).
	Chunk ChunkOptions
	// Workers parse and chunk files in parallel (default: GOMAXPROCS).
	Workers int
	// BatchChunks is how many chunks are embedded and written per store
	// transaction (default 1,000).
	BatchChunks int
	// Sync deletes documents whose source lies under one of the given
	// folders or files but was not seen in this run.
	Sync bool
	// Force rewrites documents even when their content hash is unchanged.
	Force bool
	// Unchanged reports whether a document (its Hash set, not yet
	// chunked) is stored as it is; such documents are skipped before
	// chunking and embedding. The retrieval service (package rag) sets it.
	// Nil: Run compares with the index's stored hashes (documents with
	// metadata are always written) and Documents writes everything,
	// leaving the store's own hash check to skip unchanged documents.
	Unchanged func(d data.Document) bool
	// Embedder, when set, embeds every chunk; nil means keyword only.
	Embedder embed.Embedder
	// Cache is the embedding cache (optional).
	Cache VectorCache
	// Progress is called as work advances (from one goroutine at a time).
	Progress func(Progress)
	// Logger receives per-file problems (default: discard).
	Logger *slog.Logger
	// Stdin is read for the path "-" (default: os.Stdin).
	Stdin io.Reader
}

// Progress is a snapshot of a running ingest.
type Progress struct {
	FilesDone, FilesTotal int
	BytesDone, BytesTotal int64
	Docs, Chunks          int
	Skipped, Failed       int
	Elapsed               time.Duration
}

// Failure is one file or record that could not be ingested.
type Failure struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// Summary is the outcome of a run.
type Summary struct {
	Files     int           `json:"files"`
	Docs      int           `json:"docs"`
	Chunks    int           `json:"chunks"`
	Skipped   int           `json:"skipped"`
	Failed    int           `json:"failed"`
	Deleted   int           `json:"deleted"`
	Embedded  int           `json:"embedded"`
	CacheHits int           `json:"cache_hits"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	Failures  []Failure     `json:"failures,omitempty"`
}

// ChunksPerSecond is the write rate of the run.
func (s Summary) ChunksPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Chunks) / s.Elapsed.Seconds()
}

// MaxFailuresKept bounds Summary.Failures; Failed still counts all.
const MaxFailuresKept = 1000

type fileJob struct {
	path string
	size int64
}

// Run ingests the given paths (files, folders, or "-" for standard input)
// into cfg.Index. A bad file is reported in the summary and skipped; only
// context cancellation and write failures stop the run.
func Run(ctx context.Context, w Writer, paths []string, cfg Config) (Summary, error) {
	start := time.Now()
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.BatchChunks <= 0 {
		cfg.BatchChunks = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	fitChunks(&cfg)
	if len(paths) == 0 {
		return Summary{}, fmt.Errorf("ingest: %w: no paths given", data.ErrInvalid)
	}
	jobs, roots, err := collect(ctx, paths, cfg)
	if err != nil {
		return Summary{}, err
	}
	if cfg.Unchanged == nil && !cfg.Force {
		known, err := w.DocumentHashes(ctx, cfg.Index)
		if err != nil {
			return Summary{}, err
		}
		cfg.Unchanged = func(d data.Document) bool {
			return known[d.ID] != "" && known[d.ID] == d.Hash && d.Metadata == nil
		}
	}
	r := &run{cfg: cfg, w: w, seen: map[string]bool{}, start: start}
	for _, j := range jobs {
		r.prog.FilesTotal++
		r.prog.BytesTotal += j.size
	}
	docs := make(chan data.Document, 64)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.writeLoop(gctx, docs) })
	g.Go(func() error {
		defer close(docs)
		pg, pctx := errgroup.WithContext(gctx)
		pg.SetLimit(cfg.Workers)
		for _, j := range jobs {
			if pctx.Err() != nil {
				break
			}
			pg.Go(func() error { return r.parseFile(pctx, j, docs) })
		}
		return pg.Wait()
	})
	if err := g.Wait(); err != nil {
		r.sum.Elapsed = time.Since(start)
		return r.sum, err
	}
	if cfg.Sync {
		n, err := r.sync(ctx, roots)
		if err != nil {
			return r.sum, err
		}
		r.sum.Deleted = n
	}
	r.sum.Files = len(jobs)
	r.sum.Elapsed = time.Since(start)
	r.report()
	return r.sum, nil
}

// collect expands paths into files, sorted and de-duplicated.
func collect(ctx context.Context, paths []string, cfg Config) ([]fileJob, []string, error) {
	var jobs []fileJob
	var roots []string
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "-" {
			jobs = append(jobs, fileJob{path: "-"})
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, nil, fmt.Errorf("ingest: %s: %w", p, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, nil, fmt.Errorf("ingest: %w", err)
		}
		roots = append(roots, abs)
		if !info.IsDir() {
			if !seen[abs] {
				seen[abs] = true
				jobs = append(jobs, fileJob{path: abs, size: info.Size()})
			}
			continue
		}
		err = Walk(ctx, []string{abs}, cfg.Include, cfg.Exclude, func(path string, fi fs.FileInfo) error {
			if !seen[path] {
				seen[path] = true
				jobs = append(jobs, fileJob{path: path, size: fi.Size()})
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return jobs, roots, nil
}

type run struct {
	cfg   Config
	w     Writer
	start time.Time

	pmu      sync.Mutex // serialises Progress callbacks
	mu       sync.Mutex
	seen     map[string]bool // document ids seen this run
	failSrc  []string        // sources that failed (kept by --sync)
	sum      Summary
	prog     Progress
	lastProg time.Time
}

func (r *run) fail(source string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Failed++
	r.prog.Failed++
	r.failSrc = append(r.failSrc, source)
	if len(r.sum.Failures) < MaxFailuresKept {
		r.sum.Failures = append(r.sum.Failures, Failure{Source: source, Error: err.Error()})
	}
	r.cfg.Logger.Warn("skipped", "source", source, "err", err)
}

// parseFile loads, de-duplicates and chunks one file's documents.
func (r *run) parseFile(ctx context.Context, j fileJob, out chan<- data.Document) error {
	stream := func(fn func(Parsed) error) error { return StreamFile(ctx, j.path, r.cfg.Load, fn) }
	if j.path == "-" && r.cfg.Stdin != nil {
		stream = func(fn func(Parsed) error) error { return StreamReader(ctx, r.cfg.Stdin, "-", r.cfg.Load, fn) }
	}
	err := stream(func(p Parsed) error {
		id := p.Doc.ID
		r.mu.Lock()
		dup := r.seen[id]
		r.seen[id] = true
		r.mu.Unlock()
		if dup {
			r.fail(p.Doc.Source, fmt.Errorf("duplicate document id %q in this run; later copy skipped", id))
			return nil
		}
		if r.unchanged(p.Doc) {
			return nil
		}
		d := p.Doc
		d.Chunks = Chunk(p, r.cfg.Chunk)
		select {
		case out <- d:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	var pe *PartialError
	switch {
	case err == nil:
	case errors.As(err, &pe):
		for _, le := range pe.Lines {
			r.fail(fmt.Sprintf("%s:%d", le.Source, le.Line), le.Err)
		}
		if extra := pe.Count - len(pe.Lines); extra > 0 {
			r.mu.Lock()
			r.sum.Failed += extra
			r.mu.Unlock()
		}
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		r.fail(j.path, err)
	}
	r.mu.Lock()
	r.prog.FilesDone++
	r.prog.BytesDone += j.size
	r.mu.Unlock()
	r.report()
	return nil
}

// unchanged counts d as skipped when Config.Unchanged says it is stored
// as it is (never with Force).
func (r *run) unchanged(d data.Document) bool {
	if r.cfg.Force || r.cfg.Unchanged == nil || !r.cfg.Unchanged(d) {
		return false
	}
	r.mu.Lock()
	r.sum.Skipped++
	r.prog.Skipped++
	r.mu.Unlock()
	return true
}

// writeLoop batches documents, embeds their chunks and writes them.
func (r *run) writeLoop(ctx context.Context, in <-chan data.Document) error {
	var batch []data.Document
	chunks := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := r.embed(ctx, batch); err != nil {
			return err
		}
		res, err := r.w.PutDocuments(ctx, r.cfg.Index, batch, r.cfg.Force)
		if err != nil {
			return fmt.Errorf("ingest: write batch: %w", err)
		}
		r.mu.Lock()
		r.sum.Docs += res.Written
		r.sum.Chunks += res.Chunks
		r.sum.Skipped += res.Skipped
		r.prog.Docs += res.Written
		r.prog.Chunks += res.Chunks
		r.prog.Skipped += res.Skipped
		r.mu.Unlock()
		batch, chunks = batch[:0], 0
		r.report()
		return nil
	}
	for d := range in {
		batch = append(batch, d)
		chunks += len(d.Chunks)
		if chunks >= r.cfg.BatchChunks {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return flush()
}

// embed fills chunk vectors, from the cache where possible.
func (r *run) embed(ctx context.Context, docs []data.Document) error {
	if r.cfg.Embedder == nil {
		return nil
	}
	model := r.cfg.Embedder.Info().ID
	type ref struct{ d, c int }
	var refs []ref
	var hashes []string
	for i := range docs {
		for j := range docs[i].Chunks {
			refs = append(refs, ref{i, j})
			hashes = append(hashes, data.TextHash(docs[i].Chunks[j].Text))
		}
	}
	cached := map[string][]float32{}
	if r.cfg.Cache != nil {
		var err error
		if cached, err = r.cfg.Cache.CachedVectors(model, hashes); err != nil {
			return fmt.Errorf("ingest: embedding cache: %w", err)
		}
	}
	var todo []string
	var todoIdx []int
	pending := map[string]bool{}
	for i, h := range hashes {
		if _, ok := cached[h]; ok || pending[h] {
			continue
		}
		pending[h] = true
		c := docs[refs[i].d].Chunks[refs[i].c]
		todo = append(todo, c.Text)
		todoIdx = append(todoIdx, i)
	}
	hits := len(hashes) - len(todo)
	if len(todo) > 0 {
		vecs, err := r.cfg.Embedder.Embed(ctx, embed.Passage, todo)
		if err != nil {
			return fmt.Errorf("ingest: embed: %w", err)
		}
		if len(vecs) != len(todo) {
			return fmt.Errorf("ingest: embedder returned %d vectors for %d texts", len(vecs), len(todo))
		}
		fresh := make(map[string][]float32, len(vecs))
		for k, i := range todoIdx {
			fresh[hashes[i]] = vecs[k]
			cached[hashes[i]] = vecs[k]
		}
		if r.cfg.Cache != nil {
			if err := r.cfg.Cache.PutCachedVectors(model, fresh); err != nil {
				return fmt.Errorf("ingest: embedding cache: %w", err)
			}
		}
	}
	for i, rf := range refs {
		docs[rf.d].Chunks[rf.c].Vector = cached[hashes[i]]
	}
	r.mu.Lock()
	r.sum.Embedded += len(todo)
	r.sum.CacheHits += hits
	r.mu.Unlock()
	return nil
}

// sync deletes stored documents under the run's roots that were not seen.
func (r *run) sync(ctx context.Context, roots []string) (int, error) {
	sources, err := r.w.DocumentSources(ctx, r.cfg.Index)
	if err != nil {
		return 0, err
	}
	failed := map[string]bool{}
	for _, s := range r.failSrc {
		failed[s] = true
	}
	var gone []string
	for id, src := range sources {
		if r.seen[id] || failed[src] || !underAny(src, roots) {
			continue
		}
		gone = append(gone, id)
	}
	if len(gone) == 0 {
		return 0, nil
	}
	n, _, err := r.w.DeleteDocuments(ctx, r.cfg.Index, gone)
	return n, err
}

func underAny(path string, roots []string) bool {
	for _, root := range roots {
		if path == root || strings.HasPrefix(path, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// report calls the progress callback at most every 100 ms (and at the end).
func (r *run) report() {
	if r.cfg.Progress == nil {
		return
	}
	r.mu.Lock()
	now := time.Now()
	final := r.prog.FilesDone == r.prog.FilesTotal
	if !final && now.Sub(r.lastProg) < 100*time.Millisecond {
		r.mu.Unlock()
		return
	}
	r.lastProg = now
	p := r.prog
	p.Elapsed = now.Sub(r.start)
	r.mu.Unlock()
	r.pmu.Lock()
	r.cfg.Progress(p)
	r.pmu.Unlock()
}

// Documents chunks, embeds and writes documents that arrive whole (the
// REST API's JSON documents), with the same batching and cache as Run;
// documents Config.Unchanged reports as stored are skipped before any
// work. Documents need an ID and text.
func Documents(ctx context.Context, w Writer, docs []data.Document, cfg Config) (Summary, error) {
	start := time.Now()
	if cfg.BatchChunks <= 0 {
		cfg.BatchChunks = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	fitChunks(&cfg)
	r := &run{cfg: cfg, w: w, seen: map[string]bool{}, start: start}
	in := make(chan data.Document, len(docs))
	for _, d := range docs {
		if d.ID == "" {
			return Summary{}, fmt.Errorf("ingest: %w: document without an id", data.ErrInvalid)
		}
		if r.seen[d.ID] {
			return Summary{}, fmt.Errorf("ingest: %w: document %q appears twice", data.ErrInvalid, d.ID)
		}
		r.seen[d.ID] = true
		d.Text = strings.ToValidUTF8(d.Text, "\uFFFD")
		d.Title = strings.ToValidUTF8(d.Title, "\uFFFD")
		d.Hash = data.ContentHash(d.Title, d.Text)
		if r.unchanged(d) {
			continue
		}
		d.Chunks = Chunk(Parsed{Doc: d}, cfg.Chunk)
		in <- d
	}
	close(in)
	if err := r.writeLoop(ctx, in); err != nil {
		return r.sum, err
	}
	r.sum.Elapsed = time.Since(start)
	return r.sum, nil
}

// fitChunks makes chunks fit the embedding model: counted with the model's
// own tokenizer when it exposes one, and no longer than the model reads
// (text past its limit would be silently ignored by the model).
func fitChunks(cfg *Config) {
	if cfg.Embedder == nil {
		return
	}
	inner := cfg.Embedder
	for {
		u, ok := inner.(interface{ Unwrap() embed.Embedder })
		if !ok {
			break
		}
		inner = u.Unwrap()
	}
	if tc, ok := inner.(interface{ CountTokens(string) int }); ok && cfg.Chunk.Count == nil {
		cfg.Chunk.Count = tc.CountTokens
	}
	limit := cfg.Embedder.Info().MaxTokens
	size := cfg.Chunk.Size
	if size <= 0 {
		size = DefaultChunkSize
	}
	if limit > 0 && size > limit {
		overlap := cfg.Chunk.Overlap
		if overlap <= 0 {
			overlap = DefaultChunkOverlap
		}
		cfg.Chunk.Overlap = overlap * limit / size
		cfg.Chunk.Size = limit
	}
}
