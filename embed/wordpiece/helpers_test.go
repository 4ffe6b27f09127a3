package wordpiece

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/internal/testutil"
)

// sharedDir finds ../shared next to the repository root (the directory
// holding go.mod).
func sharedDir(t testing.TB) string {
	t.Helper()
	return testutil.SharedDir(t)
}

// fixture returns the path of a shared tokenizer fixture, skipping the test
// when the shared data is absent.
func fixture(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(sharedDir(t), "fixtures", "tokenizers", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared fixture %s absent: %v", name, err)
	}
	return p
}

func loadMiniLM(t testing.TB) *Tokenizer {
	t.Helper()
	tk, err := LoadTokenizerJSON(fixture(t, "all-minilm-l6-v2.tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// daulet is the module whose test data holds reference tokenizer
// files and expected ids.
const daulet = "github.com/daulet/tokenizers@v1.24.0"

// dauletDir returns the module's directory in the module cache,
// downloading it if needed; the test is skipped when that fails.
func dauletDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", daulet).Output()
	if err != nil {
		t.Skipf("cannot download %s: %v", daulet, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Skipf("cannot locate %s: %v", daulet, err)
	}
	return m.Dir
}
