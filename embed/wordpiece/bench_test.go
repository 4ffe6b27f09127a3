package wordpiece

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
			cpu0 := cpuTime()
			for b.Loop() {
				tk.Tokenize(text)
			}
			// CPU time is steadier than wall time on a shared machine.
			if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(len(text))*float64(b.N)/cpu/1e6, "cpuMB/s")
			}
		})
	}
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// BenchmarkTokenizeAdversarial feeds 1 MB inputs that stress the slow
// paths: dense special tokens, 100-character words that split into many
// pieces, one 1 MB word, and accented / CJK text.
func BenchmarkTokenizeAdversarial(b *testing.B) {
	tk := loadMiniLM(b)
	const n = 1 << 20
	rng := rand.New(rand.NewPCG(7, 7))
	letters := func(k int) string {
		buf := make([]byte, k)
		for i := range buf {
			buf[i] = byte('a' + rng.IntN(26))
		}
		return string(buf)
	}
	var words strings.Builder
	for words.Len() < n {
		words.WriteString(letters(100))
		words.WriteByte(' ')
	}
	cases := []struct{ name, text string }{
		{"specials", strings.Repeat("a [SEP] b [CLS]x", n/16)},
		{"100-char-words", words.String()},
		{"one-word", letters(n)},
		{"accents-cjk", strings.Repeat("Crème brûlée à Kraków 我想在工作 ", n/48)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				tk.Tokenize(c.text)
			}
		})
	}
}
