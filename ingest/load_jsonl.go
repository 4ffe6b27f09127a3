package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/internal/jsonl"
)

// loadJSONL reads one document per line in the BEIR corpus shape:
//
//	{"_id": "d1", "title": "...", "text": "...", "metadata": {...}}
//
// The id is "_id", else "id" (strings or numbers), else "<source>:<line>"
// with a warning. The text is "text", else "contents" (the Pyserini
// shape); a record with an empty text but a title uses the title as its
// text. Other top-level fields with scalar values join the metadata unless
// it already has that key. Nested metadata objects are flattened to dotted
// keys ("a.b"); arrays of scalars are kept; nulls are dropped; other values
// are stored as their JSON text. Blank lines are ignored. A bad line (not
// a JSON object, no text, longer than MaxLineBytes) is skipped and
// reported, with its line number, in the *PartialError returned at the end.
func loadJSONL(ctx context.Context, r io.Reader, source string, opts LoadOptions, fn func(Parsed) error) error {
	lr := jsonl.NewReader(r, opts.MaxLineBytes)
	partial := &PartialError{Source: source}
	good := 0
	for i := 1; ; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, n, err := lr.Next()
		switch {
		case errors.Is(err, io.EOF):
			if partial.Count > 0 {
				return partial
			}
			if good == 0 {
				return fmt.Errorf("ingest %s: %w", source, ErrEmpty)
			}
			return nil
		case errors.Is(err, jsonl.ErrLineTooLong):
			partial.add(&LineError{Source: source, Line: n,
				Err: fmt.Errorf("line longer than %d bytes: %w", opts.MaxLineBytes, data.ErrTooLarge)})
			continue
		case err != nil:
			return fmt.Errorf("ingest %s:%d: %w", source, n, err)
		}
		p, perr := parseJSONLine(line, source, n)
		if perr != nil {
			partial.add(&LineError{Source: source, Line: n, Err: perr})
			continue
		}
		good++
		if err := fn(p); err != nil {
			return err
		}
	}
}

// parseJSONLine decodes one JSONL record.
func parseJSONLine(line []byte, source string, n int) (Parsed, error) {
	var warns []string
	if !utf8.Valid(line) {
		line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
		warns = append(warns, "replaced invalid UTF-8 bytes with U+FFFD")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		return Parsed{}, fmt.Errorf("%w: not a JSON object: %w", data.ErrInvalid, err)
	}
	if rec == nil {
		return Parsed{}, fmt.Errorf("%w: not a JSON object", data.ErrInvalid)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Parsed{}, fmt.Errorf("%w: extra data after the JSON object", data.ErrInvalid)
	}
	var p Parsed
	id, err := idField(rec, "_id")
	if err == nil && id == "" {
		id, err = idField(rec, "id")
	}
	if err != nil {
		return Parsed{}, err
	}
	if id == "" {
		id = source + ":" + strconv.Itoa(n)
		warns = append(warns, "no _id or id; using "+id)
	}
	title, err := stringField(rec, "title")
	if err != nil {
		return Parsed{}, err
	}
	text, err := stringField(rec, "text")
	if err != nil {
		return Parsed{}, err
	}
	if text == "" {
		if text, err = stringField(rec, "contents"); err != nil {
			return Parsed{}, err
		}
	}
	text, warns = sanitize(text, warns)
	title, _ = sanitize(title, nil)
	title = strings.Join(strings.Fields(title), " ")
	if strings.TrimSpace(text) == "" {
		if title == "" {
			return Parsed{}, fmt.Errorf("record %q: %w", id, ErrEmpty)
		}
		text = title
		warns = append(warns, "empty text; using the title as text")
	}
	meta := map[string]any{}
	if m, ok := rec["metadata"]; ok && m != nil {
		mo, ok := m.(map[string]any)
		if !ok {
			return Parsed{}, fmt.Errorf("%w: metadata must be an object", data.ErrInvalid)
		}
		flattenMeta(meta, "", mo)
	}
	for k, v := range rec {
		switch k {
		case "_id", "id", "title", "text", "contents", "metadata":
			continue
		}
		if _, dup := meta[k]; dup {
			continue
		}
		if sv, ok := metaValue(v); ok {
			meta[k] = sv
		}
	}
	if len(meta) == 0 {
		meta = nil
	}
	p.Doc = data.Document{ID: id, Title: title, Text: text, Source: source, Metadata: meta,
		Hash: data.ContentHash(title, text)}
	p.Warnings = warns
	p.Format = FormatJSONL
	return p, nil
}

func idField(rec map[string]any, key string) (string, error) {
	v, ok := rec[key]
	if !ok || v == nil {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("%w: %q must be a string or number", data.ErrInvalid, key)
}

func stringField(rec map[string]any, key string) (string, error) {
	v, ok := rec[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %q must be a string", data.ErrInvalid, key)
	}
	return s, nil
}

// flattenMeta copies m into dst, nested objects as dotted keys.
func flattenMeta(dst map[string]any, prefix string, m map[string]any) {
	for k, v := range m {
		key := prefix + k
		if sub, ok := v.(map[string]any); ok {
			flattenMeta(dst, key+".", sub)
			continue
		}
		if sv, ok := metaValue(v); ok {
			dst[key] = sv
		}
	}
}

// metaValue converts a decoded JSON value to a metadata value: strings,
// float64s, bools and slices of those; other values become JSON text.
func metaValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case string, bool:
		return x, true
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f, true
		}
		return x.String(), true
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case string, bool, json.Number:
				s, _ := metaValue(e)
				out = append(out, s)
			default:
				return jsonText(x), true
			}
		}
		return out, true
	}
	return jsonText(v), true
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
