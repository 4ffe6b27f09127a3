package eval

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
)

// Searcher answers one query with chunk hits (Hit.DocID names the
// document). The index package's searcher satisfies it.
type Searcher interface {
	Search(ctx context.Context, q data.Query) ([]data.Hit, error)
}

// Loader stores dataset documents; the CLI uses it to build an index from
// Dataset.Docs before Evaluate.
type Loader interface {
	AddDocuments(ctx context.Context, docs []data.Document) error
}

// LoadDocs adds ds.Docs to l in batches of batch documents (default 500),
// checking ctx between batches.
func LoadDocs(ctx context.Context, l Loader, ds *Dataset, batch int) error {
	if batch <= 0 {
		batch = 500
	}
	for i := 0; i < len(ds.Docs); i += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		j := min(i+batch, len(ds.Docs))
		if err := l.AddDocuments(ctx, ds.Docs[i:j]); err != nil {
			return fmt.Errorf("eval: load documents %d-%d: %w", i, j-1, err)
		}
	}
	return nil
}

// RunSpec is one retrieval configuration to evaluate.
type RunSpec struct {
	Mode data.Mode
	// Fusion and Alpha apply to hybrid mode (Alpha to convex fusion only);
	// RRFK is the RRF constant (0 = the index default).
	Fusion data.Fusion
	Alpha  float64
	RRFK   int
	Rerank bool
}

// Name is the run's label in reports: bm25, vector, hybrid-rrf,
// hybrid-convex@0.30, with "+rerank" appended when reranking.
func (s RunSpec) Name() string {
	n := string(s.Mode)
	if s.Mode == data.ModeHybrid {
		switch s.Fusion {
		case data.FusionConvex:
			n = "hybrid-convex@" + strconv.FormatFloat(s.Alpha, 'f', 2, 64)
		default:
			n = "hybrid-rrf"
		}
	}
	if s.Rerank {
		n += "+rerank"
	}
	return n
}

func (s RunSpec) validate() error {
	if !s.Mode.Valid() {
		return fmt.Errorf("%w: unknown mode %q", ErrConfig, s.Mode)
	}
	if s.Mode == data.ModeHybrid && s.Fusion != "" && s.Fusion != data.FusionRRF && s.Fusion != data.FusionConvex {
		return fmt.Errorf("%w: unknown fusion %q", ErrConfig, s.Fusion)
	}
	if math.IsNaN(s.Alpha) || s.Alpha < 0 || s.Alpha > 1 {
		return fmt.Errorf("%w: alpha %v must be in [0, 1]", ErrConfig, s.Alpha)
	}
	if s.RRFK < 0 {
		return fmt.Errorf("%w: rrf k %d must not be negative", ErrConfig, s.RRFK)
	}
	return nil
}

// StandardRuns are the four retrieval configurations ragd reports: bm25,
// vector, hybrid RRF and hybrid convex at alpha 0.5.
func StandardRuns(rerank bool) []RunSpec {
	return []RunSpec{
		{Mode: data.ModeBM25, Rerank: rerank},
		{Mode: data.ModeVector, Rerank: rerank},
		{Mode: data.ModeHybrid, Fusion: data.FusionRRF, Rerank: rerank},
		{Mode: data.ModeHybrid, Fusion: data.FusionConvex, Alpha: 0.5, Rerank: rerank},
	}
}

// ParseRuns parses a comma-separated list of runs: bm25, vector, hybrid or
// rrf (hybrid RRF), convex (alpha 0.5) or convex:0.3; a "+rerank" suffix
// asks for reranking. Example: "bm25,vector,rrf,convex:0.3+rerank".
func ParseRuns(s string) ([]RunSpec, error) {
	var out []RunSpec
	for _, part := range strings.Split(s, ",") {
		p := strings.ToLower(strings.TrimSpace(part))
		if p == "" {
			continue
		}
		var spec RunSpec
		p, spec.Rerank = strings.CutSuffix(p, "+rerank")
		name, arg, hasArg := strings.Cut(p, ":")
		switch name {
		case "bm25", "keyword":
			spec.Mode = data.ModeBM25
		case "vector", "dense":
			spec.Mode = data.ModeVector
		case "hybrid", "rrf", "hybrid-rrf":
			spec.Mode, spec.Fusion = data.ModeHybrid, data.FusionRRF
			if hasArg {
				k, err := strconv.Atoi(arg)
				if err != nil {
					return nil, fmt.Errorf("%w: run %q: rrf k %q is not an integer", ErrConfig, part, arg)
				}
				spec.RRFK = k
			}
		case "convex", "hybrid-convex":
			spec.Mode, spec.Fusion, spec.Alpha = data.ModeHybrid, data.FusionConvex, 0.5
			if hasArg {
				a, err := strconv.ParseFloat(arg, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: run %q: alpha %q is not a number", ErrConfig, part, arg)
				}
				spec.Alpha = a
			}
		default:
			return nil, fmt.Errorf("%w: unknown run %q (want bm25, vector, rrf, convex[:alpha])", ErrConfig, part)
		}
		if hasArg && spec.Mode != data.ModeHybrid {
			return nil, fmt.Errorf("%w: run %q takes no argument", ErrConfig, part)
		}
		if err := spec.validate(); err != nil {
			return nil, fmt.Errorf("run %q: %w", part, err)
		}
		out = append(out, spec)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no runs in %q", ErrConfig, s)
	}
	return out, nil
}

