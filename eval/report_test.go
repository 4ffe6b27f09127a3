package eval

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sampleReport() *Report {
	r := &Report{Dataset: "cranfield <test>", Queries: 3}
	for i, name := range []string{"bm25", "vector", "hybrid-rrf"} {
		v := 0.2 + 0.1*float64(i)
		rr := RunResult{Mode: name, Metrics: Metrics{NDCG10: v, AP: v - 0.05, Recall100: v + 0.3, P10: v / 2, RR10: v + 0.1}, LatencyP50MS: 1.5, LatencyP99MS: 3}
		rr.PerQuery = []QueryResult{{QueryID: "1", Metrics: rr.Metrics, NumRel: 2, Retrieved: 100, LatencyMS: 1.5}}
		r.Runs = append(r.Runs, rr)
	}
	r.Sweep = &SweepResult{Spec: "alpha=0:1:0.5", BestAlpha: 0.5, DevQueries: 2, TestQueries: 1, Points: []SweepPoint{
		{Alpha: 0, DevNDCG10: 0.3, TestNDCG10: 0.31}, {Alpha: 0.5, DevNDCG10: 0.4, TestNDCG10: 0.38}, {Alpha: 1, DevNDCG10: 0.35, TestNDCG10: 0.33},
	}}
	return r
}

func TestWriteJSONShape(t *testing.T) {
	r := sampleReport()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dataset", "queries", "runs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	run := m["runs"].([]any)[0].(map[string]any)
	for _, k := range []string{"mode", "ndcg_at_10", "map", "recall_at_100", "p_at_10", "mrr_at_10", "latency_p50_ms"} {
		if _, ok := run[k]; !ok {
			t.Errorf("run lacks %q: %v", k, run)
		}
	}
	if _, ok := run["per_query"]; ok {
		t.Error("per_query written without perQuery")
	}
	if run["mode"] != "bm25" || run["ndcg_at_10"] != 0.2 {
		t.Errorf("run = %v", run)
	}

	buf.Reset()
	if err := WriteJSON(&buf, r, true); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, r)
	}
	if _, err := ReadReport(strings.NewReader(`{"dataset":"x","runs":[]}`)); !errors.Is(err, ErrFormat) {
		t.Errorf("empty runs: %v", err)
	}
}

func TestWriteTableAndMarkdown(t *testing.T) {
	r := sampleReport()
	var tb, md bytes.Buffer
	if err := WriteTable(&tb, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nDCG@10", "hybrid-rrf", "0.4000", "best alpha 0.50", "0.50 *"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
	for _, want := range []string{"| mode | nDCG@10 |", "| vector | 0.3000 | 0.2500 | 0.6000 | 0.1500 | 0.4000 | 1.50 | 3.00 |", "**alpha = 0.50**"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	c, err := Compare(&Report{Runs: r.Runs[:1]}, &Report{Runs: r.Runs[1:2]}, CompareOptions{Permutations: 100})
	if err != nil {
		t.Fatal(err)
	}
	var cb bytes.Buffer
	if err := WriteComparison(&cb, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cb.String(), "A = bm25") || !strings.Contains(cb.String(), "+0.1000") {
		t.Errorf("comparison:\n%s", cb.String())
	}
}

// svgStats parses an SVG document with encoding/xml (failing on malformed
// XML) and counts elements and collects text.
func svgStats(t *testing.T, doc []byte) (map[string]int, string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	counts := map[string]int{}
	var text strings.Builder
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("malformed SVG: %v\n%s", err, doc)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = v.Name.Local
				if v.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root namespace %q", v.Name.Space)
				}
			}
			counts[v.Name.Local]++
		case xml.CharData:
			text.Write(v)
			text.WriteByte('|')
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
	return counts, text.String()
}

func TestBarChartSVG(t *testing.T) {
	r := sampleReport()
	var buf bytes.Buffer
	if err := WriteBarChartSVG(&buf, r); err != nil {
		t.Fatal(err)
	}
	counts, text := svgStats(t, buf.Bytes())
	// Background + 15 bars (3 runs x 5 metrics) + 3 legend keys.
	if counts["rect"] != 1+15+3 {
		t.Errorf("rects = %d", counts["rect"])
	}
	for _, want := range []string{"Retrieval quality on cranfield <test>", "|score|", "|metric|", "|nDCG@10|", "|MRR@10|", "|bm25|", "|hybrid-rrf|", "|0.00|", "|1.00|"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q: %s", want, text)
		}
	}
	if err := WriteBarChartSVG(&buf, &Report{}); !errors.Is(err, ErrNoQueries) {
		t.Errorf("empty report: %v", err)
	}
}

func TestSweepSVG(t *testing.T) {
	r := sampleReport()
	var buf bytes.Buffer
	if err := WriteSweepSVG(&buf, r.Sweep); err != nil {
		t.Fatal(err)
	}
	counts, text := svgStats(t, buf.Bytes())
	if counts["polyline"] != 2 || counts["circle"] != 6 {
		t.Errorf("polylines %d circles %d", counts["polyline"], counts["circle"])
	}
	for _, want := range []string{"|nDCG@10|", "alpha (weight of the vector score)", "dev (2 queries)", "test (1 queries)", "chosen alpha 0.50"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q: %s", want, text)
		}
	}
	if err := WriteSweepSVG(&buf, nil); !errors.Is(err, ErrNoQueries) {
		t.Errorf("nil sweep: %v", err)
	}
}

func TestWriteAll(t *testing.T) {
	r := sampleReport()
	r.Runs[0].PerQuery[0].Ranking = []ScoredDoc{{"d1", 2}, {"d2", 1}}
	dir := filepath.Join(t.TempDir(), "out")
	ds := smallDataset()
	paths, err := WriteAll(dir, ds, r)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	want := []string{"report.json", "report.md", "report.txt", "metrics.svg", "sweep.svg", "qrels.txt", "bm25.run", "vector.run", "hybrid-rrf.run"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("wrote %v, want %v", names, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bm25.run"))
	if err != nil || string(b) != "1 Q0 d1 1 2 bm25\n1 Q0 d2 2 1 bm25\n" {
		t.Errorf("bm25.run = %q, %v", b, err)
	}
	f, err := os.Open(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if back, err := ReadReport(f); err != nil || back.Runs[2].Mode != "hybrid-rrf" {
		t.Errorf("report.json read back: %v", err)
	}
	for in, want := range map[string]string{"hybrid-convex@0.30 (tuned)": "hybrid-convex_0.30__tuned_.run", "": "run.run", "bm25+rerank": "bm25+rerank.run"} {
		if got := RunFileName(in); got != want {
			t.Errorf("RunFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
