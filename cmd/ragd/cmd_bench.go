package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/eval"
	"github.com/ragd/ragd/index/ann/annbench"
	"github.com/ragd/ragd/internal/unitvec"
	"github.com/ragd/ragd/rag"
)

func init() {
	register(&command{name: "bench", summary: "benchmarks: ann, ingest, search", run: runBench})
}

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("bench needs a target: ann, ingest or search")
	}
	if isHelpArg(args[0]) {
		return subcommandHelp(e, "bench", "ann [flags]", "ingest [flags]", "search [flags]")
	}
	switch args[0] {
	case "ann":
		return benchANN(ctx, e, args[1:])
	case "ingest", "search":
		return benchIndex(ctx, e, args[0], args[1:])
	}
	return usageErr("unknown bench target %q (want ann, ingest, search)", args[0])
}

func benchANN(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench ann", "bench ann [--n 100000] [--dim 384] [--k 10] [--queries 1000] [--data clustered|uniform|FILE.fvecs] [--json]")
	n := fs.Int("n", 100000, "vectors")
	dim := fs.Int("dim", 384, "dimensions")
	k := fs.Int("k", 10, "neighbours per query")
	queries := fs.Int("queries", 1000, "queries")
	dataSrc := fs.String("data", "clustered", "clustered, uniform, or an .fvecs file")
	seed := fs.Int64("seed", 1, "RNG seed")
	efs := fs.String("ef", "", "comma-separated efSearch values (default: a built-in sweep)")
	m := fs.Int("m", 16, "HNSW M")
	efc := fs.Int("ef-construction", 200, "HNSW efConstruction")
	indexes := fs.String("indexes", "", "comma-separated subset of hnsw,hnsw-int8,exact,coder-hnsw")
	asJSON := fs.Bool("json", false, `print {"results":[...]}`)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := annbench.Config{N: *n, Dim: *dim, K: *k, Queries: *queries, Data: *dataSrc, Seed: *seed, M: *m, EfConstruction: *efc}
	if *efs != "" {
		for _, s := range strings.Split(*efs, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return usageErr("--ef: %v", err)
			}
			cfg.Efs = append(cfg.Efs, v)
		}
	}
	if *indexes != "" {
		cfg.Indexes = strings.Split(*indexes, ",")
	}
	tmp, err := os.MkdirTemp("", "ragd-bench-ann-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg.Dir = tmp
	rep, err := annbench.Run(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(e.stdout)
	}
	return rep.WriteTable(e.stdout)
}