// RunConfig configures Evaluate. The zero value runs BM25 over every judged
// query.
type RunConfig struct {
	// Runs to evaluate. Default: bm25 only.
	Runs []RunSpec
	// Fetch is how many chunk hits each search asks for (Query.TopK).
	// Default 200; values below Depth are raised to Depth.
	Fetch int
	// Depth is how many documents of each folded ranking are scored and
	// written to run files. Default 100.
	Depth int
	// Split restricts the queries: "" or "all" (every judged query), "dev"
	// or "test". With a Sweep, "" means "test".
	Split string
	// Sweep, when set, tunes the convex alpha on the dev split, adds the
	// tuned run (on Split) to the report and records the curve.
	Sweep *SweepSpec
	// Namespace is passed through to every query.
	Namespace string
	// Logger receives progress at debug level (default: discard).
	Logger *slog.Logger
}

func (c *RunConfig) defaults() error {
	if len(c.Runs) == 0 {
		c.Runs = []RunSpec{{Mode: data.ModeBM25}}
	}
	if c.Depth < 0 || c.Fetch < 0 {
		return fmt.Errorf("%w: Depth and Fetch must not be negative", ErrConfig)
	}
	if c.Depth == 0 {
		c.Depth = 100
	}
	if c.Fetch == 0 {
		c.Fetch = 200
	}
	c.Fetch = max(c.Fetch, c.Depth)
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Split == "" && c.Sweep != nil {
		c.Split = "test"
	}
	for _, r := range c.Runs {
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

// QueryResult is one query's outcome in a run.
type QueryResult struct {
	QueryID string `json:"query_id"`
	Metrics
	// NumRel is the number of relevant documents judged for the query.
	NumRel int `json:"num_rel"`
	// Retrieved is the number of documents scored.
	Retrieved int `json:"retrieved"`
	// LatencyMS is the Search call's wall time.
	LatencyMS float64 `json:"latency_ms"`
	// Ranking is the scored document ranking (kept for run files).
	Ranking []ScoredDoc `json:"-"`
}

// RunResult is one run's means and per-query outcomes.
type RunResult struct {
	// Mode is the run's name (RunSpec.Name), e.g. "hybrid-rrf".
	Mode   string `json:"mode"`
	Fusion string `json:"fusion,omitempty"`
	// Alpha is the convex fusion weight; meaningful when Fusion is "convex".
	Alpha  float64 `json:"alpha"`
	Rerank bool    `json:"rerank,omitempty"`
	Split  string  `json:"split,omitempty"`
	Metrics
	LatencyP50MS float64       `json:"latency_p50_ms"`
	LatencyP99MS float64       `json:"latency_p99_ms"`
	PerQuery     []QueryResult `json:"per_query,omitempty"`
}

// Report is the outcome of Evaluate.
type Report struct {
	Dataset string `json:"dataset"`
	// Queries is the number of judged queries evaluated per run.
	Queries int          `json:"queries"`
	Runs    []RunResult  `json:"runs"`
	Sweep   *SweepResult `json:"sweep,omitempty"`
}

// Run returns the run named mode, or nil.
func (r *Report) Run(mode string) *RunResult {
	for i := range r.Runs {
		if r.Runs[i].Mode == mode {
			return &r.Runs[i]
		}
	}
	return nil
}

// Evaluate runs every RunSpec of cfg over the judged queries of ds (one
// query at a time, in query order, so latencies are not contended) and
// scores them. With cfg.Sweep it also tunes the convex alpha (see Sweep).
func Evaluate(ctx context.Context, ds *Dataset, s Searcher, cfg RunConfig) (*Report, error) {
	if ds == nil || s == nil {
		return nil, fmt.Errorf("%w: Evaluate needs a dataset and a searcher", ErrConfig)
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ids, err := ds.QueryIDs(cfg.Split)
	if err != nil {
		return nil, err
	}
	rep := &Report{Dataset: ds.Name, Queries: len(ids)}
	for _, spec := range cfg.Runs {
		rr, err := runQueries(ctx, ds, s, spec, ids, cfg)
		if err != nil {
			return nil, err
		}
		rr.Split = cfg.Split
		rep.Runs = append(rep.Runs, *rr)
	}
	if cfg.Sweep != nil {
		sw, tuned, err := sweep(ctx, ds, s, *cfg.Sweep, cfg)
		if err != nil {
			return nil, err
		}
		rep.Sweep = sw
		rep.Runs = append(rep.Runs, *tuned)
	}
	return rep, nil
}

// EvaluateRun runs one spec over the given query ids (nil = all judged).
func EvaluateRun(ctx context.Context, ds *Dataset, s Searcher, spec RunSpec, ids []string, cfg RunConfig) (*RunResult, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if ids == nil {
		ids = ds.JudgedQueryIDs()
	}
	return runQueries(ctx, ds, s, spec, ids, cfg)
}

func runQueries(ctx context.Context, ds *Dataset, s Searcher, spec RunSpec, ids []string, cfg RunConfig) (*RunResult, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: run %s has no queries", ErrNoQueries, spec.Name())
	}
	text := make(map[string]string, len(ds.Queries))
	for _, q := range ds.Queries {
		text[q.ID] = q.Text
	}
	rr := &RunResult{Mode: spec.Name(), Rerank: spec.Rerank}
	if spec.Mode == data.ModeHybrid {
		rr.Fusion = string(spec.Fusion)
		if spec.Fusion == data.FusionConvex {
			rr.Alpha = spec.Alpha
		}
	}
	start := time.Now()
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		qt, ok := text[id]
		if !ok {
			return nil, fmt.Errorf("%w: query %q is judged but not in the query file", ErrFormat, id)
		}
		q := data.Query{
			Text: qt, TopK: cfg.Fetch, Mode: spec.Mode, Namespace: cfg.Namespace,
			Fusion: spec.Fusion, Alpha: spec.Alpha, RRFK: spec.RRFK, Rerank: spec.Rerank,
		}
		t0 := time.Now()
		hits, err := s.Search(ctx, q)
		lat := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("eval: run %s query %s (%d/%d): %w", rr.Mode, id, i+1, len(ids), err)
		}
		ranking := FoldHits(hits, cfg.Depth)
		rr.PerQuery = append(rr.PerQuery, QueryResult{
			QueryID: id, Metrics: Score(ranking, ds.Qrels[id]),
			NumRel: ds.Qrels.NumRelevant(id), Retrieved: len(ranking),
			LatencyMS: float64(lat.Microseconds()) / 1000, Ranking: ranking,
		})
	}
	rr.summarize()
	cfg.Logger.Debug("eval run done", "run", rr.Mode, "queries", len(ids), "ndcg_at_10", rr.NDCG10, "elapsed", time.Since(start))
	return rr, nil
}

