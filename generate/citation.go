package generate

import (
	"regexp"
	"strconv"
	"strings"
)

// maxCitationRange bounds how many numbers one range marker like [2-5] expands to.
const maxCitationRange = 50

// citationRE matches bracketed citation markers: [1], [1, 2], [1;3], [2-4].
// Adjacent markers such as [1][2] match one by one.
var citationRE = regexp.MustCompile(`\[\s*(\d{1,4}(?:\s*(?:,|;|-|–)\s*\d{1,4})*)\s*\]`)

// Citation links a [n] marker in an answer to the passage it points at.
type Citation struct {
	N       int    `json:"n"`
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id"`
	Source  string `json:"source,omitempty"`
	Title   string `json:"title,omitempty"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
}

// ParseCitations returns the passage numbers cited in text, each once, in
// order of first appearance. It understands [1], [1][2], [1, 2], [1; 2] and
// ranges [1-3]; numbers below 1 are ignored.
func ParseCitations(text string) []int {
	var out []int
	seen := map[int]bool{}
	add := func(n int) {
		if n >= 1 && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, m := range citationRE.FindAllStringSubmatch(text, -1) {
		for _, part := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ';' }) {
			part = strings.TrimSpace(part)
			lo, hi, isRange := splitRange(part)
			if !isRange {
				n, err := strconv.Atoi(part)
				if err == nil {
					add(n)
				}
				continue
			}
			if hi < lo || hi-lo >= maxCitationRange {
				continue
			}
			for n := lo; n <= hi; n++ {
				add(n)
			}
		}
	}
	return out
}

func splitRange(s string) (lo, hi int, ok bool) {
	for _, sep := range []string{"-", "–"} {
		a, b, found := strings.Cut(s, sep)
		if !found {
			continue
		}
		x, err1 := strconv.Atoi(strings.TrimSpace(a))
		y, err2 := strconv.Atoi(strings.TrimSpace(b))
		if err1 != nil || err2 != nil {
			return 0, 0, false
		}
		return x, y, true
	}
	return 0, 0, false
}

// MapCitations maps cited numbers to the passages that carry them (by
// Passage.N). Numbers that match no passage are ignored.
func MapCitations(ns []int, passages []Passage) []Citation {
	byN := make(map[int]Passage, len(passages))
	for _, p := range passages {
		byN[p.N] = p
	}
	var out []Citation
	for _, n := range ns {
		p, ok := byN[n]
		if !ok {
			continue
		}
		out = append(out, Citation{N: n, DocID: p.DocID, ChunkID: p.ChunkID, Source: p.Source, Title: p.Title, Start: p.Start, End: p.End})
	}
	return out
}
