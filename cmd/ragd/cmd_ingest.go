package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/ingest"
	"github.com/ragd/ragd/rag"
)

func init() {
	register(&command{name: "ingest", summary: "ingest files, folders or stdin into an index", run: runIngest})
}

func runIngest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "ingest", "ingest --index NAME [flags] PATH... (use - for stdin)")
	name := fs.String("index", "default", "index name (created if missing)")
	var include, exclude multiFlag
	fs.Var(&include, "include", "glob of files to include under folders (repeatable; ** matches folders)")
	fs.Var(&exclude, "exclude", "glob of files to exclude (repeatable)")
	chunkSize := fs.Int("chunk-size", 256, "chunk size in tokens (default: the size stored with the index, else 256)")
	overlap := fs.Int("chunk-overlap", 32, "chunk overlap in tokens (default: the overlap stored with the index, else 32)")
	sync := fs.Bool("sync", false, "delete documents whose source under the given paths vanished")
	force := fs.Bool("force", false, "rewrite documents even when unchanged")
	format := fs.String("format", "", "force a format: txt, md, html, pdf, jsonl")
	workers := fs.Int("workers", 0, "parallel file parsers (default: cores)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	quiet := fs.Bool("quiet", false, "no progress bar")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageErr("no paths given; try: ragd ingest --index docs ./folder")
	}
	if err := data.CheckChunking(*chunkSize, *overlap); err != nil {
		return err
	}
	// Log lines go through the bar, which clears its line before them and
	// redraws after, so that none is glued to the bar.
	bar := newProgressBar(e.stderr, !*quiet)
	e.stderr = bar
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	create := data.IndexConfig{Name: *name, Model: a.cfg.Model}
	if *chunkSize > 0 && *overlap >= 0 && *overlap < *chunkSize {
		create.ChunkSize, create.ChunkOverlap = *chunkSize, *overlap
	}
	icfg, err := a.ensureIndexWith(ctx, create, true)
	if err != nil {
		return err
	}
	// The index's stored chunk settings apply unless the flags are given
	// (a new index stores the flags' values).
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var chunk ingest.ChunkOptions
	if set["chunk-size"] || icfg.ChunkSize == 0 {
		chunk.Size = *chunkSize
	}
	if set["chunk-overlap"] || icfg.ChunkOverlap == 0 {
		chunk.Overlap = *overlap
	}
	res, err := a.service(nil).IngestFiles(ctx, *name, paths, rag.FileOptions{
		IngestOptions: rag.IngestOptions{Force: *force, Chunk: chunk, Progress: bar.update},
		Include:       include, Exclude: exclude, Sync: *sync, Workers: *workers,
		Load: ingest.LoadOptions{Format: *format}, Stdin: e.stdin, Logger: a.log,
	})
	bar.done()
	if err != nil {
		return err
	}
	sum := res.Summary
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{
			"index": *name, "files": sum.Files, "docs": sum.Docs, "chunks": sum.Chunks, "skipped": sum.Skipped,
			"failed": sum.Failed, "deleted": sum.Deleted, "embedded": sum.Embedded, "cache_hits": sum.CacheHits,
			"elapsed_ms": sum.Elapsed.Milliseconds(), "chunks_per_s": sum.ChunksPerSecond(), "failures": sum.Failures,
		})
	}
	fmt.Fprintf(e.stdout, "ingested into %q: %d files, %d docs written, %d chunks, %d unchanged, %d failed, %d deleted in %s (%.0f chunks/s)\n",
		*name, sum.Files, sum.Docs, sum.Chunks, sum.Skipped, sum.Failed, sum.Deleted, sum.Elapsed.Round(time.Millisecond), sum.ChunksPerSecond())
	if icfg.Model != "" {
		fmt.Fprintf(e.stdout, "embedded %d chunks with %s (%d from cache)\n", sum.Embedded, icfg.Model, sum.CacheHits)
	}
	for i, f := range sum.Failures {
		if i == 20 {
			fmt.Fprintf(e.stdout, "  ... and %d more failures\n", sum.Failed-20)
			break
		}
		fmt.Fprintf(e.stdout, "  skipped %s: %s\n", f.Source, f.Error)
	}
	return nil
}

func fmtDur(d time.Duration) string {
	s := int(d.Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
