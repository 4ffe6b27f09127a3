package use

import (
	"bufio"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/internal/cputime"
)

var cranfield = flag.Bool("use.cranfield", false, "run TestCranfieldThroughput (embeds the whole Cranfield collection)")

// benchTexts returns n sentences of the reference set, cycled.
func benchTexts(t testing.TB, n int) []string {
	ref := readReference(t)
	out := make([]string, n)
	for i := range out {
		out[i] = ref.Texts[i%len(ref.Texts)]
	}
	return out
}

func BenchmarkEmbedSentence(b *testing.B) {
	m := testModel(b)
	texts := []string{"how do I bake bread"}
	for b.Loop() {
		if _, err := m.Embed(context.Background(), embed.Query, texts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmbedBatch embeds the 218 reference texts per iteration.
func BenchmarkEmbedBatch(b *testing.B) {
	m := testModel(b)
	texts := benchTexts(b, 218)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Embed(context.Background(), embed.Passage, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(texts)*b.N)/b.Elapsed().Seconds(), "texts/s")
}

// BenchmarkEmbed128 embeds 64 texts of exactly the 128-token limit.
func BenchmarkEmbed128(b *testing.B) {
	m := testModel(b)
	text := strings.Repeat("the aerodynamic heating of a blunt body ", 40)
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = text
	}
	for b.Loop() {
		if _, err := m.Embed(context.Background(), embed.Passage, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(texts)*b.N)/b.Elapsed().Seconds(), "texts/s")
}

func BenchmarkTokenize(b *testing.B) {
	m := testModel(b)
	text := strings.Repeat("Supersonic flow over a wedge produces an oblique shock wave. ", 20)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		m.Tokenizer().Encode(text)
	}
}

func BenchmarkGemm(b *testing.B) {
	const m, k, n = 512, 512, 1536
	a := make([]float32, m*k)
	w := make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	var p panels
	packPanels(&p, w, k, n, n)
	c := make([]float32, m*n)
	for b.Loop() {
		gemm(m, k, a, k, &p, c, n, false)
	}
	b.ReportMetric(2*m*k*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// cranfieldDocs reads the .T (title) and .W (abstract) fields of the
// Cranfield collection, one text per document.
func cranfieldDocs(t testing.TB) []string {
	path := filepath.Join(repoRoot(t), "..", "shared", "datasets", "cranfield", "cran.all.1400")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("Cranfield collection not available: %v", err)
	}
	defer f.Close()
	var docs []string
	var cur strings.Builder
	field := ""
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			docs = append(docs, s)
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, ".I ") {
			flush()
			continue
		}
		if len(line) == 2 && line[0] == '.' {
			field = line
			continue
		}
		if field == ".T" || field == ".W" {
			cur.WriteString(line)
			cur.WriteByte(' ')
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

// chunkWords cuts each text into pieces of at most n words.
func chunkWords(texts []string, n int) []string {
	var out []string
	for _, t := range texts {
		w := strings.Fields(t)
		for i := 0; i < len(w); i += n {
			out = append(out, strings.Join(w[i:min(i+n, len(w))], " "))
		}
	}
	return out
}

// TestCranfieldThroughput embeds all of Cranfield (whole documents, and
// chunks of 80 words) and logs the time. Enable with -use.cranfield.
func TestCranfieldThroughput(t *testing.T) {
	if !*cranfield {
		t.Skip("enable with -use.cranfield")
	}
	m := testModel(t)
	docs := cranfieldDocs(t)
	for _, c := range []struct {
		name  string
		texts []string
	}{{"documents", docs}, {"80-word chunks", chunkWords(docs, 80)}} {
		tokens := 0
		for _, s := range c.texts {
			tokens += min(m.Tokenizer().Count(s), m.Info().MaxTokens)
		}
		start, cpu0 := time.Now(), cputime.Process()
		vecs, err := m.Embed(context.Background(), embed.Passage, c.texts)
		if err != nil {
			t.Fatal(err)
		}
		el, cpu := time.Since(start), cputime.Process()-cpu0
		if len(vecs) != len(c.texts) {
			t.Fatalf("%d vectors for %d texts", len(vecs), len(c.texts))
		}
		t.Logf("Cranfield %s: %d texts, %d tokens embedded: wall %v (%.0f texts/s, %.0f tokens/s), process CPU %v (%.0f texts per CPU-second); %d threads, %s kernel",
			c.name, len(c.texts), tokens, el.Round(time.Millisecond),
			float64(len(c.texts))/el.Seconds(), float64(tokens)/el.Seconds(),
			cpu.Round(time.Millisecond), float64(len(c.texts))/cpu.Seconds(), m.opts.Threads, kernelName())
	}
}
