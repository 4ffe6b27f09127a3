package api

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/ragd/ragd/data"
)

// A query vector is most of a vector search's request body: 512 floats are
// ~6 KB of JSON, and encoding/json spent ~100 µs on them (13% of a served
// vector search). decodeWithVector cuts the vector out of the body, parses
// it with parseFloatArray (~5× faster) and leaves the rest, now small, to
// DecodeJSON.

// decodeWithVector decodes body into v like DecodeJSON, except that the
// top-level member key (an array of numbers) is parsed separately into
// *vec. Bodies it cannot split safely (not an object, the key twice or
// escaped keys) go through DecodeJSON whole, with the same result.
func decodeWithVector(body []byte, v any, key string, vec *[]float32) error {
	start, end, ok := findMember(body, key)
	if !ok {
		return DecodeJSON(body, v)
	}
	rest := make([]byte, 0, len(body)-(end-start)+4)
	rest = append(append(append(rest, body[:start]...), "null"...), body[end:]...)
	if err := DecodeJSON(rest, v); err != nil {
		return err
	}
	f, err := parseFloatArray(body[start:end])
	if err != nil {
		return fmt.Errorf("%w: invalid JSON: %s: %w", data.ErrInvalid, key, err)
	}
	*vec = f
	return nil
}

// findMember returns the bounds of the value of the top-level member key
// of the JSON object in b. ok is false when b is not an object that scans
// cleanly, when any key holds an escape, or when key is absent or repeated.
func findMember(b []byte, key string) (start, end int, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return 0, 0, false
	}
	found := false
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, 0, false
		}
		ks := i + 1
		ke := bytes.IndexByte(b[ks:], '"')
		if ke < 0 || bytes.IndexByte(b[ks:ks+ke], '\\') >= 0 {
			return 0, 0, false
		}
		ke += ks
		i = skipSpace(b, ke+1)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		vs := skipSpace(b, i+1)
		ve, ok := skipValue(b, vs)
		if !ok {
			return 0, 0, false
		}
		// encoding/json matches keys case-insensitively: so does this, so
		// that "Vector" beside "vector" counts as a repeat
		if bytes.EqualFold(b[ks:ke], []byte(key)) {
			if found {
				return 0, 0, false
			}
			start, end, found = vs, ve, true
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return 0, 0, false
		}
		if b[i] == '}' {
			if skipSpace(b, i+1) != len(b) {
				return 0, 0, false
			}
			return start, end, found
		}
		if b[i] != ',' {
			return 0, 0, false
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the end of the value starting at b[i]. It tracks
// strings and nesting only; the value's own syntax is checked by whoever
// parses it.
func skipValue(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '[' {
		// a flat array (a vector): its end is the first ']' when nothing
		// before it opens a string or a nested value
		if e := bytes.IndexByte(b[i:], ']'); e > 0 {
			in := b[i+1 : i+e]
			if bytes.IndexByte(in, '"') < 0 && bytes.IndexByte(in, '[') < 0 && bytes.IndexByte(in, '{') < 0 {
				return i + e + 1, true
			}
		}
	}
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return 0, false
			}
			if depth == 0 {
				return i + 1, true
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return i, true // end of the enclosing object
			}
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case ',':
			if depth == 0 {
				return i, true
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, true
			}
		}
	}
	return i, depth == 0
}

// parseFloatArray parses a JSON array of numbers (or null) into float32s.
func parseFloatArray(b []byte) ([]float32, error) {
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, errors.New("want an array of numbers")
	}
	body := b[1 : len(b)-1]
	out := make([]float32, 0, bytes.Count(body, []byte{','})+1)
	if len(skipSpaceBytes(body)) == 0 {
		return out, nil
	}
	for i := 0; ; i++ {
		end := bytes.IndexByte(body, ',')
		if end < 0 {
			end = len(body)
		}
		tok := skipSpaceBytes(body[:end])
		for len(tok) > 0 && isSpace(tok[len(tok)-1]) {
			tok = tok[:len(tok)-1]
		}
		if !jsonNumber(tok) {
			return nil, fmt.Errorf("element %d is not a number", i)
		}
		// The string shares tok's bytes; ParseFloat keeps no reference
		// to it (its errors hold a copy).
		x, err := strconv.ParseFloat(unsafe.String(&tok[0], len(tok)), 32)
		if err != nil {
			return nil, fmt.Errorf("element %d (%s) is out of float32 range", i, tok)
		}
		out = append(out, float32(x))
		if end == len(body) {
			return out, nil
		}
		body = body[end+1:]
	}
}

func skipSpaceBytes(b []byte) []byte { return b[skipSpace(b, 0):] }

// jsonNumber reports whether b is a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}
