package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// benchLoad measures a loader on about 5 MB of input.
func benchLoad(b *testing.B, name, src string) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		ps, err := LoadReader(context.Background(), strings.NewReader(src), name, "", LoadOptions{})
		if err != nil || len(ps) == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadMarkdown5MB(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 5<<20; i++ {
		fmt.Fprintf(&sb, "## Section %d\n\nSome *emphasis*, a [link](https://x.invalid/%d) and `code`.\n%s\n\n", i, i, benchText(600))
	}
	benchLoad(b, "b.md", sb.String())
}

func BenchmarkLoadHTML5MB(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("<html><head><title>t</title><script>var x;</script></head><body><nav>menu</nav>")
	for i := 0; sb.Len() < 5<<20; i++ {
		fmt.Fprintf(&sb, "<h2>Section %d</h2><p>Some <b>bold</b> and a <a href='/x'>link</a>.</p><p>%s</p>", i, benchText(600))
	}
	sb.WriteString("</body></html>")
	benchLoad(b, "b.html", sb.String())
}

func BenchmarkLoadJSONL5MB(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 5<<20; i++ {
		fmt.Fprintf(&sb, `{"_id":"d%d","title":"Doc %d","text":%q,"metadata":{"n":%d}}`+"\n", i, i, benchText(600), i)
	}
	benchLoad(b, "b.jsonl", sb.String())
}
