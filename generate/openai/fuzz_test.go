package openai

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func readAllEvents(r io.Reader) ([]string, error) {
	sr := newSSEReader(r)
	var out []string
	for {
		ev, err := sr.Next()
		if err != nil {
			return out, err
		}
		out = append(out, string(ev))
	}
}

// FuzzSSEReader checks that the reader never fails oddly, never leaves a CR
// in an event, and gives the same events whether the bytes arrive at once
// or one at a time.
func FuzzSSEReader(f *testing.F) {
	f.Add("data: a\n\n")
	f.Add("data: a\r\ndata: b\r\n\r\n: c\rdata\r\r")
	f.Add("id: 1\nevent: x\ndata:{}\n\ndata: [DONE]\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		bulk, err1 := readAllEvents(strings.NewReader(s))
		slow, err2 := readAllEvents(&byteReader{s: s})
		for _, err := range []error{err1, err2} {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errEventTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		if !reflect.DeepEqual(bulk, slow) || !errors.Is(err2, err1) {
			t.Fatalf("bulk %q (%v) != byte-wise %q (%v)", bulk, err1, slow, err2)
		}
		for _, ev := range bulk {
			if bytes.ContainsAny([]byte(ev), "\r") {
				t.Fatalf("event %q holds a CR", ev)
			}
		}
	})
}
