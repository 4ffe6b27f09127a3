package llama

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ragd/ragd/internal/testutil"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

// sharedPath returns ../shared/<rel> beside the repository root.
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared file %s absent: %v", p, err)
	}
	return p
}

// testLibDir returns the npm-installed llama.cpp libraries, skipping when
// they are not installed.
func testLibDir(t testing.TB) string {
	t.Helper()
	dir := DefaultLibDir(repoRoot(t))
	if _, err := os.Stat(filepath.Join(dir, "libllama.v0.5.0.so")); err != nil {
		t.Skipf("llama.cpp libraries absent (%v); run scripts/setup.sh", err)
	}
	return dir
}

// testLogger sends llama.cpp's debug output to the test log when -v.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return nil
}

func tinyPath(t testing.TB) string { return sharedPath(t, "models/llama-2-tiny-random.gguf") }

var (
	sharedOnce  sync.Once
	sharedModel *Model
	sharedErr   error
)

// tinyModel returns one tiny model shared by tests that do not depend on
// slot counts (2 slots, queue 4, 1 thread).
func tinyModel(t testing.TB) *Model {
	t.Helper()
	lib := testLibDir(t)
	path := tinyPath(t)
	sharedOnce.Do(func() {
		sharedModel, sharedErr = Load(context.Background(), path,
			Config{LibDir: lib, Slots: 2, QueueSize: 4, Threads: 1, ContextSize: 256}, testLogger(t))
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedModel
}
