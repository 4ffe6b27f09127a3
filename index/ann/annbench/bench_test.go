package annbench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
)

var full = flag.Bool("full", false, "run the full 100k x 384 benchmark (TestFull)")

func TestRunTiny(t *testing.T) {
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Config{N: 3000, Dim: 32, Queries: 50, Efs: []int{16, 128}, Seed: 3}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]Result{}
	for _, r := range rep.Results {
		rows[r.Index] = append(rows[r.Index], r)
	}
	for _, name := range []string{HNSW, HNSWInt8, CoderHNSW, HNSWDelete30, HNSWFilter1, HNSWFilter20} {
		if len(rows[name]) != 2 {
			t.Fatalf("%s: %d rows", name, len(rows[name]))
		}
	}
	if ex := rows[Exact]; len(ex) != 1 || ex[0].RecallAt10 != 1 || ex[0].QPS <= 0 {
		t.Fatalf("exact row %+v", ex)
	}
	for _, name := range []string{HNSW, HNSWInt8, HNSWDelete30, HNSWFilter1, HNSWFilter20} {
		hi := rows[name][1] // ef 128
		if hi.RecallAt10 < 0.95 || hi.QPS <= 0 || hi.QPS2T <= 0 {
			t.Errorf("%s ef=128: %+v", name, hi)
		}
		if lo := rows[name][0]; lo.RecallAt10 > hi.RecallAt10+0.02 {
			t.Errorf("%s: recall fell with ef: %.3f -> %.3f", name, lo.RecallAt10, hi.RecallAt10)
		}
	}
	for _, name := range []string{HNSW, HNSWInt8} {
		r := rows[name][0]
		if r.BuildInsertsPerS <= 0 || r.LoadS <= 0 || r.BytesPerVector <= 0 {
			t.Errorf("%s: %+v", name, r)
		}
	}
	// resident vector memory of the loaded indexes: float32, or int8 codes
	// and a scale with the floats mapped from the file
	if f32, q8 := rows[HNSW][0].VectorBytesPerVector, rows[HNSWInt8][0].VectorBytesPerVector; f32 != 4*32 || q8 != 32+4 {
		t.Errorf("vector bytes per vector: float %v (want 128), int8 %v (want 36)", f32, q8)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Fatalf("json: %v", err)
	}
	for _, key := range []string{"index", "ef", "recall_at_10", "qps", "qps_2t", "build_inserts_per_s", "bytes_per_vector", "load_s"} {
		if _, ok := back.Results[0][key]; !ok {
			t.Fatalf("json row lacks %q: %v", key, back.Results[0])
		}
	}
	var tab bytes.Buffer
	if err := rep.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.String(), "hnsw-int8") || progress.Len() == 0 {
		t.Fatalf("table:\n%s", tab.String())
	}
	t.Logf("\n%s", tab.String())
}

func TestFvecsRoundTrip(t *testing.T) {
	vs := Clustered(1, 0, 10, 5)
	var buf bytes.Buffer
	if err := WriteFvecs(&buf, vs); err != nil {
		t.Fatal(err)
	}
	raw := append([]byte(nil), buf.Bytes()...)
	got, err := ReadFvecs(bytes.NewReader(raw), 0)
	if err != nil || len(got) != 10 {
		t.Fatalf("read: %d, %v", len(got), err)
	}
	for i := range vs {
		for j := range vs[i] {
			if got[i][j] != vs[i][j] {
				t.Fatalf("vector %d differs", i)
			}
		}
	}
	if got, _ := ReadFvecs(bytes.NewReader(raw), 3); len(got) != 3 {
		t.Fatalf("limit: %d", len(got))
	}
	if _, err := ReadFvecs(bytes.NewReader(raw[:len(raw)-3]), 0); err == nil {
		t.Fatal("truncated fvecs accepted")
	}
	// a file as --data: first N indexed, the rest are queries
	path := t.TempDir() + "/d.fvecs"
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{N: 6, Queries: 4, Data: path}
	c, _ = c.withDefaults()
	base, qs, err := c.load()
	if err != nil || len(base) != 6 || len(qs) != 4 || c.Dim != 5 {
		t.Fatalf("load: %d %d %v dim %d", len(base), len(qs), err, c.Dim)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{N: -1}, {Efs: []int{0}}, {Indexes: []string{"faiss"}}, {Data: "x.csv"}} {
		if _, err := Run(context.Background(), c, nil); err == nil {
			t.Errorf("Run(%+v) accepted", c)
		}
	}
}

func TestClusteredDeterministic(t *testing.T) {
	a, b := Clustered(5, 0, 20, 8), Clustered(5, 0, 20, 8)
	q := Clustered(5, 1, 20, 8)
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatal("same seed, different data")
			}
		}
	}
	if a[0][0] == q[0][0] {
		t.Fatal("queries equal data")
	}
}

// TestFull runs the full benchmark: go test ./index/ann/annbench -run TestFull -full -timeout 30m -v
func TestFull(t *testing.T) {
	if !*full {
		t.Skip("pass -full")
	}
	rep, err := Run(context.Background(), Config{}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	rep.WriteTable(&tab)
	t.Logf("\n%s", tab.String())
	var js bytes.Buffer
	rep.WriteJSON(&js)
	t.Logf("\n%s", js.String())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var midN = flag.Int("mid", 0, "TestMid: run a mid-size benchmark with this many vectors")

func TestMid(t *testing.T) {
	if *midN == 0 {
		t.Skip("pass -mid N")
	}
	rep, err := Run(context.Background(), Config{N: *midN, Queries: 300, Indexes: []string{HNSW, Exact}, Efs: []int{16, 32, 64, 128}}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	rep.WriteTable(&tab)
	t.Logf("\n%s", tab.String())
}
