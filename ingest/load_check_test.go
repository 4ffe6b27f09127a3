package ingest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

// checkParsed asserts the invariants every loaded document keeps.
func checkParsed(t testing.TB, p Parsed) {
	t.Helper()
	d := p.Doc
	if !utf8.ValidString(d.Text) || !utf8.ValidString(d.Title) {
		t.Fatalf("invalid UTF-8 in %q / %q", d.Title, d.Text)
	}
	if strings.TrimSpace(d.Text) == "" {
		t.Fatalf("empty text in %+v", d)
	}
	if d.Hash != data.ContentHash(d.Title, d.Text) {
		t.Fatalf("hash %q is not ContentHash(title, text)", d.Hash)
	}
	if !knownFormat(p.Format) {
		t.Fatalf("format %q", p.Format)
	}
	if d.ID == "" || d.Source == "" {
		t.Fatalf("missing id or source: %+v", d)
	}
	prev := 0
	for i, s := range p.Sections {
		if s.Start < prev || s.End <= s.Start || s.End > len(d.Text) {
			t.Fatalf("section %d [%d,%d) out of order or range (prev end %d, len %d)", i, s.Start, s.End, prev, len(d.Text))
		}
		if len(s.Headings) == 0 {
			t.Fatalf("section %d without headings", i)
		}
		last := s.Headings[len(s.Headings)-1]
		if !strings.HasPrefix(d.Text[s.Start:s.End], last) {
			t.Fatalf("section %d text %q does not start with its heading %q", i, d.Text[s.Start:s.End], last)
		}
		prev = s.End
	}
}

// checkChunks asserts the chunker's invariants.
func checkChunks(t testing.TB, p Parsed, cs []data.Chunk, opts ChunkOptions) {
	t.Helper()
	o := opts.withDefaults()
	text := p.Doc.Text
	prevStart := -1
	for i, c := range cs {
		if c.Ordinal != i || c.ID != data.ChunkID(p.Doc.ID, i) || c.DocID != p.Doc.ID {
			t.Fatalf("chunk %d: ordinal %d id %q doc %q", i, c.Ordinal, c.ID, c.DocID)
		}
		if c.Start < 0 || c.End > len(text) || c.Start >= c.End {
			t.Fatalf("chunk %d: bad range [%d,%d) of %d", i, c.Start, c.End, len(text))
		}
		if c.Text != text[c.Start:c.End] {
			t.Fatalf("chunk %d: text %q != Doc.Text[%d:%d] %q", i, c.Text, c.Start, c.End, text[c.Start:c.End])
		}
		if strings.TrimSpace(c.Text) != c.Text || c.Text == "" {
			t.Fatalf("chunk %d: %q has surrounding space or is empty", i, c.Text)
		}
		if utf8.ValidString(text) && !utf8.ValidString(c.Text) {
			t.Fatalf("chunk %d: invalid UTF-8 %q", i, c.Text)
		}
		// Never cut inside a word: the bytes around the chunk are space,
		// or a CJK boundary.
		if c.Start > 0 && !wordBoundary(text, c.Start) {
			t.Fatalf("chunk %d starts inside a word: %q|%q", i, text[max(0, c.Start-10):c.Start], c.Text)
		}
		if c.End < len(text) && !wordBoundary(text, c.End) {
			t.Fatalf("chunk %d ends inside a word: %q|%q", i, c.Text, text[c.End:min(len(text), c.End+10)])
		}
		if c.Start <= prevStart {
			t.Fatalf("chunk %d starts at %d, not after the previous start %d", i, c.Start, prevStart)
		}
		prevStart = c.Start
		if n := countWords(c.Text, o.Count); n > o.Size && len(splitWords(c.Text, o.Count)) > 1 {
			t.Fatalf("chunk %d has %d tokens > size %d and more than one word: %q", i, n, o.Size, c.Text)
		}
	}
	// Every word of the text is in some chunk.
	covered := 0
	for _, c := range cs {
		if c.Start > covered && strings.TrimSpace(text[covered:c.Start]) != "" {
			t.Fatalf("text %q between chunks is in no chunk", text[covered:c.Start])
		}
		covered = max(covered, c.End)
	}
	if strings.TrimSpace(text[covered:]) != "" {
		t.Fatalf("tail %q is in no chunk", text[covered:])
	}
}

func countWords(s string, count func(string) int) int {
	n := 0
	for _, w := range splitWords(s, count) {
		n += w.tokens
	}
	return n
}

// wordBoundary reports whether offset i of s lies between two words: next
// to white space, or next to a CJK character.
func wordBoundary(s string, i int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i:])
	if isSpaceRune(before) || isSpaceRune(after) {
		return true
	}
	return isCJK(before) || (isCJK(after) && !isCJKPunct(after))
}
