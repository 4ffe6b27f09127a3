package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/eval"
	"github.com/ragd/ragd/ingest"
	"github.com/ragd/ragd/rag"
)

func init() {
	register(&command{name: "eval", summary: "measure retrieval quality on a test collection (or 'eval compare A.json B.json')", run: runEval})
}

// evalTarget adapts one index of the retrieval service to eval's
// Searcher and Loader.
type evalTarget struct {
	svc   *rag.Service
	name  string
	chunk ingest.ChunkOptions
}

func (t *evalTarget) Search(ctx context.Context, q data.Query) ([]data.Hit, error) {
	return t.svc.Search(ctx, t.name, q)
}

func (t *evalTarget) AddDocuments(ctx context.Context, docs []data.Document) error {
	_, err := t.svc.Ingest(ctx, t.name, docs, rag.IngestOptions{Chunk: t.chunk})
	return err
}

func runEval(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "compare" {
		return runEvalCompare(ctx, e, args[1:])
	}
	fs := newFlags(e, "eval", "eval --format smart|beir|trec --path DIR [--mode bm25,vector,hybrid] [--sweep alpha=0:1:0.1] [--json] [--out DIR]")
	format := fs.String("format", "", "collection format: smart (Cranfield, CISI, MED, CACM), beir, trec (default: detect)")
	path := fs.String("path", "", "collection folder")
	modes := fs.String("mode", "bm25", "comma-separated runs: bm25, vector, hybrid (rrf), convex[:alpha], each with optional +rerank")
	sweep := fs.String("sweep", "", "sweep convex fusion, e.g. alpha=0:1:0.1 (chosen on the dev split, reported on test)")
	split := fs.String("split", "", "evaluate only the dev or test split")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	out := fs.String("out", "", "write report.json/.md, charts (SVG), TREC run and qrels files into DIR")
	indexName := fs.String("index", "", "evaluate an existing index instead of building a throwaway one")
	docs := fs.String("docs", "", "documents file name, when not the usual one")
	queries := fs.String("queries", "", "queries file name")
	qrels := fs.String("qrels", "", "relevance judgements file name")
	chunkSize := fs.Int("chunk-size", 256, "chunk size in tokens for the throwaway index")
	overlap := fs.Int("chunk-overlap", 32, "chunk overlap in tokens")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return usageErr("--path is required; try: ragd eval --format smart --path ../shared/datasets/cranfield")
	}
	runs, err := eval.ParseRuns(*modes)
	if err != nil {
		return err
	}
	rc := eval.RunConfig{Runs: runs, Split: *split}
	if *sweep != "" {
		if rc.Sweep, err = eval.ParseSweep(*sweep); err != nil {
			return err
		}
	}
	ds, err := eval.LoadDataset(*format, *path, eval.LoadOptions{Docs: *docs, Queries: *queries, Qrels: *qrels})
	if err != nil {
		return err
	}
	log := newLogger(e.cfg, e.stderr)
	pool := newModelPool(e.cfg, log)
	needVectors := *sweep != "" || strings.Contains(*modes, "vector") || strings.Contains(*modes, "hybrid") ||
		strings.Contains(*modes, "rrf") || strings.Contains(*modes, "convex")
	dir := e.cfg.DataDir
	name := *indexName
	weaviateTemp := false
	if name == "" {
		if e.cfg.Backend == "weaviate" {
			// A throw-away index in the shared cluster, dropped at the end.
			name, weaviateTemp = fmt.Sprintf("eval-%d", time.Now().UnixNano()), true
		} else {
			tmp, err := os.MkdirTemp("", "ragd-eval-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			dir, name = tmp, "eval"
		}
	}
	b, _, err := openBackend(ctx, e.cfg, dir, log, pool)
	if err != nil {
		return err
	}
	defer b.Close()
	if weaviateTemp {
		defer func() { _ = b.DropIndex(context.WithoutCancel(ctx), name) }()
	}
	cache := openSideCache(b, dir, log)
	if cache != nil {
		defer cache.Close()
	}
	t := &evalTarget{svc: newService(b, pool, cache, nil, log), name: name, chunk: ingest.ChunkOptions{Size: *chunkSize, Overlap: *overlap}}
	if *indexName == "" {
		cfg := data.IndexConfig{Name: name}
		if needVectors && !noModel(e.cfg.Model) {
			emb, err := pool.Embedder(ctx, e.cfg.Model)
			if err != nil {
				return err
			}
			cfg.Model, cfg.Dims, cfg.Metric = e.cfg.Model, emb.Info().Dims, data.Cosine
		}
		if _, err := b.CreateIndex(ctx, cfg); err != nil {
			return err
		}
		start := time.Now()
		fmt.Fprintf(e.stderr, "indexing %d documents of %s (model %s)...\n", len(ds.Docs), ds.Name, orDash(cfg.Model))
		if err := eval.LoadDocs(ctx, t, ds, 500); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "indexed in %s; running %d queries per run...\n", time.Since(start).Round(time.Millisecond), len(ds.Queries))
	}
	rc.Logger = log
	rep, err := eval.Evaluate(ctx, ds, t, rc)
	if err != nil {
		return err
	}
	if *out != "" {
		files, err := eval.WriteAll(*out, ds, rep)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", strings.Join(relAll(files), ", "))
	}
	if *asJSON {
		return eval.WriteJSON(e.stdout, rep, false)
	}
	return eval.WriteTable(e.stdout, rep)
}

func relAll(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Base(f)
	}
	return out
}

func runEvalCompare(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "eval compare", "eval compare A.json B.json [--json] [--permutations N] [--seed N]")
	perms := fs.Int("permutations", 10000, "randomization test permutations")
	seed := fs.Uint64("seed", 1, "randomization test seed")
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("eval compare needs two report files (written by 'ragd eval --out DIR' as report.json)")
	}
	var reps [2]*eval.Report
	for i, p := range pos {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		reps[i], err = eval.ReadReport(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	cmp, err := eval.Compare(reps[0], reps[1], eval.CompareOptions{Permutations: *perms, Seed: *seed})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(cmp)
	}
	return eval.WriteComparison(e.stdout, cmp)
}