// benchIndex measures ingest throughput (keyword-only or with the
// configured model) and single-client search latency on a generated or
// real corpus.
func benchIndex(ctx context.Context, e *env, target string, args []string) error {
	fs := newFlags(e, "bench "+target, "bench "+target+" [--n 100000] [--dataset FORMAT:DIR] [--queries 1000] [--mode bm25[,vector,hybrid]] [--vectors DIMS] [--clients N[,N...]] [--unscheduled] [--backend embedded|weaviate] [--json]")
	n := fs.Int("n", 100000, "generated chunks (ignored with --dataset)")
	dataset := fs.String("dataset", "", "a real collection instead, e.g. cranfield:../shared/datasets/cranfield")
	queries := fs.Int("queries", 1000, "search queries")
	modeList := fs.String("mode", "bm25", "search mode; a comma-separated list runs each in turn on the one index")
	topK := fs.Int("top-k", 10, "hits per query")
	seed := fs.Uint64("seed", 1, "RNG seed")
	asJSON := fs.Bool("json", false, "JSON output")
	synth := fs.Int("vectors", 0, "give chunks and queries synthetic unit vectors of this many dimensions instead of the model's (measures the index tier alone)")
	clientList := fs.String("clients", "1", "concurrent search clients; a comma-separated list (1,2,8) runs each in turn on the one index")
	unscheduled := fs.Bool("unscheduled", false, "also run each client count without the search scheduler (interleaved, for an A/B on one index)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	clients, err := parseClients(*clientList)
	if err != nil || *synth < 0 {
		return usageErr("--clients must be one or more counts >= 1 and --vectors >= 0")
	}
	tmp, err := os.MkdirTemp("", "ragd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	corpus := filepath.Join(tmp, "corpus.jsonl")
	var qs []string
	label := fmt.Sprintf("generated %d chunks", *n)
	if *dataset != "" {
		format, dir, ok := strings.Cut(*dataset, ":")
		if !ok {
			return usageErr("--dataset FORMAT:DIR")
		}
		ds, err := eval.LoadDataset(format, dir, eval.LoadOptions{})
		if err != nil {
			return err
		}
		if err := writeJSONL(corpus, ds.Docs); err != nil {
			return err
		}
		for _, q := range ds.Queries {
			qs = append(qs, q.Text)
		}
		label = fmt.Sprintf("%s (%d documents)", ds.Name, len(ds.Docs))
	} else {
		qs, err = writeSynthetic(corpus, *n, *queries, *seed)
		if err != nil {
			return err
		}
	}
	log := newLogger(Config{LogLevel: "warn"}, e.stderr)
	pool := newModelPool(e.cfg, log)
	name := "bench"
	if e.cfg.Backend == "weaviate" {
		name = fmt.Sprintf("bench-%d", time.Now().UnixNano()) // a throw-away index in a shared cluster
	}
	b, eng, err := openBackend(ctx, e.cfg, filepath.Join(tmp, "data"), log, pool)
	if err != nil {
		return err
	}
	defer b.Close()
	if e.cfg.Backend == "weaviate" {
		defer func() { _ = b.DropIndex(context.WithoutCancel(ctx), name) }()
	}
	a := &app{cfg: e.cfg, log: log, backend: b, engine: eng, pool: pool}
	if a.cache = openSideCache(b, filepath.Join(tmp, "data"), log); a.cache != nil {
		defer a.cache.Close()
	}
	rcfg := a.serviceConfig(nil)
	var icfg data.IndexConfig
	var qvec func(string) []float32
	if *synth > 0 {
		se := unitvec.Embedder{Dims: *synth}
		icfg = data.IndexConfig{Name: name, Model: se.Info().ID, Dims: *synth, Metric: data.Cosine}
		if _, err := b.CreateIndex(ctx, icfg); err != nil {
			return err
		}
		// Synthetic vectors are cheap: no cache, and queries carry theirs.
		rcfg = rag.Config{Backend: b, Models: syntheticModels{se}, NoCache: true, Logger: log}
		qvec = func(text string) []float32 { return unitvec.ForText(se.Dims, text) }
	} else if icfg, err = a.ensureIndex(ctx, name, e.cfg.Model, true); err != nil {
		return err
	}
	svc, err := rag.New(rcfg)
	if err != nil {
		return err
	}
	bar := newProgressBar(e.stderr, true)
	res, err := svc.IngestFiles(ctx, name, []string{corpus}, rag.FileOptions{IngestOptions: rag.IngestOptions{Progress: bar.update}})
	bar.done()
	if err != nil {
		return err
	}
	sum := res.Summary
	out := map[string]any{"backend": orDash(e.cfg.Backend), "corpus": label, "model": orDash(icfg.Model), "docs": sum.Docs, "chunks": sum.Chunks,
		"ingest_s": sum.Elapsed.Seconds(), "chunks_per_s": sum.ChunksPerSecond(), "failed": sum.Failed}
	if target != "search" {
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(out)
		}
		fmt.Fprintf(e.stdout, "corpus %s, model %s: %d chunks ingested in %.1f s = %.0f chunks/s\n", label, orDash(icfg.Model), sum.Chunks, sum.Elapsed.Seconds(), sum.ChunksPerSecond())
		return nil
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "corpus %s, model %s: %d chunks ingested in %.1f s = %.0f chunks/s\n", label, orDash(icfg.Model), sum.Chunks, sum.Elapsed.Seconds(), sum.ChunksPerSecond())
	}
	if len(qs) > *queries {
		qs = qs[:*queries]
	}
	mk := func(mode data.Mode) func(string) data.Query {
		return func(q string) data.Query {
			dq := data.Query{Text: q, TopK: *topK, Mode: mode}
			if qvec != nil && dq.Mode != data.ModeBM25 {
				dq.Vector = qvec(q)
			}
			return dq
		}
	}
	schedCfgs := []Config{e.cfg}
	if *unscheduled && e.cfg.SearchWorkers >= 0 {
		off := e.cfg
		off.SearchWorkers = -1
		schedCfgs = []Config{off, e.cfg}
	}
	for _, mode := range strings.Split(*modeList, ",") {
		if err := benchSearchMode(ctx, e, rcfg, name, qs, data.Mode(strings.TrimSpace(mode)), *topK, clients, schedCfgs, mk, out, *asJSON); err != nil {
			return err
		}
	}
	return nil
}

