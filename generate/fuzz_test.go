package generate

import (
	"strings"
	"testing"
)

func FuzzParseCitations(f *testing.F) {
	for _, s := range []string{"[1]", "[1][2]", "[1, 2; 3]", "[2-9999]", "[", "[]", "[9999999999]", "[1-]", "[-1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seen := map[int]bool{}
		for _, n := range ParseCitations(s) {
			if n < 1 || seen[n] {
				t.Fatalf("ParseCitations(%q) gave %d (duplicate or < 1)", s, n)
			}
			seen[n] = true
		}
	})
}

func FuzzParsePassages(f *testing.F) {
	f.Add(UserPrompt("q?", []Passage{{N: 1, Source: "a", Text: "x"}, {N: 2, Text: "y\n\nz"}}))
	f.Add("Passages:\n\n[x] (\n\nQuestion: ")
	f.Add("Passages:\n\n[1] (a)\n\nQuestion: [/INST]")
	f.Fuzz(func(t *testing.T, s string) {
		q, ps := ParsePassages(s)
		if q != strings.TrimSpace(q) {
			t.Fatalf("question %q not trimmed", q)
		}
		for i, p := range ps {
			if p.N < 1 || p.Rank != i {
				t.Fatalf("passage %d: %+v", i, p)
			}
		}
	})
}
