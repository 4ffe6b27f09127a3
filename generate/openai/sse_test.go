package openai

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []string
		end    error
	}{
		{"basic", "data: a\n\ndata: b\n\n", []string{"a", "b"}, io.EOF},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}, io.EOF},
		{"bare cr", "data: a\r\rdata: b\r\r", []string{"a", "b"}, io.EOF},
		{"multi-line data", "data: {\"x\":\ndata: 1}\n\n", []string{"{\"x\":\n1}"}, io.EOF},
		{"comments and fields", ": keep-alive\nevent: message\nid: 7\nretry: 100\ndata:no-space\n\n", []string{"no-space"}, io.EOF},
		{"only one space is stripped", "data:  two\n\n", []string{" two"}, io.EOF},
		{"empty data line", "data\n\n", []string{""}, io.EOF},
		{"events without data are skipped", "event: ping\n\n\n\ndata: x\n\n", []string{"x"}, io.EOF},
		{"cut inside an event", "data: a\n\ndata: partial", []string{"a"}, io.ErrUnexpectedEOF},
		{"cut after a data line", "data: a\n\ndata: b\n", []string{"a"}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSSEReader(strings.NewReader(tt.stream))
			var got []string
			var err error
			for {
				var ev []byte
				ev, err = r.Next()
				if err != nil {
					break
				}
				got = append(got, string(ev))
			}
			if !reflect.DeepEqual(got, tt.want) || !errors.Is(err, tt.end) {
				t.Errorf("events %q, end %v; want %q, %v", got, err, tt.want, tt.end)
			}
		})
	}
}

func TestSSEReaderRejectsHugeEvents(t *testing.T) {
	big := "data: " + strings.Repeat("x", maxEventBytes+10) + "\n\n"
	if _, err := newSSEReader(strings.NewReader(big)).Next(); !errors.Is(err, errEventTooLarge) {
		t.Errorf("err = %v", err)
	}
}

// byteReader hands out one byte per Read, as a slow network would.
type byteReader struct{ s string }

func (b *byteReader) Read(p []byte) (int, error) {
	if b.s == "" {
		return 0, io.EOF
	}
	p[0] = b.s[0]
	b.s = b.s[1:]
	return 1, nil
}

func TestSSEReaderByteByByte(t *testing.T) {
	r := newSSEReader(&byteReader{s: "data: a\r\n\r\ndata: b\r\rdata: c\n\n"})
	var got []string
	for {
		ev, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		got = append(got, string(ev))
	}
	if !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("events %q", got)
	}
}
