package eval_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/eval"
)

// overlapSearcher scores documents by the number of query words they share:
// a stand-in for the index package's searcher.
type overlapSearcher struct{ docs []data.Document }

func (s overlapSearcher) AddDocuments(_ context.Context, docs []data.Document) error {
	return nil
}

func (s overlapSearcher) Search(_ context.Context, q data.Query) ([]data.Hit, error) {
	words := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(q.Text)) {
		words[strings.Trim(w, ".?,")] = true
	}
	var hits []data.Hit
	for _, d := range s.docs {
		n := 0
		for _, w := range strings.Fields(strings.ToLower(d.Title + " " + d.Text)) {
			if words[strings.Trim(w, ".?,")] {
				n++
			}
		}
		if n > 0 {
			hits = append(hits, data.Hit{DocID: d.ID, ChunkID: data.ChunkID(d.ID, 0), Score: float64(n)})
		}
	}
	return hits, nil
}

// On the BEIR test collection: q1 finds d1 (gain 2) first but misses d2
// (gain 1): nDCG 2/(2+1/log2 3) = 0.7602, AP 0.5; q2 and q3 are perfect.
func ExampleEvaluate() {
	ds, err := eval.LoadDataset("beir", "testdata/beir", eval.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := eval.Evaluate(context.Background(), ds, overlapSearcher{ds.Docs}, eval.RunConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Runs {
		fmt.Printf("%s on %d queries: nDCG@10 %.4f MAP %.4f MRR@10 %.4f\n", r.Mode, rep.Queries, r.NDCG10, r.AP, r.RR10)
	}
	// Output:
	// bm25 on 3 queries: nDCG@10 0.9201 MAP 0.8333 MRR@10 1.0000
}

// d1 (gain 2) at rank 3 gives DCG 2/log2(4) = 1; the ideal is
// 2 + 1/log2(3) = 2.6309, so nDCG@10 = 0.3801.
func ExampleScore() {
	ranking := []eval.ScoredDoc{{DocID: "d7", Score: 2.5}, {DocID: "d1", Score: 1.0}, {DocID: "d3", Score: 1.0}}
	eval.SortTREC(ranking) // ties: docno descending, as trec_eval
	m := eval.Score(ranking, map[string]float64{"d1": 2, "d9": 1})
	fmt.Printf("order %s %s %s\n", ranking[0].DocID, ranking[1].DocID, ranking[2].DocID)
	fmt.Printf("nDCG@10 %.4f AP %.4f P@10 %.2f RR %.4f\n", m.NDCG10, m.AP, m.P10, m.RR10)
	// Output:
	// order d7 d3 d1
	// nDCG@10 0.3801 AP 0.1667 P@10 0.10 RR 0.3333
}

func ExampleParseSweep() {
	sp, err := eval.ParseSweep("alpha=0:1:0.25")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sp.Values())
	// Output:
	// [0 0.25 0.5 0.75 1]
}

func ExampleWriteTRECRun() {
	rr := &eval.RunResult{Mode: "bm25", PerQuery: []eval.QueryResult{{
		QueryID: "1", Ranking: []eval.ScoredDoc{{DocID: "12", Score: 3.25}, {DocID: "40", Score: 7}},
	}}}
	if err := eval.WriteTRECRun(os.Stdout, rr, ""); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1 Q0 40 1 7 bm25
	// 1 Q0 12 2 3.25 bm25
}
