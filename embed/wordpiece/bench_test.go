package wordpiece

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// englishText returns n bytes of English prose from the Cranfield
// collection, repeated when needed and cut at a space.
func englishText(b *testing.B, n int) string {
	b.Helper()
	p := filepath.Join(sharedDir(b), "datasets", "cranfield", "cran.all.1400")
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("cranfield absent: %v", err)
	}
	var sb strings.Builder
	for sb.Len() < n {
		sb.Write(raw)
	}
	s := sb.String()[:n]
	return s[:strings.LastIndexByte(s, ' ')+1]
}

// BenchmarkTokenize measures throughput from 1 KB to 1 MB; linear time
// shows as a flat MB/s across sizes.
func BenchmarkTokenize(b *testing.B) {
	tk := loadMiniLM(b)
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1 << 10}, {"10KB", 10 << 10}, {"100KB", 100 << 10}, {"1MB", 1 << 20}} {
		text := englishText(b, size.n)
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				tk.Tokenize(text)
			}
		})
	}
}

// BenchmarkEncode is the per-chunk cost of embedding: a ~1 KB passage
// truncated to 512 tokens.
func BenchmarkEncode(b *testing.B) {
	tk := loadMiniLM(b)
	text := englishText(b, 1<<10)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tk.Encode(text, 512)
	}
}
