package extractive

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ragd/ragd/generate"
)

// cranfieldDocs reads the shared Cranfield collection (lowercased abstracts
// with " . " sentence ends), or skips when it is not there.
func cranfieldDocs(t *testing.T) map[int]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "datasets", "cranfield", "cran.all.1400"))
	if err != nil {
		t.Skipf("Cranfield collection not available: %v", err)
	}
	docs := map[int]string{}
	for _, rec := range strings.Split(string(b), ".I ")[1:] {
		nl := strings.IndexByte(rec, '\n')
		w := strings.Index(rec, ".W\n")
		if nl < 0 || w < 0 {
			continue
		}
		id, err := strconv.Atoi(strings.TrimSpace(rec[:nl]))
		if err != nil {
			continue
		}
		docs[id] = strings.ReplaceAll(rec[w+3:], "\n", " ")
	}
	return docs
}

func TestCranfieldQuery(t *testing.T) {
	docs := cranfieldDocs(t)
	// Cranfield query 1 and documents judged relevant to it.
	q := "what similarity laws must be obeyed when constructing aeroelastic models of heated high speed aircraft ."
	var ps []generate.Passage
	for i, id := range []int{184, 29, 31, 12, 51} {
		ps = append(ps, generate.Passage{N: i + 1, Text: docs[id]})
	}
	got := New(Config{}).Compose(q, ps)
	n := checkCitations(t, got, ps)
	if n < 3 || n > 4 {
		t.Errorf("%d sentences quoted, want 3..4: %q", n, got)
	}
	if !strings.Contains(got, "similarity") || len(strings.Fields(got)) > 200 {
		t.Errorf("answer does not quote the similarity sentences or is too long: %q", got)
	}
}
