package llama

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/generate"
)

func TestLoadBadModels(t *testing.T) {
	lib := testLibDir(t)
	real, err := os.ReadFile(tinyPath(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := func(kvs string, n byte) []byte {
		return []byte("GGUF\x03\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00" + string([]byte{n}) + "\x00\x00\x00\x00\x00\x00\x00" + kvs)
	}
	tokens := "\x15\x00\x00\x00\x00\x00\x00\x00tokenizer.ggml.tokens\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00a"
	arch := "\x14\x00\x00\x00\x00\x00\x00\x00general.architecture\x08\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00llama"
	tests := []struct {
		name string
		path string
	}{
		{"missing file", filepath.Join(dir, "nope.gguf")},
		{"directory", dir},
		{"empty file", write("empty.gguf", nil)},
		{"garbage", write("garbage.gguf", []byte(strings.Repeat("not a model ", 100)))},
		{"truncated header", write("head.gguf", real[:4096])},
		{"no architecture", write("noarch.gguf", header("", 0))},
		{"no vocabulary", write("novocab.gguf", header(arch, 1))},
		// Well-formed GGUF files that llama.cpp itself must refuse.
		{"architecture unknown", write("foo.gguf", header(strings.Replace(arch, "\x05\x00\x00\x00\x00\x00\x00\x00llama", "\x03\x00\x00\x00\x00\x00\x00\x00foo", 1)+tokens, 2))},
		{"llama without tensors", write("notensors.gguf", header(arch+tokens, 2))},
		// Metadata intact, tensor data cut short.
		{"truncated tensor data", write("short.gguf", real[:len(real)-1000])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load(context.Background(), tc.path, Config{LibDir: lib, Threads: 1}, testLogger(t))
			if err == nil {
				m.Close()
				t.Fatal("loaded")
			}
			if !errors.Is(err, generate.ErrBadModel) {
				t.Errorf("err = %v, want ErrBadModel", err)
			}
			byLlama := strings.Contains(tc.name, "tensor") || strings.Contains(tc.name, "architecture ")
			if got := strings.Contains(err.Error(), "llama.cpp could not load"); got != byLlama {
				t.Errorf("refused by llama.cpp = %v, want %v: %v", got, byLlama, err)
			}
		})
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, tinyPath(t), Config{LibDir: testLibDir(t)}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestGPULayersNeedGPULibraries(t *testing.T) {
	m := tinyModel(t) // ensures the CPU libraries are loaded
	if m.lib.supportsGPUOffload() {
		t.Skip("these libraries can offload to a GPU")
	}
	_, err := Load(context.Background(), tinyPath(t), Config{LibDir: testLibDir(t), GPULayers: -1}, nil)
	if !errors.Is(err, generate.ErrUnavailable) || !strings.Contains(err.Error(), "linux-x64-cuda") {
		t.Errorf("err = %v, want ErrUnavailable naming the CUDA package", err)
	}
}

func TestLibNames(t *testing.T) {
	dir := t.TempDir()
	touch := func(names ...string) {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := libNames(dir, false); !errors.Is(err, generate.ErrUnavailable) || !strings.Contains(err.Error(), "scripts/setup.sh") {
		t.Errorf("empty dir: %v", err)
	}
	touch("libllama.v0.5.0.so")
	if _, _, err := libNames(dir, false); !errors.Is(err, generate.ErrUnavailable) {
		t.Errorf("without libggml: %v", err)
	}
	touch("libggml.v0.5.0.so", "libllama.cuda.v0.5.0.so", "libggml.cuda.v0.5.0.so")
	tests := []struct {
		gpu              bool
		wantLlama, wantG string
	}{
		{false, "libllama.v0.5.0.so", "libggml.v0.5.0.so"},
		{true, "libllama.cuda.v0.5.0.so", "libggml.cuda.v0.5.0.so"},
	}
	for _, tc := range tests {
		l, g, err := libNames(dir, tc.gpu)
		if err != nil || l != tc.wantLlama || g != tc.wantG {
			t.Errorf("gpu=%v: %s %s %v", tc.gpu, l, g, err)
		}
	}
}

// TestMissingLibraries runs in a fresh process (the libraries load once per
// process) and points Load at an empty directory.
func TestMissingLibraries(t *testing.T) {
	if os.Getenv("RAGD_LLAMA_MISSING_LIB") == "1" {
		_, err := Load(context.Background(), os.Getenv("RAGD_LLAMA_MODEL"), Config{LibDir: t.TempDir()}, nil)
		if !errors.Is(err, generate.ErrUnavailable) || !strings.Contains(err.Error(), "scripts/setup.sh") {
			t.Fatalf("err = %v, want ErrUnavailable with install hint", err)
		}
		return
	}
	model := tinyPath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMissingLibraries$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RAGD_LLAMA_MISSING_LIB=1", "RAGD_LLAMA_MODEL="+model)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("subprocess: %v\n%s", err, out)
	}
}

func TestLibDirSwitchRefused(t *testing.T) {
	tinyModel(t)
	other := t.TempDir()
	_, err := Load(context.Background(), tinyPath(t), Config{LibDir: other}, nil)
	if !errors.Is(err, generate.ErrUnavailable) || !strings.Contains(err.Error(), "already loaded") {
		t.Errorf("err = %v", err)
	}
}

func TestClose(t *testing.T) {
	m := oneSlot(t, 2)
	hold := make(chan struct{})
	started := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		once := false
		firstDone <- m.Generate(context.Background(), generate.Request{Prompt: "Once upon a time", MaxTokens: 3}, func(generate.Event) error {
			if !once {
				once = true
				close(started)
				<-hold
			}
			return nil
		})
	}()
	<-started
	queued := make(chan error, 1)
	go func() {
		queued <- m.Generate(context.Background(), generate.Request{Prompt: "a", MaxTokens: 1}, func(generate.Event) error { return nil })
	}()
	for m.pool.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	if err := <-queued; !errors.Is(err, generate.ErrUnavailable) {
		t.Errorf("queued request: %v, want ErrUnavailable", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a request was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(hold)
	if err := <-firstDone; err != nil {
		t.Errorf("running request: %v", err)
	}
	if err := <-closed; err != nil {
		t.Error(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := m.Tokenize("a", false); !errors.Is(err, generate.ErrUnavailable) {
		t.Errorf("Tokenize after Close: %v", err)
	}
	if err := m.Generate(context.Background(), generate.Request{Prompt: "a"}, func(generate.Event) error { return nil }); !errors.Is(err, generate.ErrUnavailable) {
		t.Errorf("Generate after Close: %v", err)
	}
}

func TestVocabOnlyCannotGenerate(t *testing.T) {
	m, err := Load(context.Background(), tinyPath(t), Config{LibDir: testLibDir(t), VocabOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = m.Generate(context.Background(), generate.Request{Prompt: "a"}, func(generate.Event) error { return nil })
	if !errors.Is(err, generate.ErrUnavailable) {
		t.Errorf("err = %v", err)
	}
	if info := m.Info(); info.Backend != "llama.cpp" || info.ContextSize <= 0 || info.ID == "" {
		t.Errorf("info = %+v", info)
	}
}

func TestLibDirCandidates(t *testing.T) {
	cpu := LibDirCandidates(false)
	gpu := LibDirCandidates(true)
	if len(cpu) == 0 || len(gpu) != 2*len(cpu) {
		t.Fatalf("%d cpu and %d gpu candidates", len(cpu), len(gpu))
	}
	wd, _ := os.Getwd()
	if cpu[0] != DefaultLibDir(wd) || gpu[0] != CUDALibDir(wd) || gpu[1] != cpu[0] {
		t.Errorf("order: cpu %v, gpu %v", cpu[:1], gpu[:2])
	}
	root := repoRoot(t)
	found := false
	for _, c := range cpu {
		found = found || c == DefaultLibDir(root)
	}
	if !found {
		t.Errorf("repository root %s not among the candidates", root)
	}
	if got := CUDALibDir("/r"); got != "/r/node/node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda" {
		t.Errorf("CUDALibDir = %s", got)
	}
}

func TestEmptyLibDirReusesLoadedLibraries(t *testing.T) {
	first := tinyModel(t)
	m, err := Load(context.Background(), tinyPath(t), Config{VocabOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.lib != first.lib {
		t.Error("a second copy of the libraries was bound")
	}
}
