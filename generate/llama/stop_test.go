package llama

import (
	"strings"
	"testing"
)

func TestStopFilter(t *testing.T) {
	tests := []struct {
		name     string
		stops    []string
		pieces   []string
		want     []string // emitted after each piece
		stopAt   int      // index of the piece that hits a stop, -1 if none
		wantRest string
	}{
		{"no stops", nil, []string{"a", "b"}, []string{"a", "b"}, -1, ""},
		{"stop in one piece", []string{"END"}, []string{"ab", "cENDx"}, []string{"ab", "c"}, 1, ""},
		{"stop across pieces", []string{"END"}, []string{"xE", "N", "Dy"}, []string{"x", "", ""}, 2, ""},
		{"partial then diverge", []string{"END"}, []string{"xE", "Nz"}, []string{"x", "ENz"}, -1, ""},
		{"partial at the end is flushed", []string{"END"}, []string{"aEN"}, []string{"a"}, -1, "EN"},
		{"earliest of two stops", []string{"bc", "ab"}, []string{"xabc"}, []string{"x"}, 0, ""},
		{"empty stop ignored", []string{""}, []string{"a"}, []string{"a"}, -1, ""},
		{"split utf-8 held", nil, []string{"a\xc3", "\xa9b"}, []string{"a", "éb"}, -1, ""},
		{"split 4-byte rune", nil, []string{"\xf0\x9f", "\x98", "\x80!"}, []string{"", "", "😀!"}, -1, ""},
		{"multibyte stop", []string{"é."}, []string{"caf\xc3", "\xa9.", "x"}, []string{"caf", ""}, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newStopFilter(tc.stops)
			hitAt := -1
			for i, p := range tc.pieces {
				got, hit := f.push([]byte(p))
				if got != tc.want[i] {
					t.Errorf("piece %d %q: emitted %q, want %q", i, p, got, tc.want[i])
				}
				if hit {
					hitAt = i
					break
				}
			}
			if hitAt != tc.stopAt {
				t.Errorf("stop hit at %d, want %d", hitAt, tc.stopAt)
			}
			if rest := f.flush(); rest != tc.wantRest {
				t.Errorf("flush = %q, want %q", rest, tc.wantRest)
			}
		})
	}
}

// TestStopFilterNeverLeaks streams text through the filter in every
// split and checks that the output is the text up to the first stop.
func TestStopFilterNeverLeaks(t *testing.T) {
	text := "the quick <|end|> brown fox"
	stop := "<|end|>"
	want := text[:strings.Index(text, stop)]
	for size := 1; size <= len(text); size++ {
		f := newStopFilter([]string{stop})
		var out strings.Builder
		hit := false
		for i := 0; i < len(text) && !hit; i += size {
			var s string
			s, hit = f.push([]byte(text[i:min(i+size, len(text))]))
			out.WriteString(s)
		}
		if !hit {
			out.WriteString(f.flush())
		}
		if out.String() != want || !hit {
			t.Errorf("piece size %d: got %q (hit %v), want %q", size, out.String(), hit, want)
		}
	}
}
