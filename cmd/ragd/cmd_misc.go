package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ragd/ragd/index"
	"runtime"
	"text/tabwriter"

	"github.com/ragd/ragd/embed"
)

func init() {
	register(&command{name: "version", summary: "print the version", run: runVersion})
	register(&command{name: "embed", summary: "embed texts with a model and print the vectors", run: runEmbed})
	register(&command{name: "models", summary: "list installed models, or pull one", run: runModels})
	register(&command{name: "check", summary: "verify that the store and derived indexes agree (--repair rebuilds)", run: runCheck})
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "version [--json]")
	asJSON := fs.Bool("json", false, "JSON output")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]string{"version": version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
	}
	fmt.Fprintf(e.stdout, "ragd %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func runEmbed(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "embed", "embed [--model M] [--query] [--json] TEXT...")
	query := fs.Bool("query", false, "embed as search queries (models with query prefixes)")
	asJSON := fs.Bool("json", false, `print {"model","dims","vectors":[[...]]}`)
	texts, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		return usageErr("no texts given; try: ragd embed \"how do I bake bread\"")
	}
	if noModel(e.cfg.Model) {
		return usageErr("--model none cannot embed")
	}
	pool := newModelPool(e.cfg, newLogger(e.cfg, e.stderr))
	emb, err := pool.Embedder(ctx, e.cfg.Model)
	if err != nil {
		return err
	}
	kind := embed.Passage
	if *query {
		kind = embed.Query
	}
	vecs, err := emb.Embed(ctx, kind, texts)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"model": emb.Info().ID, "dims": emb.Info().Dims, "vectors": vecs})
	}
	for i, v := range vecs {
		n := min(len(v), 8)
		fmt.Fprintf(e.stdout, "%q -> %d dims [", texts[i], len(v))
		for j := 0; j < n; j++ {
			fmt.Fprintf(e.stdout, "%.4f ", v[j])
		}
		fmt.Fprintln(e.stdout, "...]")
	}
	return nil
}

func runModels(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "models", "models [list | pull NAME|HF_REPO] [--json]")
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	verb := "list"
	if len(pos) > 0 {
		verb = pos[0]
	}
	pool := newModelPool(e.cfg, newLogger(e.cfg, e.stderr))
	switch verb {
	case "list", "ls":
		ms := pool.List()
		if *asJSON {
			if ms == nil {
				ms = []modelInfo{}
			}
			return json.NewEncoder(e.stdout).Encode(map[string]any{"models": ms})
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MODEL\tKIND\tDIMS\tSIZE\tSOURCE")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", m.ID, m.Kind, m.Dims, humanBytes(m.SizeBytes), m.Source)
		}
		if len(ms) == 0 {
			fmt.Fprintln(tw, "(none installed: run scripts/setup.sh for the default use-lite model)")
		}
		return tw.Flush()
	case "pull":
		if len(pos) < 2 {
			return usageErr("models pull NAME|HF_REPO")
		}
		return pullModel(ctx, e, pool, pos[1])
	}
	return usageErr("unknown models action %q (want list, pull)", verb)
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "check", "check [--index NAME] [--repair] [--json]")
	name := fs.String("index", "", "index to check (default: all)")
	repair := fs.Bool("repair", false, "rebuild derived indexes that disagree with the store")
	asJSON := fs.Bool("json", false, "JSON output")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	eng, err := capability[index.Checker](a, "check")
	if err != nil {
		return err
	}
	names, err := a.indexNames(ctx, *name)
	if err != nil {
		return err
	}
	bad := 0
	var reports []any
	for _, n := range names {
		rep, err := eng.Check(ctx, n)
		if err != nil {
			return err
		}
		if !rep.OK() && *repair {
			if _, err := eng.Reindex(ctx, n); err != nil {
				return err
			}
			after, err := eng.Check(ctx, n)
			if err != nil {
				return err
			}
			if !*asJSON {
				fmt.Fprintf(e.stdout, "%s: repaired (%d problems before, %d after)\n", n, len(rep.Problems), len(after.Problems))
			}
			rep = after
		}
		reports = append(reports, rep)
		if !rep.OK() {
			bad++
		}
		if !*asJSON {
			if rep.OK() {
				fmt.Fprintf(e.stdout, "%s: ok (%d chunks, %d vectors; keyword and vector indexes agree with the store)\n", n, rep.StoreChunks, rep.StoreVectors)
			}
			for _, p := range rep.Problems {
				fmt.Fprintf(e.stdout, "%s: %s\n", n, p)
			}
		}
	}
	if *asJSON {
		if err := json.NewEncoder(e.stdout).Encode(map[string]any{"indexes": reports}); err != nil {
			return err
		}
	}
	if bad > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d index(es) disagree with the store; run 'ragd check --repair'", bad)}
	}
	return nil
}