// summarize fills the means and latency percentiles from PerQuery.
func (rr *RunResult) summarize() {
	ms := make([]Metrics, len(rr.PerQuery))
	lat := make([]float64, len(rr.PerQuery))
	for i, q := range rr.PerQuery {
		ms[i], lat[i] = q.Metrics, q.LatencyMS
	}
	rr.Metrics = mean(ms)
	rr.LatencyP50MS = percentile(lat, 50)
	rr.LatencyP99MS = percentile(lat, 99)
}

// subset returns a copy of rr restricted to the given query ids.
func (rr *RunResult) subset(ids []string, split string) *RunResult {
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	out := *rr
	out.Split = split
	out.PerQuery = nil
	for _, q := range rr.PerQuery {
		if in[q.QueryID] {
			out.PerQuery = append(out.PerQuery, q)
		}
	}
	out.summarize()
	return &out
}

// percentile is the nearest-rank percentile: the smallest value with at
// least p% of the values at or below it (0 for no values).
func percentile(vals []float64, p float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

// ScoreRun scores a ranking per query (as read by ReadTRECRun) against
// qrels, the way trec_eval -c does with its default relevance level: every
// query with at least one relevant document counts, a query missing from
// the run scores 0, and each ranking is put in trec_eval order first.
func ScoreRun(name string, run map[string][]ScoredDoc, qrels Qrels) (*RunResult, error) {
	ids := make([]string, 0, len(qrels))
	for qid := range qrels {
		if qrels.NumRelevant(qid) > 0 {
			ids = append(ids, qid)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: qrels have no relevant judgements", ErrNoQueries)
	}
	sortIDs(ids)
	rr := &RunResult{Mode: name}
	for _, id := range ids {
		ranking := append([]ScoredDoc(nil), run[id]...)
		SortTREC(ranking)
		rr.PerQuery = append(rr.PerQuery, QueryResult{
			QueryID: id, Metrics: Score(ranking, qrels[id]),
			NumRel: qrels.NumRelevant(id), Retrieved: len(ranking), Ranking: ranking,
		})
	}
	rr.summarize()
	return rr, nil
}

// sortIDs orders ids numerically when they are all integers, else by bytes.
func sortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		a, ea := strconv.Atoi(ids[i])
		b, eb := strconv.Atoi(ids[j])
		if ea == nil && eb == nil && a != b {
			return a < b
		}
		return ids[i] < ids[j]
	})
}
