package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

// tableSearcher is a fake Searcher: for each query text and run name it
// returns a fixed document order, each document as two chunks (the second
// scoring lower), and records the queries it saw.
type tableSearcher struct {
	rankings map[string]map[string][]string // text -> run name -> doc ids
	seen     []data.Query
	fail     string // query text that fails
}

func (s *tableSearcher) Search(ctx context.Context, q data.Query) ([]data.Hit, error) {
	s.seen = append(s.seen, q)
	if q.Text == s.fail {
		return nil, fmt.Errorf("fake: %w", data.ErrUnavailable)
	}
	name := RunSpec{Mode: q.Mode, Fusion: q.Fusion, Alpha: q.Alpha, Rerank: q.Rerank}.Name()
	var hits []data.Hit
	for i, id := range s.rankings[q.Text][name] {
		score := 10 - float64(i)
		hits = append(hits,
			data.Hit{DocID: id, ChunkID: data.ChunkID(id, 1), Score: score - 0.5},
			data.Hit{DocID: id, ChunkID: data.ChunkID(id, 0), Score: score})
	}
	if len(hits) > q.TopK {
		hits = hits[:q.TopK]
	}
	return hits, nil
}

func smallDataset() *Dataset {
	ds := &Dataset{
		Name: "small",
		Queries: []Query{
			{ID: "1", Text: "alpha"}, {ID: "2", Text: "beta"}, {ID: "3", Text: "gamma"}, {ID: "4", Text: "unjudged"},
		},
		Qrels: Qrels{
			"1": {"a": 1},
			"2": {"b": 2, "c": 1},
			"3": {"d": 1, "x": 0},
			"4": {"x": 0},
		},
	}
	for _, id := range []string{"a", "b", "c", "d", "x"} {
		ds.Docs = append(ds.Docs, data.Document{ID: id, Text: "text " + id})
	}
	ds.Splits = map[string][]string{"dev": {"1"}, "test": {"2", "3"}}
	return ds
}

func TestEvaluate(t *testing.T) {
	ds := smallDataset()
	s := &tableSearcher{rankings: map[string]map[string][]string{
		"alpha": {"bm25": {"a", "x"}, "vector": {"x", "a"}},
		"beta":  {"bm25": {"b", "c"}, "vector": {"c", "x", "b"}},
		"gamma": {"bm25": {"x"}, "vector": {"d"}},
	}}
	runs, err := ParseRuns("bm25, vector")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(context.Background(), ds, s, RunConfig{Runs: runs, Fetch: 50, Depth: 10})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Queries != 3 || len(s.seen) != 6 {
		t.Fatalf("queries %d, searches %d; want 3 judged queries per run (4 is unjudged)", rep.Queries, len(s.seen))
	}
	if q := s.seen[0]; q.TopK != 50 || q.Mode != data.ModeBM25 || q.Text != "alpha" {
		t.Errorf("first query = %+v", q)
	}
	bm, vec := rep.Run("bm25"), rep.Run("vector")
	// bm25: q1 perfect; q2 perfect; q3 nothing relevant.
	if !near(bm.NDCG10, 2.0/3) || !near(bm.AP, 2.0/3) || !near(bm.RR10, 2.0/3) || !near(bm.P10, (0.1+0.2+0)/3) {
		t.Errorf("bm25 = %+v", bm.Metrics)
	}
	// vector: q1 rel at 2 -> nDCG 1/log2(3); q2 c(1) at 1, b(2) at 3:
	// DCG 1 + 2/2 = 2, IDCG 2 + 1/log2(3); q3 perfect.
	wantN := (1/math.Log2(3) + 2/(2+1/math.Log2(3)) + 1) / 3
	if !near(vec.NDCG10, wantN) {
		t.Errorf("vector nDCG %v, want %v", vec.NDCG10, wantN)
	}
	if len(vec.PerQuery) != 3 || vec.PerQuery[0].Retrieved != 2 || vec.PerQuery[1].NumRel != 2 {
		t.Errorf("per query = %+v", vec.PerQuery)
	}
	if bm.LatencyP50MS < 0 || bm.LatencyP99MS < bm.LatencyP50MS {
		t.Errorf("latencies p50 %v p99 %v", bm.LatencyP50MS, bm.LatencyP99MS)
	}

	// The test split only.
	rep, err = Evaluate(context.Background(), ds, s, RunConfig{Split: "test"})
	if err != nil || rep.Queries != 2 || rep.Runs[0].Split != "test" {
		t.Fatalf("test split: %v %+v", err, rep)
	}
}

