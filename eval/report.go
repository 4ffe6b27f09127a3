package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON:
//
//	{"dataset":..., "queries":..., "runs":[{"mode", "ndcg_at_10", "map",
//	 "recall_at_100", "p_at_10", "mrr_at_10", "latency_p50_ms", ...}], ...}
//
// Per-query results are included when perQuery is set (Compare needs them).
func WriteJSON(w io.Writer, r *Report, perQuery bool) error {
	out := *r
	if !perQuery {
		out.Runs = make([]RunResult, len(r.Runs))
		for i, rr := range r.Runs {
			rr.PerQuery = nil
			out.Runs[i] = rr
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("eval: write report: %w", err)
	}
	return nil
}

// ReadReport reads a report written by WriteJSON.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: report: %v", ErrFormat, err) //nolint:errorlint // cause kept as text: an io.EOF inside must not read as a clean end of input
	}
	if len(r.Runs) == 0 {
		return nil, fmt.Errorf("%w: report has no runs", ErrFormat)
	}
	return &r, nil
}

// WriteTable writes the report as an aligned plain-text table.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "dataset %s, %d judged queries\n", r.Dataset, r.Queries)
	fmt.Fprintln(tw, "mode\tnDCG@10\tMAP\tR@100\tP@10\tMRR@10\tp50 ms\tp99 ms\t")
	for _, rr := range r.Runs {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.2f\t\n", rr.Mode,
			rr.NDCG10, rr.AP, rr.Recall100, rr.P10, rr.RR10, rr.LatencyP50MS, rr.LatencyP99MS)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("eval: write table: %w", err)
	}
	if sw := r.Sweep; sw != nil {
		fmt.Fprintf(w, "\nsweep %s: best alpha %.2f on dev (%d queries); test %d queries\n",
			sw.Spec, sw.BestAlpha, sw.DevQueries, sw.TestQueries)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "alpha\tdev nDCG@10\ttest nDCG@10\tdev MAP\ttest MAP\t")
		for _, p := range sw.Points {
			mark := ""
			if p.Alpha == sw.BestAlpha {
				mark = " *"
			}
			fmt.Fprintf(tw, "%.2f%s\t%.4f\t%.4f\t%.4f\t%.4f\t\n", p.Alpha, mark, p.DevNDCG10, p.TestNDCG10, p.DevMAP, p.TestMAP)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("eval: write table: %w", err)
		}
	}
	return nil
}

// WriteMarkdown writes the report as markdown tables.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Retrieval quality: %s\n\n", mdEscape(r.Dataset))
	fmt.Fprintf(&b, "%d judged queries; metrics as trec_eval computes them.\n\n", r.Queries)
	b.WriteString("| mode | nDCG@10 | MAP | R@100 | P@10 | MRR@10 | p50 ms | p99 ms |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rr := range r.Runs {
		fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.2f | %.2f |\n", mdEscape(rr.Mode),
			rr.NDCG10, rr.AP, rr.Recall100, rr.P10, rr.RR10, rr.LatencyP50MS, rr.LatencyP99MS)
	}
	if sw := r.Sweep; sw != nil {
		fmt.Fprintf(&b, "\n### Alpha sweep (%s)\n\nChosen on dev (%d queries): **alpha = %.2f**; test has %d queries.\n\n",
			mdEscape(sw.Spec), sw.DevQueries, sw.BestAlpha, sw.TestQueries)
		b.WriteString("| alpha | dev nDCG@10 | test nDCG@10 | dev MAP | test MAP |\n|---:|---:|---:|---:|---:|\n")
		for _, p := range sw.Points {
			fmt.Fprintf(&b, "| %.2f | %.4f | %.4f | %.4f | %.4f |\n", p.Alpha, p.DevNDCG10, p.TestNDCG10, p.DevMAP, p.TestMAP)
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("eval: write markdown: %w", err)
	}
	return nil
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// WriteComparison writes a comparison as a plain-text table, one block per
// pair of runs. Deltas are B - A; W/L/T count queries where B wins, loses
// or ties.
func WriteComparison(w io.Writer, c *Comparison) error {
	for i, rc := range c.Runs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "A = %s (%s), B = %s (%s), %d common queries\n", rc.RunA, c.DatasetA, rc.RunB, c.DatasetB, rc.Queries)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "metric\tA\tB\tB-A\tW/L/T\tt\tp(t-test)\tp(rand)\t")
		for _, m := range rc.Metrics {
			fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%+.4f\t%d/%d/%d\t%.3f\t%.4f\t%.4f\t\n", m.Metric,
				m.MeanA, m.MeanB, m.Delta, m.Wins, m.Losses, m.Ties, m.T, m.TTestP, m.RandP)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("eval: write comparison: %w", err)
		}
	}
	return nil
}
