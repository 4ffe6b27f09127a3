package eval

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// WriteTRECRun writes a run as a TREC run file, one line per document:
// "qid Q0 docid rank score tag". Rankings are written in trec_eval order
// with 1-based ranks and scores in shortest round-trip form, so trec_eval
// reads back exactly the order that was scored. tag defaults to the run's
// name with spaces replaced.
func WriteTRECRun(w io.Writer, rr *RunResult, tag string) error {
	if tag == "" {
		tag = rr.Mode
	}
	tag = strings.Join(strings.Fields(tag), "_")
	if tag == "" {
		tag = "ragd"
	}
	bw := bufio.NewWriter(w)
	for _, q := range rr.PerQuery {
		ranking := append([]ScoredDoc(nil), q.Ranking...)
		SortTREC(ranking)
		for i, d := range ranking {
			if strings.ContainsAny(d.DocID, " \t\n") || d.DocID == "" {
				return fmt.Errorf("%w: document id %q cannot be written to a run file", ErrFormat, d.DocID)
			}
			if math.IsNaN(d.Score) || math.IsInf(d.Score, 0) {
				return fmt.Errorf("%w: query %s document %s has score %v", ErrFormat, q.QueryID, d.DocID, d.Score)
			}
			fmt.Fprintf(bw, "%s Q0 %s %d %s %s\n", q.QueryID, d.DocID, i+1,
				strconv.FormatFloat(d.Score, 'g', -1, 64), tag)
		}
	}
	return bw.Flush()
}

// ReadTRECRun reads a TREC run file ("qid Q0 docid rank score tag") into
// per-query rankings in trec_eval order. Ranks are ignored, as trec_eval
// ignores them. A document listed twice for a query is an error.
func ReadTRECRun(r io.Reader) (map[string][]ScoredDoc, error) {
	run := map[string][]ScoredDoc{}
	seen := map[string]map[string]bool{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 6 {
			return nil, fmt.Errorf("%w: run line %d: want \"qid Q0 docid rank score tag\", got %d fields", ErrFormat, line, len(f))
		}
		score, err := strconv.ParseFloat(f[4], 64)
		if err != nil || math.IsNaN(score) {
			return nil, fmt.Errorf("%w: run line %d: score %q is not a number", ErrFormat, line, f[4])
		}
		qid, doc := f[0], f[2]
		if seen[qid] == nil {
			seen[qid] = map[string]bool{}
		}
		if seen[qid][doc] {
			return nil, fmt.Errorf("%w: run line %d: document %s listed twice for query %s", ErrFormat, line, doc, qid)
		}
		seen[qid][doc] = true
		run[qid] = append(run[qid], ScoredDoc{DocID: doc, Score: score})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read run: %w", err)
	}
	for _, ranking := range run {
		SortTREC(ranking)
	}
	return run, nil
}

// WriteTRECQrels writes the judgements of the evaluated queries (those with
// a relevant document) as "qid 0 docid gain". Gains are what trec_eval
// reads as relevance, so they are written as integers; a fractional gain is
// an error. Queries come in query order, documents sorted by id.
func WriteTRECQrels(w io.Writer, ds *Dataset) error {
	bw := bufio.NewWriter(w)
	for _, qid := range ds.JudgedQueryIDs() {
		docs := make([]string, 0, len(ds.Qrels[qid]))
		for d := range ds.Qrels[qid] {
			docs = append(docs, d)
		}
		sort.Strings(docs)
		for _, d := range docs {
			g := ds.Qrels[qid][d]
			if g != math.Trunc(g) || g < 0 {
				return fmt.Errorf("%w: query %s document %s: gain %v is not a non-negative integer", ErrFormat, qid, d, g)
			}
			fmt.Fprintf(bw, "%s 0 %s %d\n", qid, d, int64(g))
		}
	}
	return bw.Flush()
}
