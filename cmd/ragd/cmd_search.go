package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
)

func init() {
	register(&command{name: "search", summary: "search an index (bm25, vector or hybrid)", run: runSearch})
}

// hitJSON is the stable JSON shape of a hit for scripts.
type hitJSON struct {
	DocID    string         `json:"doc_id"`
	ChunkID  string         `json:"chunk_id"`
	Score    float64        `json:"score"`
	Source   string         `json:"source"`
	Title    string         `json:"title"`
	Text     string         `json:"text"`
	Start    int            `json:"start"`
	End      int            `json:"end"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Explain  *data.Explain  `json:"explain,omitempty"`
}

func toHitJSON(hits []data.Hit) []hitJSON {
	out := make([]hitJSON, len(hits))
	for i, h := range hits {
		out[i] = hitJSON{DocID: h.DocID, ChunkID: h.ChunkID, Score: h.Score, Source: h.Source, Title: h.Title,
			Text: h.Text, Start: h.Start, End: h.End, Metadata: h.Metadata, Explain: h.Explain}
	}
	return out
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "search", "search --index NAME [--mode bm25|vector|hybrid] [--top-k N] [--filter k=v] [--json] QUERY")
	name := fs.String("index", "default", "index name")
	mode := fs.String("mode", "", "bm25, vector or hybrid (default: hybrid when the index has a model, else bm25)")
	topK := fs.Int("top-k", 10, "number of hits")
	var filters multiFlag
	fs.Var(&filters, "filter", "metadata filter k=v, k!=v, k>=n, k<n, k=a|b (repeatable)")
	filterJSON := fs.String("filter-json", "", `metadata filter as JSON, e.g. {"year":{"$gte":2000}}`)
	fusion := fs.String("fusion", "rrf", "hybrid fusion: rrf or convex")
	alpha := fs.Float64("alpha", 0.5, "convex fusion weight of the vector side (0..1)")
	rrfK := fs.Int("rrf-k", 60, "reciprocal rank fusion constant")
	vector := fs.String("vector", "", "query vector as a JSON array (vector mode without an embedder)")
	namespace := fs.String("namespace", "", "restrict to a namespace")
	rerank := fs.Bool("rerank", false, "re-score the top hits with the configured cross-encoder")
	explain := fs.Bool("explain", false, "show per-retriever scores and ranks")
	ef := fs.Int("ef", 0, "HNSW search breadth (0 = index default)")
	asJSON := fs.Bool("json", false, `print {"hits":[...],"took_ms"}`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	q := data.Query{Text: strings.Join(pos, " "), TopK: *topK, Mode: data.Mode(*mode), Fusion: data.Fusion(*fusion),
		Alpha: *alpha, RRFK: *rrfK, Namespace: *namespace, Rerank: *rerank, Explain: *explain || *asJSON, Ef: *ef}
	if q.Filter, err = data.ParseFilterKV(filters); err != nil {
		return err
	}
	if *filterJSON != "" {
		fj, err := data.ParseFilterJSON([]byte(*filterJSON))
		if err != nil {
			return err
		}
		q.Filter.Conds = append(q.Filter.Conds, fj.Conds...)
	}
	if *vector != "" {
		if err := json.Unmarshal([]byte(*vector), &q.Vector); err != nil {
			return usageErr("--vector must be a JSON array of numbers: %v", err)
		}
	}
	if strings.TrimSpace(q.Text) == "" && len(q.Vector) == 0 {
		return usageErr("no query given; try: ragd search --index docs \"how do I ...\"")
	}
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	hits, err := a.service(nil).Search(ctx, *name, q)
	if err != nil {
		return err
	}
	took := float64(time.Since(start).Microseconds()) / 1000
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"hits": toHitJSON(hits), "took_ms": took})
	}
	printHits(e.stdout, hits, *explain)
	fmt.Fprintf(e.stdout, "%d hits in %.1f ms\n", len(hits), took)
	return nil
}

func printHits(w io.Writer, hits []data.Hit, explain bool) {
	for i, h := range hits {
		title := h.Title
		if title == "" {
			title = h.DocID
		}
		fmt.Fprintf(w, "%2d. %s  (score %.4f)\n    %s  [%s, bytes %d-%d]\n", i+1, title, h.Score, h.Source, h.ChunkID, h.Start, h.End)
		fmt.Fprintf(w, "    %s\n", snippet(h.Text, 240))
		if explain && h.Explain != nil {
			var parts []string
			if b := h.Explain.BM25; b != nil {
				parts = append(parts, "bm25 "+strconv.FormatFloat(b.Score, 'f', 4, 64)+" #"+strconv.Itoa(b.Rank))
			}
			if v := h.Explain.Vector; v != nil {
				parts = append(parts, "vector "+strconv.FormatFloat(v.Score, 'f', 4, 64)+" #"+strconv.Itoa(v.Rank))
			}
			if r := h.Explain.Rerank; r != nil {
				parts = append(parts, "rerank "+strconv.FormatFloat(*r, 'f', 4, 64))
			}
			fmt.Fprintf(w, "    explain: %s\n", strings.Join(parts, ", "))
		}
	}
}

// snippet collapses whitespace and cuts at a word boundary.
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
	}
	for cut > 0 && cut < len(s) && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " …"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
