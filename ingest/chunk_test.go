package ingest

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func doc(id, text string) Parsed {
	return Parsed{Doc: data.Document{ID: id, Text: text}}
}

// wordCount counts every word as one token: easy to reason about in tests.
func wordCount(string) int { return 1 }

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"   \n\t", 0},
		{"the", 1},
		{"tokenization", 2},
		{"electroencephalography", 4},
		{"Hello, world!", 4},
		{"2026-11-27", 5},
		{"日本語", 3},
		{"naïve café", 2},
		{"a.b", 3},
	}
	for _, tt := range tests {
		if got := EstimateTokens(tt.in); got != tt.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestChunkParagraphsFirst(t *testing.T) {
	para := func(tag string, n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = tag
		}
		return strings.Join(ws, " ") + "."
	}
	// Three paragraphs of 40 words with Size 100: two fit, the third starts
	// a new chunk; no overlap so the cut is exactly at the paragraph break.
	text := para("a", 40) + "\n\n" + para("b", 40) + "\n\n" + para("c", 40)
	opts := ChunkOptions{Size: 100, Overlap: -1, Count: wordCount}
	p := doc("d", text)
	cs := Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	if len(cs) != 2 || cs[0].Text != para("a", 40)+"\n\n"+para("b", 40) || cs[1].Text != para("c", 40) {
		t.Fatalf("chunks %q", texts(cs))
	}
}

func TestChunkSentencesThenWords(t *testing.T) {
	// One paragraph of ten 6-word sentences, Size 20: cuts at sentence ends.
	var sb strings.Builder
	for i := range 10 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("Word one two three four end.")
	}
	p := doc("d", sb.String())
	opts := ChunkOptions{Size: 20, Overlap: -1, Count: wordCount}
	cs := Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	for i, c := range cs {
		if !strings.HasPrefix(c.Text, "Word") || !strings.HasSuffix(c.Text, "end.") {
			t.Errorf("chunk %d %q is not whole sentences", i, c.Text)
		}
	}
	if len(cs) != 4 { // 3+3+3+1 sentences
		t.Errorf("%d chunks: %q", len(cs), texts(cs))
	}
	// No sentence ends: cuts between words, every chunk full.
	p = doc("d", strings.TrimSpace(strings.Repeat("lorem ", 95)))
	cs = Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	if len(cs) != 5 || countWords(cs[0].Text, wordCount) != 20 || countWords(cs[4].Text, wordCount) != 15 {
		t.Errorf("word cuts: %q", texts(cs))
	}
}

func TestChunkOverlap(t *testing.T) {
	var sb strings.Builder
	for i := range 40 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("Alpha beta gamma delta.")
	}
	p := doc("d", sb.String())
	opts := ChunkOptions{Size: 30, Overlap: 9, Count: wordCount}
	cs := Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	if len(cs) < 3 {
		t.Fatalf("%d chunks", len(cs))
	}
	for i := 1; i < len(cs); i++ {
		prev, c := cs[i-1], cs[i]
		if c.Start >= prev.End {
			t.Fatalf("chunk %d does not overlap chunk %d", i, i-1)
		}
		shared := p.Doc.Text[c.Start:prev.End]
		if n := countWords(shared, wordCount); n > opts.Overlap || n == 0 {
			t.Errorf("chunk %d overlaps by %d tokens, want 1..%d", i, n, opts.Overlap)
		}
		// Whole sentences: 9 tokens of overlap hold two 4-word sentences.
		if shared != "Alpha beta gamma delta. Alpha beta gamma delta." {
			t.Errorf("chunk %d overlap %q is not the last two sentences", i, shared)
		}
	}
	// Without sentence ends the overlap is whole words.
	p = doc("d", strings.TrimSpace(strings.Repeat("word ", 100)))
	cs = Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	for i := 1; i < len(cs); i++ {
		if n := countWords(p.Doc.Text[cs[i].Start:cs[i-1].End], wordCount); n != opts.Overlap {
			t.Errorf("word overlap %d, want %d", n, opts.Overlap)
		}
	}
	// Negative overlap: chunks tile the text.
	opts.Overlap = -1
	cs = Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	for i := 1; i < len(cs); i++ {
		if cs[i].Start != cs[i-1].End+1 {
			t.Errorf("chunk %d starts at %d, previous ends at %d", i, cs[i].Start, cs[i-1].End)
		}
	}
}

func TestChunkLongWordAndCJK(t *testing.T) {
	long := strings.Repeat("x", 5000)
	p := doc("d", "short words here "+long+" and after")
	opts := ChunkOptions{Size: 16, Overlap: -1}
	cs := Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	if got := texts(cs); !reflect.DeepEqual(got, []string{"short words here", long, "and after"}) {
		t.Errorf("chunks %q", got)
	}
	// Chinese has no spaces: it is cut between characters, keeping the
	// full stop with its sentence.
	zh := strings.Repeat("我们喜欢搜索。", 30)
	p = doc("zh", zh)
	opts = ChunkOptions{Size: 20, Overlap: -1}
	cs = Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	if len(cs) < 10 {
		t.Fatalf("%d chunks for %d characters", len(cs), len([]rune(zh)))
	}
	for _, c := range cs {
		if !strings.HasSuffix(c.Text, "。") {
			t.Errorf("chunk %q does not end at a full stop", c.Text)
		}
	}
}