// benchSearchMode runs the queries in one mode for each client count and
// scheduler setting, printing one report each (out holds the ingest part).
func benchSearchMode(ctx context.Context, e *env, rcfg rag.Config, name string, qs []string, mode data.Mode, topK int, clients []int, schedCfgs []Config,
	mk func(data.Mode) func(string) data.Query, out map[string]any, asJSON bool) error {
	for _, c := range clients {
		for _, sc := range schedCfgs {
			sch, closeSched, err := searchScheduler(sc, nil)
			if err != nil {
				return err
			}
			sc := rcfg
			if sch != nil {
				sc.Scheduler = sch
			}
			svc, err := rag.New(sc)
			if err != nil {
				closeSched()
				return err
			}
			res, err := benchQueries(ctx, svc, name, qs, c, mk(mode))
			closeSched()
			if err != nil {
				return err
			}
			out["mode"], out["queries"], out["clients"], out["scheduler"] = mode, res.n, c, describeScheduler(sch)
			out["p50_ms"], out["p99_ms"], out["max_ms"], out["qps"] = res.p50, res.p99, res.max, res.qps
			out["wait_p50_ms"], out["wait_p99_ms"], out["service_p50_ms"], out["service_p99_ms"] = res.wait50, res.wait99, res.svc50, res.svc99
			if asJSON {
				if err := json.NewEncoder(e.stdout).Encode(out); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(e.stdout, "search (%s, top %d, %d client(s), %d queries, scheduler %s): %.0f queries/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms; wait p50 %.2f / p99 %.2f ms, service p50 %.2f / p99 %.2f ms\n",
				mode, topK, c, res.n, out["scheduler"], res.qps, res.p50, res.p99, res.max, res.wait50, res.wait99, res.svc50, res.svc99)
		}
	}
	return nil
}

// parseClients reads --clients: one count or a comma-separated list.
func parseClients(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad client count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func writeJSONL(path string, docs []data.Document) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, d := range docs {
		if err := enc.Encode(map[string]any{"id": d.ID, "title": d.Title, "text": d.Text}); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeSynthetic writes n one-chunk documents of 60–120 words drawn from a
// Zipfian vocabulary of 50,000 pseudo-words, and returns queries of three
// words drawn from the middle of the distribution.
func writeSynthetic(path string, n, nq int, seed uint64) ([]string, error) {
	r := rand.New(rand.NewPCG(seed, 42))
	vocab := make([]string, 50000)
	for i := range vocab {
		l := 3 + r.IntN(7)
		b := make([]byte, l)
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		vocab[i] = string(b)
	}
	z := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	var sb strings.Builder
	for i := range n {
		sb.Reset()
		words := 60 + r.IntN(61)
		for j := range words {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(vocab[z.Uint64()])
			if j%15 == 14 {
				sb.WriteByte('.')
			}
		}
		if err := enc.Encode(map[string]string{"id": "d" + strconv.Itoa(i), "title": vocab[z.Uint64()], "text": sb.String()}); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	qs := make([]string, nq)
	for i := range qs {
		qs[i] = vocab[20+r.IntN(2000)] + " " + vocab[20+r.IntN(2000)] + " " + vocab[100+r.IntN(10000)]
	}
	return qs, nil
}
