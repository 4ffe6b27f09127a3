package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// sniffBytes is how much of the content looksBinary inspects.
const sniffBytes = 8 << 10

// looksBinary reports whether the start of b is not text: it holds a NUL
// byte, more than 10% control bytes, or more than 30% bytes that are not
// valid UTF-8. A UTF-16 byte order mark makes it text.
func looksBinary(b []byte) bool {
	if bytes.HasPrefix(b, utf16LEBOM) || bytes.HasPrefix(b, utf16BEBOM) {
		return false
	}
	if len(b) > sniffBytes {
		b = b[:sniffBytes]
	}
	if len(b) == 0 {
		return false
	}
	ctrl, bad := 0, 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == 0:
				return true
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b:
				ctrl++
			case c == 0x7f:
				ctrl++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			// A rune cut off by the sniff window is not evidence.
			if len(b)-i >= utf8.UTFMax {
				bad++
			}
		}
		i += n
	}
	return ctrl*10 > len(b) || bad*10 > len(b)*3
}

// decodeText turns file bytes into clean UTF-8 text: a UTF-8 BOM is
// dropped, UTF-16 with a BOM is decoded, invalid UTF-8 becomes U+FFFD (with
// a warning), CRLF and CR become LF and control characters other than tab,
// LF and FF are removed. Binary content gives ErrBinary.
func decodeText(b []byte) (string, []string, error) {
	var warns []string
	var s string
	switch {
	case bytes.HasPrefix(b, utf16LEBOM), bytes.HasPrefix(b, utf16BEBOM):
		s = decodeUTF16(b[2:], b[0] == 0xFF)
	case looksBinary(b):
		return "", nil, ErrBinary
	default:
		s = string(bytes.TrimPrefix(b, utf8BOM))
	}
	s, warns = sanitize(s, warns)
	return s, warns, nil
}

func decodeUTF16(b []byte, little bool) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if little {
			u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
		} else {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
	}
	return string(utf16.Decode(u))
}

// sanitize makes s valid UTF-8 with LF line ends and no control
// characters except tab, LF and FF; it appends a warning when it had to
// replace invalid bytes.
func sanitize(s string, warns []string) (string, []string) {
	if !utf8.ValidString(s) {
		n := 0
		for i := 0; i < len(s); {
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 {
				n++
			}
			i += w
		}
		s = strings.ToValidUTF8(s, "\uFFFD")
		warns = append(warns, fmt.Sprintf("replaced %d invalid UTF-8 bytes with U+FFFD", n))
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t' && c != '\n' && c != '\f') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s, warns
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			sb.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case (c < 0x20 && c != '\t' && c != '\n' && c != '\f') || c == 0x7f:
			// dropped
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), warns
}

// parseText loads plain text: the text as is (already sanitized), no title.
func parseText(s string) Parsed {
	return Parsed{Doc: data.Document{Text: s}}
}
