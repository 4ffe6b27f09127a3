package annbench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Result is one row: one index at one efSearch (ef 0 for the exact scan).
type Result struct {
	Index string `json:"index"`
	Ef    int    `json:"ef"`
	// RecallAt10 is the mean fraction of the exact top-k found (k from
	// Config.K, 10 by default).
	RecallAt10 float64 `json:"recall_at_10"`
	// QPS is queries per second on one goroutine; QPS2T on two.
	QPS   float64 `json:"qps"`
	QPS2T float64 `json:"qps_2t"`
	// SpeedupVsExact is QPS divided by the exact scan's QPS.
	SpeedupVsExact float64 `json:"speedup_vs_exact,omitempty"`
	// SpeedupVsExactCPU compares queries per CPU-second instead.
	SpeedupVsExactCPU float64 `json:"speedup_vs_exact_cpu,omitempty"`
	// BuildInsertsPerS is vectors inserted per second while building.
	BuildInsertsPerS float64 `json:"build_inserts_per_s"`
	// BytesPerVector is the growth of the live Go heap while building,
	// less the raw float32 vectors (n*dim*4) the index copied, per vector:
	// graph, ids, maps, codes and slack. coder-hnsw keeps the caller's
	// vectors without copying, so nothing is subtracted for it.
	BytesPerVector float64 `json:"bytes_per_vector"`
	// VectorBytesPerVector is the resident vector memory per vector. For
	// ragd's indexes it is the loaded index's Stats.VectorBytes / n: dim*4
	// for float32; for int8 the codes and their scale (dim+4), the float
	// vectors used for re-scoring being mapped from the file. The exact
	// scan and coder-hnsw hold dim*4.
	VectorBytesPerVector float64 `json:"vector_bytes_per_vector,omitempty"`
	// LoadS is the time to load the saved index from a file.
	LoadS float64 `json:"load_s"`
	// QPSPerCPUS and BuildInsertsPerCPUS divide by the process CPU time
	// (user+system, all threads) instead of wall time: on a shared,
	// oversubscribed machine they estimate what an idle core would do.
	QPSPerCPUS          float64 `json:"qps_per_cpu_s,omitempty"`
	BuildInsertsPerCPUS float64 `json:"build_inserts_per_cpu_s,omitempty"`
	// Note says what a derived row measures.
	Note string `json:"note,omitempty"`
	// Error is set when the index failed (a panic in coder-hnsw).
	Error string `json:"error,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Results []Result `json:"results"`
	Config  Config   `json:"config"`
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a human-readable table.
func (r *Report) WriteTable(w io.Writer) error {
	c := r.Config
	fmt.Fprintf(w, "ANN benchmark: n=%d dim=%d k=%d queries=%d data=%s M=%d efConstruction=%d workers=%d\n",
		c.N, c.Dim, c.K, c.Queries, c.Data, c.M, c.EfConstruction, c.Workers)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "index\tef\trecall@k\tqps\tqps_2t\tx exact\tq/cpu-s\tx exact cpu\tbuild/s\tbuild/cpu-s\tB/vec\tvecB/vec\tload_s\tnote\t")
	for _, x := range r.Results {
		note := x.Note
		if x.Error != "" {
			note = "ERROR: " + x.Error
		}
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.0f\t%.0f\t%.1f\t%.0f\t%.1f\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\t%s\t\n",
			x.Index, x.Ef, x.RecallAt10, x.QPS, x.QPS2T, x.SpeedupVsExact, x.QPSPerCPUS, x.SpeedupVsExactCPU, x.BuildInsertsPerS,
			x.BuildInsertsPerCPUS, x.BytesPerVector, x.VectorBytesPerVector, x.LoadS, note)
	}
	return tw.Flush()
}