func TestEvaluateErrors(t *testing.T) {
	ds := smallDataset()
	s := &tableSearcher{fail: "beta"}
	ctx := context.Background()
	if _, err := Evaluate(ctx, ds, s, RunConfig{}); !errors.Is(err, data.ErrUnavailable) || !strings.Contains(err.Error(), "query 2") {
		t.Errorf("searcher failure: %v", err)
	}
	if _, err := Evaluate(ctx, ds, s, RunConfig{Split: "train"}); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown split: %v", err)
	}
	if _, err := Evaluate(ctx, ds, s, RunConfig{Runs: []RunSpec{{Mode: "fuzzy"}}}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad mode: %v", err)
	}
	if _, err := Evaluate(ctx, nil, s, RunConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil dataset: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Evaluate(cctx, ds, &tableSearcher{}, RunConfig{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestParseRuns(t *testing.T) {
	cases := []struct {
		in    string
		names []string
		bad   bool
	}{
		{"bm25", []string{"bm25"}, false},
		{"bm25,vector,rrf,convex", []string{"bm25", "vector", "hybrid-rrf", "hybrid-convex@0.50"}, false},
		{"convex:0.3+rerank, hybrid:20", []string{"hybrid-convex@0.30+rerank", "hybrid-rrf"}, false},
		{"", nil, true},
		{"bm26", nil, true},
		{"convex:1.5", nil, true},
		{"convex:x", nil, true},
		{"bm25:3", nil, true},
		{"rrf:-1", nil, true},
	}
	for _, c := range cases {
		specs, err := ParseRuns(c.in)
		if c.bad {
			if !errors.Is(err, ErrConfig) {
				t.Errorf("ParseRuns(%q) err = %v, want ErrConfig", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRuns(%q): %v", c.in, err)
			continue
		}
		var names []string
		for _, s := range specs {
			names = append(names, s.Name())
		}
		if !reflect.DeepEqual(names, c.names) {
			t.Errorf("ParseRuns(%q) = %v, want %v", c.in, names, c.names)
		}
	}
}

func TestStandardRuns(t *testing.T) {
	var names []string
	for _, s := range StandardRuns(true) {
		if err := s.validate(); err != nil {
			t.Error(err)
		}
		names = append(names, s.Name())
	}
	want := []string{"bm25+rerank", "vector+rerank", "hybrid-rrf+rerank", "hybrid-convex@0.50+rerank"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
}

func TestPercentile(t *testing.T) {
	vals := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {99, 10}, {10, 1}, {0, 1}, {100, 10}} {
		if got := percentile(vals, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty percentile not 0")
	}
}

func TestRunFileRoundTrip(t *testing.T) {
	ds := smallDataset()
	s := &tableSearcher{rankings: map[string]map[string][]string{
		"alpha": {"bm25": {"x", "a"}},
		"beta":  {"bm25": {"c", "x", "b"}},
		"gamma": {"bm25": {"d"}},
	}}
	rep, err := Evaluate(context.Background(), ds, s, RunConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTRECRun(&buf, &rep.Runs[0], "my run"); err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(buf.String(), "\n", 2)[0]; first != "1 Q0 x 1 10 my_run" {
		t.Errorf("first line %q", first)
	}
	run, err := ReadTRECRun(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var qb bytes.Buffer
	if err := WriteTRECQrels(&qb, ds); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(qb.String(), "2 0 b 2\n") || strings.Contains(qb.String(), "4 0 x") {
		t.Errorf("qrels file:\n%s", qb.String())
	}
	qrels, err := ReadTRECQrels(&qb, nil)
	if err != nil {
		t.Fatal(err)
	}
	scored, err := ScoreRun("bm25", run, qrels)
	if err != nil {
		t.Fatal(err)
	}
	if !metricsNear(scored.Metrics, rep.Runs[0].Metrics) {
		t.Errorf("round trip %+v, want %+v", scored.Metrics, rep.Runs[0].Metrics)
	}
}

func TestReadTRECRunTiesAndErrors(t *testing.T) {
	// Ranks are ignored; equal scores are ordered by docno descending.
	run, err := ReadTRECRun(strings.NewReader("7 Q0 a 1 1.5 t\n7 Q0 b 2 1.5 t\n7 Q0 c 3 2 t\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []ScoredDoc{{"c", 2}, {"b", 1.5}, {"a", 1.5}}; !reflect.DeepEqual(run["7"], want) {
		t.Errorf("run = %v, want %v", run["7"], want)
	}
	for _, bad := range []string{"1 Q0 a 1 x t\n", "1 Q0 a 1\n", "1 Q0 a 1 1 t\n1 Q0 a 2 0.5 t\n"} {
		if _, err := ReadTRECRun(strings.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("ReadTRECRun(%q) err = %v", bad, err)
		}
	}
	if _, err := ReadTRECQrels(strings.NewReader("1 0 a\n"), nil); !errors.Is(err, ErrFormat) {
		t.Errorf("short qrels line: %v", err)
	}
	ds := smallDataset()
	ds.Qrels["1"]["a"] = 0.5 + 1
	if err := WriteTRECQrels(&bytes.Buffer{}, ds); !errors.Is(err, ErrFormat) {
		t.Errorf("fractional gain: %v", err)
	}
}

// loaderFake records batches.
type loaderFake struct{ batches [][]data.Document }

func (l *loaderFake) AddDocuments(ctx context.Context, docs []data.Document) error {
	l.batches = append(l.batches, docs)
	return nil
}

func TestLoadDocs(t *testing.T) {
	ds := smallDataset()
	l := &loaderFake{}
	if err := LoadDocs(context.Background(), l, ds, 2); err != nil {
		t.Fatal(err)
	}
	if len(l.batches) != 3 || len(l.batches[2]) != 1 || l.batches[2][0].ID != "x" {
		t.Errorf("batches = %v", l.batches)
	}
}
