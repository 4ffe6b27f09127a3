package llama

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
)

// stopFilter turns generated token pieces into text deltas. It withholds
// any tail that could be the start of a stop sequence, so a stop string is
// never emitted even when it spans tokens, and any tail that is an
// incomplete UTF-8 sequence (a character split across byte tokens).
type stopFilter struct {
	stops   [][]byte
	pending []byte
}

func newStopFilter(stops []string) *stopFilter {
	f := &stopFilter{}
	for _, s := range stops {
		if s != "" {
			f.stops = append(f.stops, []byte(s))
		}
	}
	return f
}

// push adds a piece and returns the text that is safe to emit, and
// whether a stop sequence was found (everything from it on is dropped).
func (f *stopFilter) push(piece []byte) (string, bool) {
	f.pending = append(f.pending, piece...)
	first := -1
	for _, s := range f.stops {
		if i := bytes.Index(f.pending, s); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		out := string(f.pending[:first])
		f.pending = f.pending[:0]
		return out, true
	}
	hold := 0
	for _, s := range f.stops {
		for k := min(len(s)-1, len(f.pending)); k > hold; k-- {
			if bytes.HasSuffix(f.pending, s[:k]) {
				hold = k
				break
			}
		}
	}
	cut := completeUTF8(f.pending[:len(f.pending)-hold])
	out := string(f.pending[:cut])
	f.pending = append(f.pending[:0], f.pending[cut:]...)
	return out, false
}

// flush returns whatever is still withheld (at the end of generation).
func (f *stopFilter) flush() string {
	out := string(f.pending)
	f.pending = f.pending[:0]
	return out
}

// completeUTF8 returns the length of b without a trailing incomplete
// UTF-8 sequence.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// unsafeStringData points at a string's bytes for a read-only C call.
func unsafeStringData(s string) *byte { return unsafe.StringData(s) }