func TestChunkHeadings(t *testing.T) {
	body := func(n int) string { return strings.TrimSpace(strings.Repeat("text ", n)) + "." }
	src := "# Guide\n\n## Install\n\n" + body(30) + "\n\n### Linux\n\n" + body(30) + "\n\n## Tiny\n\nx.\n\n## Use\n\n" + body(30)
	p := loadString(t, "g.md", src)
	opts := ChunkOptions{Size: 40, Overlap: 5, Count: wordCount}
	cs := Chunk(p, opts)
	checkChunks(t, p, cs, opts)
	var got [][]string
	for _, c := range cs {
		got = append(got, c.Headings)
		// No chunk crosses a section boundary.
		for _, s := range p.Sections {
			if c.Start < s.Start && c.End > s.Start && s.Start > 0 {
				// Allowed only for merged tiny sections: the chunk then
				// carries the later section's headings.
				if !reflect.DeepEqual(c.Headings, sectionAt(p, c.End-1).Headings) {
					t.Errorf("chunk %q crosses section %v", c.Text, s.Headings)
				}
			}
		}
	}
	want := [][]string{
		{"Guide", "Install"}, // "Guide" alone is tiny: merged into Install
		{"Guide", "Install", "Linux"},
		{"Guide", "Use"}, // "Tiny" merged into "Use"
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headings %q, want %q\nchunks %q", got, want, texts(cs))
	}
	if !strings.HasPrefix(cs[0].Text, "Guide\n\nInstall\n\ntext") || !strings.HasPrefix(cs[2].Text, "Tiny\n\nx.\n\nUse") {
		t.Errorf("chunks %q", texts(cs))
	}
}

func sectionAt(p Parsed, off int) Section {
	for _, s := range p.Sections {
		if off >= s.Start && off < s.End {
			return s
		}
	}
	return Section{}
}

func TestChunkDegenerate(t *testing.T) {
	tests := []struct {
		name string
		p    Parsed
		n    int
	}{
		{"empty", doc("d", ""), 0},
		{"spaces", doc("d", " \n\n\t "), 0},
		{"one word", doc("d", "  word  "), 1},
		{"bad sections", Parsed{Doc: data.Document{ID: "d", Text: "alpha beta gamma"}, Sections: []Section{
			{Start: 10, End: 5, Headings: []string{"inverted"}},
			{Start: -3, End: 99, Headings: []string{"wide"}},
			{Start: 6, End: 8, Headings: []string{"overlap"}},
			{Start: 2, End: 3, Headings: nil},
		}}, 1},
		{"invalid utf8", doc("d", "ok \xff\xfe bytes"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ChunkOptions{}
			cs := Chunk(tt.p, opts)
			checkChunks(t, tt.p, cs, opts)
			if len(cs) != tt.n {
				t.Errorf("%d chunks %q, want %d", len(cs), texts(cs), tt.n)
			}
		})
	}
}

// randomDoc builds a document from words, punctuation, line and paragraph
// breaks, CJK runs and occasional long words, with random sections.
func randomDoc(r *rand.Rand) Parsed {
	pieces := []string{"a", "the", "tokenization", "Hello,", "world.", "Why?", "yes!", "e.g.", "(note)", "\"quoted.\"",
		"café", "naïve", "日本語の文。", "搜索", "x", "-", "2026", "\t", "\u00a0", "\u3000", "…"}
	seps := []string{" ", " ", " ", " ", "\n", "\n\n", "  ", "\n \n", ""}
	var sb strings.Builder
	n := r.IntN(400)
	for range n {
		if r.IntN(50) == 0 {
			sb.WriteString(strings.Repeat("z", 1+r.IntN(300)))
		} else {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		sb.WriteString(seps[r.IntN(len(seps))])
	}
	text := sb.String()
	var secs []Section
	for at := 0; at < len(text); {
		end := min(len(text), at+1+r.IntN(200))
		if r.IntN(3) > 0 {
			secs = append(secs, Section{Start: at, End: end, Headings: []string{"h" + string(rune('a'+r.IntN(26)))}})
		}
		at = end + r.IntN(20)
	}
	return Parsed{Doc: data.Document{ID: "rand", Text: text}, Sections: secs}
}

func TestChunkPropertiesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		p := randomDoc(r)
		opts := ChunkOptions{Size: 1 + r.IntN(80), Overlap: r.IntN(40) - 5}
		if r.IntN(2) == 0 {
			opts.Count = func(s string) int { return len(s) / 3 }
		}
		cs := Chunk(p, opts)
		checkChunks(t, p, cs, opts)
		if t.Failed() {
			t.Fatalf("doc %d: %q (opts %+v)", i, p.Doc.Text, opts)
		}
	}
}

func texts(cs []data.Chunk) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	return out
}

// benchText is about n bytes of prose in paragraphs.
func benchText(n int) string {
	r := rand.New(rand.NewPCG(7, 7))
	words := strings.Fields("the quick brown fox jumps over a lazy dog while retrieval augmented generation systems index documents chunk text and embed passages")
	var sb strings.Builder
	for sb.Len() < n {
		for s := 0; s < 3+r.IntN(5); s++ {
			for w := 0; w < 5+r.IntN(15); w++ {
				if w > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(words[r.IntN(len(words))])
			}
			sb.WriteString(". ")
		}
		sb.WriteString("\n\n")
	}
	return sb.String()
}

func BenchmarkChunk5MB(b *testing.B) {
	p := doc("bench", benchText(5<<20))
	b.SetBytes(int64(len(p.Doc.Text)))
	b.ReportAllocs()
	for b.Loop() {
		cs := Chunk(p, ChunkOptions{})
		if len(cs) == 0 {
			b.Fatal("no chunks")
		}
	}
}
