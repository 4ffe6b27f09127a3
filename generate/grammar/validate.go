package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

// Validate checks that doc is one JSON value that the schema accepts. The
// error (wrapping data.ErrInvalid) names the first place that fails.
func (s *Schema) Validate(doc []byte) error {
	r := bytes.NewReader(doc)
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%w: not JSON: %w", data.ErrInvalid, err)
	}
	if rest, _ := io.ReadAll(io.MultiReader(dec.Buffered(), r)); len(bytes.TrimSpace(rest)) > 0 {
		return fmt.Errorf("%w: text after the JSON value", data.ErrInvalid)
	}
	return s.check(s.root, v, "$", 0)
}

func (s *Schema) check(n *node, v any, at string, depth int) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{data.ErrInvalid, at}, args...)...)
	}
	if depth > 2*maxDepth {
		return fail("nested too deep")
	}
	switch {
	case n.any:
		return nil
	case n.ref != "":
		return s.check(s.defs[n.ref], v, at, depth+1)
	case n.enum != nil:
		for _, e := range n.enum {
			var want any
			d := json.NewDecoder(bytes.NewReader(e))
			d.UseNumber()
			if d.Decode(&want) == nil && equal(want, v) {
				return nil
			}
		}
		return fail("not one of the enum values")
	case n.anyOf != nil:
		matched := 0
		for _, sub := range n.anyOf {
			if s.check(sub, v, at, depth+1) == nil {
				matched++
			}
		}
		if matched == 0 || (n.oneOf && matched > 1) {
			return fail("matches %d of the %d alternatives", matched, len(n.anyOf))
		}
		return nil
	}
	t := typeOf(v)
	if !n.allows(t) {
		return fail("is %s, want %v", t, n.types)
	}
	switch x := v.(type) {
	case string:
		l := utf8.RuneCountInString(x)
		if l < n.minLen || (n.maxLen >= 0 && l > n.maxLen) {
			return fail("string of %d characters outside [%d, %d]", l, n.minLen, n.maxLen)
		}
	case []any:
		if len(x) < n.minItems || (n.maxItems >= 0 && len(x) > n.maxItems) {
			return fail("%d items outside [%d, %d]", len(x), n.minItems, n.maxItems)
		}
		if n.items != nil {
			for i, it := range x {
				if err := s.check(n.items, it, fmt.Sprintf("%s[%d]", at, i), depth+1); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		for name := range n.required {
			if _, ok := x[name]; !ok {
				return fail("missing required property %q", name)
			}
		}
		if n.noExtra {
			for name := range x {
				if !n.declared(name) {
					return fail("property %q is not allowed (additionalProperties false)", name)
				}
			}
		}
		for _, p := range n.props {
			if pv, ok := x[p.name]; ok {
				if err := s.check(p.n, pv, at+"."+p.name, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// typeOf names the JSON type of a value decoded with UseNumber; a number
// with an integral value is an "integer".
func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

// equal compares decoded JSON values; numbers by value.
func equal(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, e1 := x.Float64()
		fy, e2 := y.Float64()
		return e1 == nil && e2 == nil && fx == fy
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return a == b
}
