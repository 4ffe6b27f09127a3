package eval

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteAll writes every output of a report into dir (created if needed)
// and returns the paths written:
//
//	report.json     WriteJSON with per-query results
//	report.md       WriteMarkdown
//	report.txt      WriteTable
//	metrics.svg     WriteBarChartSVG
//	sweep.svg       WriteSweepSVG (when the report has a sweep)
//	qrels.txt       WriteTRECQrels (when ds is not nil)
//	<run>.run       WriteTRECRun per run, named by RunFileName
func WriteAll(dir string, ds *Dataset, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("eval: output directory: %w", err)
	}
	var written []string
	put := func(name string, fill func(*bytes.Buffer) error) error {
		var b bytes.Buffer
		if err := fill(&b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		written = append(written, p)
		return nil
	}
	steps := []outputStep{
		{"report.json", func(b *bytes.Buffer) error { return WriteJSON(b, r, true) }},
		{"report.md", func(b *bytes.Buffer) error { return WriteMarkdown(b, r) }},
		{"report.txt", func(b *bytes.Buffer) error { return WriteTable(b, r) }},
		{"metrics.svg", func(b *bytes.Buffer) error { return WriteBarChartSVG(b, r) }},
	}
	if r.Sweep != nil {
		steps = append(steps, outputStep{"sweep.svg", func(b *bytes.Buffer) error { return WriteSweepSVG(b, r.Sweep) }})
	}
	if ds != nil {
		steps = append(steps, outputStep{"qrels.txt", func(b *bytes.Buffer) error { return WriteTRECQrels(b, ds) }})
	}
	for i := range r.Runs {
		rr := &r.Runs[i]
		steps = append(steps, outputStep{RunFileName(rr.Mode), func(b *bytes.Buffer) error { return WriteTRECRun(b, rr, "") }})
	}
	for _, s := range steps {
		if err := put(s.name, s.fill); err != nil {
			return written, err
		}
	}
	return written, nil
}

// outputStep is one file WriteAll writes.
type outputStep struct {
	name string
	fill func(*bytes.Buffer) error
}

// RunFileName turns a run name into a file name: letters, digits, '.', '-'
// and '+' are kept, anything else becomes '_'; ".run" is appended.
func RunFileName(mode string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(mode) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '+':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		b.WriteString("run")
	}
	return b.String() + ".run"
}
