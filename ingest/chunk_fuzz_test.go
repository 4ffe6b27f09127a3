package ingest

import (
	"testing"

	"github.com/ragd/ragd/data"
)

// FuzzChunk chunks arbitrary text with arbitrary options and sections and
// checks the invariants: exact offsets, no cut words, size bounds, no
// empty chunks, full coverage, valid UTF-8 for valid input.
func FuzzChunk(f *testing.F) {
	f.Add("Hello world. This is a test.\n\nNew paragraph here!", 8, 2, 3, 20)
	f.Add("我们喜欢搜索。日本語の文。mixed 中文 text", 4, 1, 0, 10)
	f.Add("averyveryveryverylongwordthatexceedsthesize short", 2, 0, 5, 5)
	f.Add("\xff\xfe broken \xc3 utf8", 3, -1, 2, 4)
	f.Add("", 0, 0, 0, 0)
	f.Fuzz(func(t *testing.T, text string, size, overlap, secStart, secLen int) {
		if size > 1<<20 || size < -1<<20 || overlap > 1<<20 || overlap < -1<<20 {
			return
		}
		p := Parsed{Doc: data.Document{ID: "f", Text: text}}
		if secLen != 0 {
			p.Sections = []Section{
				{Start: secStart, End: secStart + secLen, Headings: []string{"a"}},
				{Start: secStart + secLen, End: len(text), Headings: []string{"a", "b"}},
			}
		}
		opts := ChunkOptions{Size: size, Overlap: overlap}
		cs := Chunk(p, opts)
		checkChunks(t, p, cs, opts)
	})
}
