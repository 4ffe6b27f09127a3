//go:build qualitygate

package main

// The retrieval quality gate: runs the real pipeline (loaders, chunker,
// bleve BM25, USE-lite embeddings, HNSW, fusion) on the Cranfield
// collection through `ragd eval` and fails when nDCG@10 or MAP fall below
// the recorded floors. It is built with -tags qualitygate and run without
// the race detector by scripts/test.sh (embedding 1,400 abstracts under
// -race would take most of CI's budget).

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Floors recorded in docs/benchmarks.md (measured values rounded down).
var qualityFloors = map[string]struct{ ndcg, ap float64 }{
	"bm25":       {ndcg: qgBM25NDCG, ap: qgBM25MAP},
	"hybrid-rrf": {ndcg: qgHybridNDCG, ap: qgHybridMAP},
}

func TestQualityGateCranfield(t *testing.T) {
	cran := filepath.Join(qgSharedDir(t), "datasets", "cranfield")
	if _, err := os.Stat(filepath.Join(cran, "cran.all.1400")); err != nil {
		t.Skipf("Cranfield collection not present at %s", cran)
	}
	t.Setenv("RAGD_DATA_DIR", t.TempDir())
	t.Setenv("RAGD_LOG_LEVEL", "warn")
	// BM25 alone runs on a keyword-only index (256-token chunks); hybrid
	// runs on a USE-lite index, whose chunks are cut to the model's 128
	// tokens. Each is gated on the index a user would get.
	seen := 0
	for _, mode := range []string{"bm25", "hybrid"} {
		seen += qgRun(t, cran, mode)
	}
	if seen != len(qualityFloors) {
		t.Fatalf("expected runs %v in the reports, saw %d", qualityFloors, seen)
	}
}

func qgRun(t *testing.T, cran, mode string) int {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"eval", "--format", "cranfield", "--path", cran, "--mode", mode, "--json"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("ragd eval --mode %s exited %d: %s", mode, code, errb.String())
	}
	var rep struct {
		Dataset string `json:"dataset"`
		Queries int    `json:"queries"`
		Runs    []struct {
			Mode  string  `json:"mode"`
			NDCG  float64 `json:"ndcg_at_10"`
			MAP   float64 `json:"map"`
			R100  float64 `json:"recall_at_100"`
			P10   float64 `json:"p_at_10"`
			MRR10 float64 `json:"mrr_at_10"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("eval --json output: %v\n%s", err, out.String())
	}
	if rep.Queries != 225 {
		t.Errorf("judged queries = %d, want 225", rep.Queries)
	}
	seen := 0
	for _, r := range rep.Runs {
		t.Logf("%-12s nDCG@10 %.4f  MAP %.4f  R@100 %.4f  P@10 %.4f  MRR@10 %.4f", r.Mode, r.NDCG, r.MAP, r.R100, r.P10, r.MRR10)
		f, ok := qualityFloors[r.Mode]
		if !ok {
			continue
		}
		seen++
		if r.NDCG < f.ndcg {
			t.Errorf("%s nDCG@10 %.4f fell below the floor %.4f", r.Mode, r.NDCG, f.ndcg)
		}
		if r.MAP < f.ap {
			t.Errorf("%s MAP %.4f fell below the floor %.4f", r.Mode, r.MAP, f.ap)
		}
	}
	return seen
}
