package cloudflare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/ragd/ragd/api"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

// Limits on one vector (Cloudflare's, except where noted in docs/cloudflare.md).
const (
	MaxIDBytes        = 64
	MaxNamespaceBytes = 64
	MaxMetadataBytes  = 10 << 10
	MaxMetadataKeyLen = 512
)

// namespaceKey is the metadata key ragd's engine reads a vector's
// namespace from; it is reserved in Vectorize metadata.
const namespaceKey = "namespace"

// values is a vector read strictly from JSON: an array of finite numbers
// that fit a float32. null elements, strings and out-of-range numbers are
// errors (encoding/json would silently turn null into 0).
type values []float32

func (v *values) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("values must be an array of numbers")
	}
	if raw == nil {
		return fmt.Errorf("values must be an array of numbers, not null")
	}
	out := make([]float32, len(raw))
	for i, r := range raw {
		s := string(bytes.TrimSpace(r))
		if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
			return fmt.Errorf("values[%d] is %s, not a number", i, clip(s))
		}
		f, err := strconv.ParseFloat(s, 32)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("values[%d] = %s does not fit a 32-bit float", i, clip(s))
		}
		out[i] = float32(f)
	}
	*v = out
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// vectorLine is one NDJSON record of insert/upsert.
type vectorLine struct {
	ID        *string        `json:"id"`
	Values    values         `json:"values"`
	Namespace *string        `json:"namespace"`
	Metadata  map[string]any `json:"metadata"`
}

// vector is a validated record.
type vector struct {
	ID        string
	Values    []float32
	Namespace string
	Metadata  map[string]any
}

// parseNDJSON reads and validates a whole insert/upsert body. With
// discard, lines that are not well-formed vector objects are skipped
// (Cloudflare's unparsable-behavior=discard); otherwise the first such line
// fails the request. Invalid vectors (ids, dimensions, metadata, duplicate
// ids) always fail it. dims 0 means "whatever the first vector has".
func parseNDJSON(body []byte, dims int, discard bool, maxBatch int) ([]vector, int, error) {
	var out []vector
	seen := map[string]int{}
	skipped := 0
	lineNo := 0
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		lineNo++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var vl vectorLine
		if err := api.DecodeJSON(line, &vl); err != nil || vl.ID == nil || vl.Values == nil {
			if discard {
				skipped++
				continue
			}
			if err == nil {
				err = fmt.Errorf("%w: each line needs \"id\" and \"values\"", data.ErrInvalid)
			}
			return nil, 0, fmt.Errorf("line %d: %w", lineNo, err)
		}
		v, err := vl.validate(dims)
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if dims == 0 {
			dims = len(v.Values)
		}
		if first, dup := seen[v.ID]; dup {
			return nil, 0, fmt.Errorf("%w: line %d: id %q already appears on line %d of this request", data.ErrInvalid, lineNo, v.ID, first)
		}
		seen[v.ID] = lineNo
		out = append(out, v)
		if len(out) > maxBatch {
			return nil, 0, fmt.Errorf("%w: more than %d vectors in one request", data.ErrTooLarge, maxBatch)
		}
	}
	if len(out) == 0 {
		return nil, skipped, fmt.Errorf("%w: no vectors in the body (want NDJSON: one {\"id\",\"values\",\"namespace\"?,\"metadata\"?} per line)", data.ErrInvalid)
	}
	return out, skipped, nil
}

func (vl vectorLine) validate(dims int) (vector, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, a...)...)
	}
	v := vector{ID: *vl.ID, Values: vl.Values}
	if err := data.CheckID("id", v.ID, MaxIDBytes); err != nil {
		return v, bad("id %q must be 1..%d bytes of UTF-8 without control characters", clip(v.ID), MaxIDBytes)
	}
	if dims > 0 && len(v.Values) != dims {
		return v, fmt.Errorf("%w: vector %q has %d dimensions, the index has %d", data.ErrDimension, v.ID, len(v.Values), dims)
	}
	if len(v.Values) == 0 {
		return v, bad("vector %q has no values", v.ID)
	}
	if vl.Namespace != nil {
		v.Namespace = *vl.Namespace
		if len(v.Namespace) > MaxNamespaceBytes || !utf8.ValidString(v.Namespace) {
			return v, bad("vector %q: namespace must be at most %d bytes of UTF-8", v.ID, MaxNamespaceBytes)
		}
	}
	if len(vl.Metadata) > 0 {
		if err := checkMetadata(vl.Metadata); err != nil {
			return v, fmt.Errorf("vector %q: %w", v.ID, err)
		}
		v.Metadata = vl.Metadata
	}
	return v, nil
}

// checkMetadata enforces the shapes ragd can store and filter: scalar
// values or arrays of scalars, under keys that are not filter syntax.
func checkMetadata(m map[string]any) error {
	b, _ := json.Marshal(m)
	if len(b) > MaxMetadataBytes {
		return fmt.Errorf("%w: metadata is %d bytes of JSON, limit %d", data.ErrInvalid, len(b), MaxMetadataBytes)
	}
	for k, val := range m {
		switch {
		case k == "" || len(k) > MaxMetadataKeyLen:
			return fmt.Errorf("%w: metadata keys must be 1..%d bytes", data.ErrInvalid, MaxMetadataKeyLen)
		case strings.HasPrefix(k, "$") || strings.ContainsAny(k, ".\""):
			return fmt.Errorf("%w: metadata key %q may not start with $ or contain . or \"", data.ErrInvalid, k)
		case k == namespaceKey:
			return fmt.Errorf("%w: metadata key %q is reserved by ragd; use the vector's namespace field", data.ErrInvalid, k)
		}
		switch x := val.(type) {
		case string, float64, bool, nil:
		case []any:
			for _, e := range x {
				switch e.(type) {
				case string, float64, bool, nil:
				default:
					return fmt.Errorf("%w: metadata %q: arrays may hold only strings, numbers, booleans and null", data.ErrInvalid, k)
				}
			}
		default:
			return fmt.Errorf("%w: metadata %q: nested objects are not supported by ragd", data.ErrInvalid, k)
		}
	}
	return nil
}

// storedValues returns the vector of a document written through these
// routes (its single chunk's vector), or nil.
func storedValues(doc data.Document) []float32 {
	if len(doc.Chunks) == 0 {
		return nil
	}
	return doc.Chunks[0].Vector
}

// document turns a vector into a ragd document with one chunk.
func (v vector) document() data.Document {
	var meta map[string]any
	if len(v.Metadata) > 0 || v.Namespace != "" {
		meta = make(map[string]any, len(v.Metadata)+1)
		for k, x := range v.Metadata {
			meta[k] = x
		}
		if v.Namespace != "" {
			meta[namespaceKey] = v.Namespace
		}
	}
	return data.Document{ID: v.ID, Source: "vectorize", Metadata: meta,
		Chunks: []data.Chunk{{ID: data.ChunkID(v.ID, 0), DocID: v.ID, Ordinal: 0, Vector: v.Values}}}
}

// splitNamespace separates the namespace from stored metadata.
func splitNamespace(meta map[string]any) (map[string]any, string) {
	ns, _ := meta[namespaceKey].(string)
	if _, has := meta[namespaceKey]; !has {
		return meta, ""
	}
	out := make(map[string]any, len(meta))
	for k, x := range meta {
		if k != namespaceKey {
			out[k] = x
		}
	}
	return out, ns
}
