package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// ErrLineTooLong is returned by Next for a line over the Reader's limit;
// the line has been consumed and Next may be called again.
var ErrLineTooLong = errors.New("jsonl: line too long")

// Reader reads the lines of a JSONL stream.
type Reader struct {
	br  *bufio.Reader
	max int
	n   int
	buf []byte
}

// NewReader reads r with lines of up to max bytes (newline excluded).
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line that is not blank, without its LF or CRLF,
// and its 1-based line number. The slice is valid until the next call.
// At the end of the input it returns io.EOF; for a line over the limit,
// ErrLineTooLong with that line's number; a read error is returned as is
// with the number of the line being read.
func (r *Reader) Next() (line []byte, n int, err error) {
	for {
		r.n++
		line, tooLong, err := r.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, r.n, err
		}
		eof := errors.Is(err, io.EOF)
		if tooLong {
			return nil, r.n, ErrLineTooLong
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, r.n, nil
		}
		if eof {
			return nil, r.n, io.EOF
		}
	}
}

// readLine reads the next line (without its newline) into buf. A line over
// max bytes is consumed to its end and reported with tooLong. err is io.EOF
// after the last line.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	buf := r.buf[:0]
	defer func() { r.buf = buf[:0] }()
	for {
		frag, err := r.br.ReadSlice('\n')
		if !tooLong {
			n := len(frag)
			if n > 0 && frag[n-1] == '\n' {
				n-- // the newline does not count
			}
			if len(buf)+n > r.max {
				tooLong = true
				buf = buf[:0]
			} else {
				buf = append(buf, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil {
			buf = bytes.TrimSuffix(buf, []byte{'\n'})
		}
		return bytes.TrimSuffix(buf, []byte{'\r'}), tooLong, err
	}
}
