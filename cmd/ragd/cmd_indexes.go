package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

func init() {
	register(&command{name: "indexes", summary: "list, create or delete indexes", run: runIndexes})
	register(&command{name: "reindex", summary: "rebuild an index's derived keyword and vector indexes from the store", run: runReindex})
}

func runIndexes(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "indexes", "indexes [list | create NAME [--model M] | delete NAME] [--json]")
	asJSON := fs.Bool("json", false, "JSON output")
	model := fs.String("index-model", "", "embedding model for create (default: --model)")
	dims := fs.Int("dims", 0, "vector dimensions for create without a model")
	metric := fs.String("metric", "cosine", "vector metric for create: cosine, dot, euclidean")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	verb := "list"
	if len(pos) > 0 {
		verb = pos[0]
	}
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	switch verb {
	case "list", "ls":
		infos, err := a.backend.Indexes(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if infos == nil {
				infos = []index.IndexInfo{}
			}
			return json.NewEncoder(e.stdout).Encode(map[string]any{"indexes": infos})
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDOCS\tCHUNKS\tVECTORS\tMODEL\tDIMS\tSIZE")
		for _, in := range infos {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%s\n", in.Name, in.Stats.Documents, in.Stats.Chunks, in.Stats.Vectors, orDash(in.Model), in.Dims, humanBytes(in.Stats.SizeBytes))
		}
		return tw.Flush()
	case "create":
		if len(pos) < 2 {
			return usageErr("indexes create NAME")
		}
		m := *model
		if m == "" {
			m = a.cfg.Model
		}
		var cfg data.IndexConfig
		if *dims > 0 {
			cfg = data.IndexConfig{Name: pos[1], Dims: *dims, Metric: data.Metric(*metric)}
		} else {
			ic, err := a.ensureIndexCfg(ctx, pos[1], m)
			if err != nil {
				return err
			}
			cfg = ic
			cfg.Metric = data.Metric(*metric)
		}
		created, err := a.backend.CreateIndex(ctx, cfg)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(created)
		}
		fmt.Fprintf(e.stdout, "created index %q (model %s, %d dims, %s)\n", created.Name, orDash(created.Model), created.Dims, created.Metric)
		return nil
	case "delete", "rm", "drop":
		if len(pos) < 2 {
			return usageErr("indexes delete NAME")
		}
		if err := a.backend.DropIndex(ctx, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted index %q\n", pos[1])
		return nil
	}
	return usageErr("unknown indexes action %q (want list, create, delete)", verb)
}

// ensureIndexCfg builds a config for a new index using model's dims.
func (a *app) ensureIndexCfg(ctx context.Context, name, model string) (data.IndexConfig, error) {
	cfg := data.IndexConfig{Name: name}
	if noModel(model) {
		return cfg, nil
	}
	emb, err := a.pool.Embedder(ctx, model)
	if err != nil {
		return cfg, err
	}
	cfg.Model, cfg.Dims = model, emb.Info().Dims
	return cfg, nil
}

func runReindex(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reindex", "reindex [--index NAME] [--to weaviate]  (all indexes when --index is omitted)")
	name := fs.String("index", "", "index to rebuild or copy (default: all)")
	to := fs.String("to", "", "copy the embedded indexes (in --data-dir) to this backend instead of rebuilding them: weaviate (with --weaviate-url ...)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to != "" {
		return copyToBackend(ctx, e, *name, *to)
	}
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	eng, err := capability[index.Checker](a, "reindex (without --to)")
	if err != nil {
		return err
	}
	names, err := a.indexNames(ctx, *name)
	if err != nil {
		return err
	}
	for _, n := range names {
		rep, err := eng.Reindex(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "reindexed %q: %d chunks into the keyword index, %d vectors into the vector index in %s\n", n, rep.Chunks, rep.Vectors, rep.Elapsed)
	}
	return nil
}

// copyToBackend copies embedded indexes into another backend: the switch
// from one machine's store to a Weaviate cluster.
func copyToBackend(ctx context.Context, e *env, name, to string) error {
	if to != "weaviate" {
		return usageErr("--to %q: the only other backend is weaviate", to)
	}
	log := newLogger(e.cfg, e.stderr)
	pool := newModelPool(e.cfg, log)
	src, err := index.Open(ctx, index.Options{Dir: e.cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openWeaviate(ctx, e.cfg, log, pool)
	if err != nil {
		return err
	}
	defer dst.Close()
	names := []string{name}
	if name == "" {
		infos, err := src.Indexes(ctx)
		if err != nil {
			return err
		}
		names = names[:0]
		for _, in := range infos {
			names = append(names, in.Name)
		}
	}
	for _, n := range names {
		st, err := copyIndex(ctx, src, dst, n, e.stderr)
		if err != nil {
			return fmt.Errorf("copy %q: %w", n, err)
		}
		fmt.Fprintf(e.stdout, "copied %q to weaviate: %d documents, %d chunks, %d unchanged, %s (%.0f chunks/s)\n", n, st.Docs, st.Chunks, st.Skipped,
			st.Elapsed.Round(time.Millisecond), float64(st.Chunks)/max(st.Elapsed.Seconds(), 1e-9))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
