package jsonl

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type got struct {
	line string
	n    int
	err  error
}

func readAll(r *Reader) []got {
	var out []got
	for {
		line, n, err := r.Next()
		out = append(out, got{string(line), n, err})
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			return out
		}
	}
}

func TestNext(t *testing.T) {
	in := "{\"a\":1}\n\n   \r\n{\"b\":2}\r\n" + strings.Repeat("x", 20) + "\n{\"c\":3}"
	out := readAll(NewReader(strings.NewReader(in), 10))
	want := []got{
		{`{"a":1}`, 1, nil},
		{`{"b":2}`, 4, nil},
		{"", 5, ErrLineTooLong},
		{`{"c":3}`, 6, nil},
		{"", 7, io.EOF},
	}
	if len(out) != len(want) {
		t.Fatalf("got %+v", out)
	}
	for i := range want {
		if out[i].line != want[i].line || out[i].n != want[i].n || !errors.Is(out[i].err, want[i].err) {
			t.Errorf("%d: got %+v, want %+v", i, out[i], want[i])
		}
	}
}

func TestLimitIsExclusiveOfNewline(t *testing.T) {
	for _, tc := range []struct {
		in      string
		tooLong bool
	}{
		{"12345\n", false},
		{"12345", false},
		{"123456\n", true},
		{"123456", true},
	} {
		line, _, err := NewReader(strings.NewReader(tc.in), 5).Next()
		if tc.tooLong != errors.Is(err, ErrLineTooLong) || (!tc.tooLong && string(line) != strings.TrimSuffix(tc.in, "\n")) {
			t.Errorf("%q: line %q, err %v", tc.in, line, err)
		}
	}
}

// Lines longer than the bufio buffer are assembled across reads, and long
// lines over the limit are skipped whole, on a reader handing out one
// byte at a time.
func TestLongLinesAcrossBuffers(t *testing.T) {
	long := strings.Repeat("y", 200<<10)
	in := long + "\n" + strings.Repeat("z", 300<<10) + "\nend\n"
	out := readAll(NewReader(iotest.HalfReader(strings.NewReader(in)), 250<<10))
	if len(out) != 4 || out[0].line != long || !errors.Is(out[1].err, ErrLineTooLong) || out[2].line != "end" || out[2].n != 3 || !errors.Is(out[3].err, io.EOF) {
		t.Fatalf("got %d results: %v %v %v", len(out), out[1].err, out[2], out[3].err)
	}
}

func TestReadErrorCarriesLineNumber(t *testing.T) {
	boom := errors.New("disk on fire")
	r := NewReader(io.MultiReader(strings.NewReader("{}\n{"), iotest.ErrReader(boom)), 100)
	if _, n, err := r.Next(); err != nil || n != 1 {
		t.Fatalf("first: %d %v", n, err)
	}
	if _, n, err := r.Next(); !errors.Is(err, boom) || n != 2 {
		t.Fatalf("second: %d %v", n, err)
	}
}
