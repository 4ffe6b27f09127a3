package eval

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/ragd/ragd/data"
)

// bm25Fake is a small in-memory BM25 (k1 1.2, b 0.75, Lucene idf, no
// stemming or stop words) over title + text, one chunk per document: enough
// to drive the harness over a real collection without the index package.
type bm25Fake struct {
	ids      []string
	postings map[string][]posting
	length   []float64
	avg      float64
}

type posting struct{ doc, tf int }

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func newBM25Fake(docs []data.Document) *bm25Fake {
	b := &bm25Fake{postings: map[string][]posting{}}
	var total float64
	for i, d := range docs {
		tf := map[string]int{}
		toks := tokens(d.Title + " " + d.Text)
		for _, t := range toks {
			tf[t]++
		}
		for t, f := range tf {
			b.postings[t] = append(b.postings[t], posting{i, f})
		}
		b.ids = append(b.ids, d.ID)
		b.length = append(b.length, float64(len(toks)))
		total += float64(len(toks))
	}
	b.avg = total / float64(len(docs))
	return b
}

func (b *bm25Fake) Search(_ context.Context, q data.Query) ([]data.Hit, error) {
	n := float64(len(b.ids))
	scores := make([]float64, len(b.ids))
	for _, t := range tokens(q.Text) {
		ps := b.postings[t]
		df := float64(len(ps))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range ps {
			f := float64(p.tf)
			scores[p.doc] += idf * f * 2.2 / (f + 1.2*(0.25+0.75*b.length[p.doc]/b.avg))
		}
	}
	var hits []data.Hit
	for i, s := range scores {
		if s > 0 {
			hits = append(hits, data.Hit{DocID: b.ids[i], ChunkID: data.ChunkID(b.ids[i], 0), Score: s})
		}
	}
	return hits, nil
}

// TestCranfieldThroughHarness runs all 225 Cranfield queries through a
// plain BM25, then checks that the run file it writes scores the same when
// read back (trec_eval's view of it), and that the numbers are in the range
// BM25 reaches on Cranfield (published BM25 runs: nDCG@10 about 0.3-0.45).
func TestCranfieldThroughHarness(t *testing.T) {
	ds, err := LoadDataset("cranfield", sharedDir(t, "datasets/cranfield"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(context.Background(), ds, newBM25Fake(ds.Docs), RunConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rr := rep.Runs[0]
	if rep.Queries != 225 || len(rr.PerQuery) != 225 {
		t.Fatalf("queries %d", rep.Queries)
	}
	t.Logf("plain BM25 on Cranfield: nDCG@10 %.4f MAP %.4f R@100 %.4f P@10 %.4f MRR@10 %.4f",
		rr.NDCG10, rr.AP, rr.Recall100, rr.P10, rr.RR10)
	if rr.NDCG10 < 0.25 || rr.NDCG10 > 0.5 || rr.AP < 0.2 || rr.AP > 0.45 {
		t.Errorf("nDCG@10 %.4f MAP %.4f outside BM25's range on Cranfield", rr.NDCG10, rr.AP)
	}
	var run, qrels bytes.Buffer
	if err := WriteTRECRun(&run, &rr, ""); err != nil {
		t.Fatal(err)
	}
	if err := WriteTRECQrels(&qrels, ds); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(qrels.String(), "\n"); n != 1837 {
		t.Errorf("qrels lines %d, want 1837", n)
	}
	rd, err := ReadTRECRun(&run)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ReadTRECQrels(&qrels, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ScoreRun("bm25", rd, q)
	if err != nil {
		t.Fatal(err)
	}
	if !metricsNear(back.Metrics, rr.Metrics) {
		t.Errorf("run file scores %+v, harness %+v", back.Metrics, rr.Metrics)
	}
}
