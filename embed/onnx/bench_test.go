package onnx

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/bert"
)

// miniLM builds (once per process) a random MiniLM-shaped model (6 × 384,
// 12 heads, 30,522 tokens) with the real tokenizer, mean pooling and
// max_seq_length 128, in a temporary directory removed by TestMain.
var miniLM struct {
	once sync.Once
	dir  string
	w    *bert.Weights
	err  error
}

func miniLMDir(tb testing.TB) (string, *bert.Weights) {
	tb.Helper()
	tj := tokenizerPath(tb)
	miniLM.once.Do(func() {
		miniLM.dir, miniLM.err = os.MkdirTemp("", "ragd-onnx-minilm-")
		if miniLM.err != nil {
			return
		}
		miniLM.w, miniLM.err = BuildRandomModel(filepath.Join(miniLM.dir, "minilm-random"), RandomModelOptions{
			Config: bert.MiniLMConfig(), Seed: 11, TokenizerJSON: tj, Pooling: PoolMean, MaxSeqLength: 128})
	})
	if miniLM.err != nil {
		tb.Fatal(miniLM.err)
	}
	return filepath.Join(miniLM.dir, "minilm-random"), miniLM.w
}

func TestMain(m *testing.M) {
	code := m.Run()
	if miniLM.dir != "" {
		os.RemoveAll(miniLM.dir)
	}
	os.Exit(code)
}

// BenchmarkPipelineVsBare interleaves the full embedding pipeline and a bare
// ONNX Runtime session on the MiniLM-shaped model, batch 32 × 128 tokens;
// it reports both rates and their ratio (target ≥ 0.9).
//
//	go test ./embed/onnx -run '^$' -bench PipelineVsBare -benchtime 5x
func BenchmarkPipelineVsBare(b *testing.B) {
	cfg := testConfig(b)
	dir, _ := miniLMDir(b)
	b.ResetTimer()
	res, err := Bench(context.Background(), dir, cfg, BenchOptions{Rounds: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.PipelinePerSec, "pipeline-sent/s")
	b.ReportMetric(res.BarePerSec, "bare-sent/s")
	b.ReportMetric(res.Ratio, "ratio")
	b.ReportMetric(100*res.OverheadShare, "overhead-%")
	b.ReportMetric(res.CPURatio, "cpu-ratio")
	b.Log(res)
}

// TestCUDAThroughput is the GPU check: RAGD_TEST_CUDA=1 on a machine with
// a CUDA build of ONNX Runtime (Config.LibraryPath via RAGD_ORT_LIBRARY).
// It checks that CUDA vectors match CPU vectors and logs sentences/s.
func TestCUDAThroughput(t *testing.T) {
	if os.Getenv("RAGD_TEST_CUDA") != "1" {
		t.Skip("set RAGD_TEST_CUDA=1 to run the CUDA check")
	}
	cfg := testConfig(t)
	if p := os.Getenv("RAGD_ORT_LIBRARY"); p != "" {
		cfg.LibraryPath = p
	}
	dir, _ := miniLMDir(t)
	cpu, err := NewEmbedder(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.Close()
	gcfg := cfg
	gcfg.Device = DeviceCUDA
	gpu, err := NewEmbedder(dir, gcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer gpu.Close()
	texts := BenchTexts(8, 100)
	want, err := cpu.Embed(context.Background(), embed.Passage, texts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gpu.Embed(context.Background(), embed.Passage, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if d := maxAbsDiff(t, got[i], want[i]); d > 1e-3 {
			t.Fatalf("text %d: CUDA and CPU differ by %g", i, d)
		}
	}
	res, err := Bench(context.Background(), dir, gcfg, BenchOptions{Rounds: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CUDA: %v", res)
}
