package ingest

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// fuzzLoad loads b as format and checks the invariants of whatever comes
// back: no panic, valid UTF-8, sections in range, a hash that matches, and
// chunks with exact offsets. Errors are fine; a nil error with no
// documents is not.
func fuzzLoad(t *testing.T, b []byte, name, format string) {
	ps, err := LoadReader(context.Background(), bytes.NewReader(b), name, format, LoadOptions{MaxLineBytes: 1 << 16})
	var pe *PartialError
	if err != nil && !errors.As(err, &pe) {
		if ps != nil {
			t.Fatalf("docs returned with error %v", err)
		}
		return
	}
	if err == nil && len(ps) == 0 {
		t.Fatalf("no error and no documents")
	}
	for _, p := range ps {
		checkParsed(t, p)
		opts := ChunkOptions{Size: 24, Overlap: 6}
		checkChunks(t, p, Chunk(p, opts), opts)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"hello world", "a\r\nb\rc", "\ufeffbom", "caf\xe9", "\xff\xfeh\x00i\x00", "bell\x07"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzLoad(t, b, "f.txt", "") })
}

func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"# T\n\n## A\n\ntext [l](u) ![i](p) `c` **b**\n",
		"---\ntitle: x\n---\nSetext\n===\n\n```\ncode\n```\n",
		"[[[[a](b)](c)](d)] <http://x> <!-- c --> \\* ~~s~~",
		"> # quoted\n| a |\n|---|\n[r]: u\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzLoad(t, b, "f.md", "") })
}

func FuzzHTML(f *testing.F) {
	for _, s := range []string{
		"<title>T</title><h1>A</h1><p>x &amp; y</p><script>z</script>",
		"<div hidden>h</div><pre> a\n  b</pre><table><tr><td>1</td></tr></table>",
		"<p>unclosed <b>bold <div>",
		"<div><div><div><h2>deep</h2></div></div></div>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzLoad(t, b, "f.html", "") })
}

func FuzzPDF(f *testing.F) {
	f.Add(buildPDF("Title", "Hello PDF.", "Second page."))
	f.Add(buildPDF("", "x"))
	f.Add([]byte("%PDF-1.4\n1 0 obj << >> endobj\nstartxref\n9\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzLoad(t, b, "f.pdf", "") })
}

func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		`{"_id":"1","title":"t","text":"x","metadata":{"a":1,"b":{"c":[1,"2"]}}}` + "\n" + `{"id":2,"text":"y"}`,
		"bad\n{\"text\":\"\"}\n{\"_id\":\"x\",\"title\":\"only\"}\n",
		`{"contents":"p","extra":true}` + "\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzLoad(t, b, "f.jsonl", "") })
}

// FuzzDetect loads arbitrary bytes from standard input with the format
// sniffed from the content.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{"%PDF-1.4\n", "<html><p>x", `{"_id":"1","text":"x"}`, "# md\n\ntext", "plain"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzLoad(t, b, "-", "") })
}
