// Command trecscore scores a TREC run file with ragd's eval metrics, in the
// layout trec_eval prints ("measure all value"), so the two can be diffed.
//
//	go run ./scripts/eval/trecscore -dataset ../shared/datasets/cranfield \
//	    -write-qrels /tmp/cran.qrels -run wink-bm25.run
//	go run ./scripts/eval/trecscore -qrels /tmp/cran.qrels -run wink-bm25.run
//
// With -dataset the judgements come from the collection (gains as
// LoadDataset maps them, e.g. 5 - r for Cranfield) and can be written as a
// TREC qrels file for trec_eval. The trec_eval equivalents are
// trec_eval -c -m ndcg_cut.10 -m map -m recall.100 -m P.10 QRELS RUN and
// trec_eval -c -M 10 -m recip_rank QRELS RUN.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ragd/ragd/eval"
)

func main() {
	var (
		dsPath  = flag.String("dataset", "", "dataset directory (alternative to -qrels)")
		format  = flag.String("format", "", "dataset format (default: detect)")
		qrels   = flag.String("qrels", "", "TREC qrels file")
		runPath = flag.String("run", "", "TREC run file to score")
		writeQ  = flag.String("write-qrels", "", "write the dataset's judgements as TREC qrels here")
		perQ    = flag.Bool("q", false, "print per-query values too")
	)
	flag.Parse()
	if err := run(*dsPath, *format, *qrels, *runPath, *writeQ, *perQ); err != nil {
		fmt.Fprintln(os.Stderr, "trecscore:", err)
		os.Exit(1)
	}
}

func run(dsPath, format, qrelsPath, runPath, writeQ string, perQ bool) error {
	var q eval.Qrels
	switch {
	case dsPath != "":
		ds, err := eval.LoadDataset(format, dsPath, eval.LoadOptions{})
		if err != nil {
			return err
		}
		q = ds.Qrels
		if writeQ != "" {
			f, err := os.Create(writeQ)
			if err != nil {
				return err
			}
			if err := eval.WriteTRECQrels(f, ds); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
	case qrelsPath != "":
		f, err := os.Open(qrelsPath)
		if err != nil {
			return err
		}
		defer f.Close()
		if q, err = eval.ReadTRECQrels(f, nil); err != nil {
			return err
		}
	default:
		return fmt.Errorf("need -dataset or -qrels")
	}
	if runPath == "" {
		return nil
	}
	f, err := os.Open(runPath)
	if err != nil {
		return err
	}
	defer f.Close()
	runs, err := eval.ReadTRECRun(f)
	if err != nil {
		return err
	}
	rr, err := eval.ScoreRun(runPath, runs, q)
	if err != nil {
		return err
	}
	names := []string{"ndcg_cut_10", "map", "recall_100", "P_10", "recip_rank@10"}
	get := func(m eval.Metrics) []float64 { return []float64{m.NDCG10, m.AP, m.Recall100, m.P10, m.RR10} }
	if perQ {
		for _, pq := range rr.PerQuery {
			for i, v := range get(pq.Metrics) {
				fmt.Printf("%-15s\t%s\t%.4f\n", names[i], pq.QueryID, v)
			}
		}
	}
	fmt.Printf("%-15s\tall\t%d\n", "num_q", len(rr.PerQuery))
	for i, v := range get(rr.Metrics) {
		fmt.Printf("%-15s\tall\t%.6f\n", names[i], v)
	}
	return nil
}
