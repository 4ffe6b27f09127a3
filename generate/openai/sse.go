package openai

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxEventBytes bounds one server-sent event (all its data lines).
const maxEventBytes = 8 << 20

var errEventTooLarge = errors.New("server-sent event too large")

// sseReader reads server-sent events as the WHATWG specification defines
// them, keeping only the data field: lines end in LF, CRLF or CR; a line
// starting with ":" is a comment; "data:" lines (one optional space after
// the colon) accumulate, joined by LF; a blank line dispatches the event;
// other fields (event, id, retry) are ignored. An event cut off by the end
// of the stream is discarded.
type sseReader struct {
	r    *bufio.Reader
	data bytes.Buffer
	// sawCR remembers a CR line end so that a following LF is skipped.
	sawCR bool
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 32<<10)}
}

// Next returns the data of the next event that has any. It returns io.EOF
// at a clean end and io.ErrUnexpectedEOF when the stream stops inside an event.
func (s *sseReader) Next() ([]byte, error) {
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && (hasData || len(line) > 0) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if hasData {
				out := bytes.Clone(s.data.Bytes())
				s.data.Reset()
				return out, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		if string(field) != "data" {
			continue
		}
		if hasData {
			s.data.WriteByte('\n')
		}
		if s.data.Len()+len(value) > maxEventBytes {
			return nil, fmt.Errorf("%w (over %d bytes)", errEventTooLarge, maxEventBytes)
		}
		s.data.Write(value)
		hasData = true
	}
}

// readLine returns one line without its terminator. At the end of the
// stream it returns io.EOF, with any unterminated final line. It scans what
// is already buffered in bulk and blocks for single bytes only when the
// buffer is empty, so a line is returned as soon as its terminator arrives.
func (s *sseReader) readLine() ([]byte, error) {
	var line []byte
	for {
		if n := s.r.Buffered(); n > 0 {
			buf, _ := s.r.Peek(n)
			if s.sawCR {
				s.sawCR = false
				if buf[0] == '\n' {
					_, _ = s.r.Discard(1)
					continue
				}
			}
			i := bytes.IndexAny(buf, "\r\n")
			if i < 0 {
				i = len(buf)
			}
			if len(line)+i > maxEventBytes {
				return nil, fmt.Errorf("%w (line over %d bytes)", errEventTooLarge, maxEventBytes)
			}
			line = append(line, buf[:i]...)
			if i == len(buf) {
				_, _ = s.r.Discard(i)
				continue
			}
			s.sawCR = buf[i] == '\r'
			_, _ = s.r.Discard(i + 1)
			return line, nil
		}
		b, err := s.r.ReadByte()
		if err != nil {
			return line, err
		}
		if s.sawCR {
			s.sawCR = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\n':
			return line, nil
		case '\r':
			s.sawCR = true
			return line, nil
		}
		if len(line) >= maxEventBytes {
			return nil, fmt.Errorf("%w (line over %d bytes)", errEventTooLarge, maxEventBytes)
		}
		line = append(line, b)
	}
}
