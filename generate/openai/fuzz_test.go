package openai

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func FuzzSSEReader(f *testing.F) {
	f.Add("data: a\n\n")
	f.Add("data: a\r\ndata: b\r\n\r\n: c\rdata\r\r")
	f.Add("id: 1\nevent: x\ndata:{}\n\ndata: [DONE]\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		r := newSSEReader(strings.NewReader(s))
		for i := 0; ; i++ {
			ev, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errEventTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if bytes.ContainsAny(ev, "\r") {
				t.Fatalf("event %q holds a CR", ev)
			}
			if i > len(s) {
				t.Fatal("more events than input bytes")
			}
		}
	})
}
