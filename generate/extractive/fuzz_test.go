package extractive

import (
	"strings"
	"testing"

	"github.com/ragd/ragd/generate"
)

func FuzzCompose(f *testing.F) {
	f.Add("How is bread made?", "Bread is made from flour. Water helps!", "Dr. Who? e.g. 3.5 \"quoted.\"")
	f.Add("", "", "")
	f.Add("the of and", "A. B. C.", "\n\n\r\n")
	g := New(Config{})
	f.Fuzz(func(t *testing.T, q, a, b string) {
		got := g.Compose(q, []generate.Passage{{N: 1, Text: a}, {N: 2, Text: b}})
		if !strings.HasPrefix(got, Prefix) {
			t.Fatalf("answer without prefix: %q", got)
		}
		for _, n := range generate.ParseCitations(strings.TrimPrefix(got, Prefix)) {
			if n != 1 && n != 2 && !strings.Contains(a+b, "[") {
				t.Fatalf("cites [%d], which is no passage: %q", n, got)
			}
		}
	})
}
