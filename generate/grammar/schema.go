package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ragd/ragd/data"
)

// Limits on a schema.
const (
	maxDepth = 32   // nesting of subschemas
	maxNodes = 4096 // subschemas in all
)

// Schema is a parsed JSON schema of the supported subset.
type Schema struct {
	root *node
	defs map[string]*node // by "#/$defs/name" or "#/definitions/name"
}

// node is one (sub)schema.
type node struct {
	any      bool     // no constraint: any JSON value
	types    []string // allowed JSON types; empty = any (unless enum/const/anyOf/ref)
	props    []prop   // declared properties, in schema order
	required map[string]bool
	items    *node
	minItems int
	maxItems int // -1 = unbounded
	minLen   int
	maxLen   int               // -1 = unbounded
	enum     []json.RawMessage // compact JSON of each allowed value
	anyOf    []*node
	oneOf    bool // anyOf came from oneOf
	ref      string
	hasProps bool // "properties" was given
	noExtra  bool // additionalProperties: false
}

type prop struct {
	name string
	n    *node
}

// refused names keywords that constrain output beyond the subset.
var refused = map[string]bool{
	"pattern": true, "format": true, "minimum": true, "maximum": true,
	"exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"patternProperties": true, "prefixItems": true, "uniqueItems": true,
	"contains": true, "minContains": true, "maxContains": true, "not": true,
	"allOf": true, "if": true, "then": true, "else": true,
	"dependentRequired": true, "dependentSchemas": true, "dependencies": true,
	"minProperties": true, "maxProperties": true, "propertyNames": true,
	"unevaluatedProperties": true, "unevaluatedItems": true,
	"contentEncoding": true, "contentMediaType": true, "$dynamicRef": true,
}

// Parse reads a JSON schema. An unsupported keyword fails with an error
// wrapping data.ErrUnsupported that names it; a malformed schema with one
// wrapping data.ErrInvalid.
func Parse(schema []byte) (*Schema, error) {
	p := &parser{s: &Schema{defs: map[string]*node{}}}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(schema, &top); err != nil {
		var b bool
		if json.Unmarshal(schema, &b) == nil {
			if !b {
				return nil, fmt.Errorf("%w: json schema false (no value allowed)", data.ErrUnsupported)
			}
			p.s.root = &node{any: true}
			return p.s, nil
		}
		return nil, fmt.Errorf("%w: json schema must be a JSON object: %w", data.ErrInvalid, err)
	}
	for _, key := range []string{"$defs", "definitions"} {
		raw, ok := top[key]
		if !ok {
			continue
		}
		var defs map[string]json.RawMessage
		if err := json.Unmarshal(raw, &defs); err != nil {
			return nil, fmt.Errorf("%w: json schema %s must be an object", data.ErrInvalid, key)
		}
		names := make([]string, 0, len(defs))
		for name := range defs {
			names = append(names, name)
		}
		sort.Strings(names)
		// Register first so that definitions may refer to each other.
		for _, name := range names {
			p.s.defs["#/"+key+"/"+name] = &node{}
		}
		for _, name := range names {
			n, err := p.node(defs[name], key+"."+name, 1)
			if err != nil {
				return nil, err
			}
			*p.s.defs["#/"+key+"/"+name] = *n
		}
	}
	root, err := p.node(schema, "", 0)
	if err != nil {
		return nil, err
	}
	p.s.root = root
	return p.s, nil
}

type parser struct {
	s     *Schema
	nodes int
}

func (p *parser) node(raw json.RawMessage, path string, depth int) (*node, error) {
	at := func() string {
		if path == "" {
			return "json schema"
		}
		return "json schema at " + path
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: %s nested deeper than %d", data.ErrInvalid, at(), maxDepth)
	}
	if p.nodes++; p.nodes > maxNodes {
		return nil, fmt.Errorf("%w: json schema has more than %d subschemas", data.ErrInvalid, maxNodes)
	}
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "true":
		return &node{any: true}, nil
	case "false":
		return nil, fmt.Errorf("%w: %s is false (no value allowed)", data.ErrUnsupported, at())
	}
	var kw map[string]json.RawMessage
	if err := json.Unmarshal(raw, &kw); err != nil {
		return nil, fmt.Errorf("%w: %s must be an object", data.ErrInvalid, at())
	}
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if refused[k] {
			return nil, fmt.Errorf("%w: json schema keyword %q (at %s) is not supported for constrained generation", data.ErrUnsupported, k, orRoot(path))
		}
	}
	n := &node{maxItems: -1, maxLen: -1}
	bad := func(k, want string) error {
		return fmt.Errorf("%w: %s: %q must be %s", data.ErrInvalid, at(), k, want)
	}
	if r, ok := kw["$ref"]; ok {
		if err := json.Unmarshal(r, &n.ref); err != nil {
			return nil, bad("$ref", "a string")
		}
		if _, ok := p.s.defs[n.ref]; !ok {
			return nil, fmt.Errorf("%w: %s: $ref %q (only \"#/$defs/NAME\" and \"#/definitions/NAME\" of this schema)", data.ErrUnsupported, at(), n.ref)
		}
		return n, nil
	}
	if t, ok := kw["type"]; ok {
		var one string
		if json.Unmarshal(t, &one) == nil {
			n.types = []string{one}
		} else if json.Unmarshal(t, &n.types) != nil || len(n.types) == 0 {
			return nil, bad("type", "a type name or a non-empty list of them")
		}
		for _, ty := range n.types {
			switch ty {
			case "object", "array", "string", "integer", "number", "boolean", "null":
			default:
				return nil, fmt.Errorf("%w: %s: unknown type %q", data.ErrInvalid, at(), ty)
			}
		}
	}
	if e, ok := kw["enum"]; ok {
		var vals []json.RawMessage
		if json.Unmarshal(e, &vals) != nil || len(vals) == 0 {
			return nil, bad("enum", "a non-empty array")
		}
		for _, v := range vals {
			n.enum = append(n.enum, compact(v))
		}
	}
	if c, ok := kw["const"]; ok {
		n.enum = []json.RawMessage{compact(c)}
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		a, ok := kw[k]
		if !ok {
			continue
		}
		var subs []json.RawMessage
		if json.Unmarshal(a, &subs) != nil || len(subs) == 0 {
			return nil, bad(k, "a non-empty array of schemas")
		}
		if n.anyOf != nil {
			return nil, fmt.Errorf("%w: %s: both anyOf and oneOf", data.ErrUnsupported, at())
		}
		for i, sub := range subs {
			sn, err := p.node(sub, fmt.Sprintf("%s.%s[%d]", path, k, i), depth+1)
			if err != nil {
				return nil, err
			}
			n.anyOf = append(n.anyOf, sn)
		}
		n.oneOf = k == "oneOf"
	}
	if pr, ok := kw["properties"]; ok {
		names, vals, err := orderedObject(pr)
		if err != nil {
			return nil, bad("properties", "an object")
		}
		n.hasProps = true
		for i, name := range names {
			sn, err := p.node(vals[i], path+".properties."+name, depth+1)
			if err != nil {
				return nil, err
			}
			n.props = append(n.props, prop{name: name, n: sn})
		}
	}
	if r, ok := kw["required"]; ok {
		var req []string
		if json.Unmarshal(r, &req) != nil {
			return nil, bad("required", "an array of strings")
		}
		n.required = map[string]bool{}
		for _, name := range req {
			if !n.declared(name) {
				return nil, fmt.Errorf("%w: %s: required property %q is not in properties", data.ErrUnsupported, at(), name)
			}
			n.required[name] = true
		}
	}
	if ap, ok := kw["additionalProperties"]; ok {
		switch string(bytes.TrimSpace(ap)) {
		case "false":
			n.noExtra = true
		case "true", "{}":
		default:
			return nil, fmt.Errorf("%w: json schema keyword \"additionalProperties\" with a schema (at %s); use false, true or properties", data.ErrUnsupported, orRoot(path))
		}
	}
	if it, ok := kw["items"]; ok {
		sn, err := p.node(it, path+".items", depth+1)
		if err != nil {
			return nil, err
		}
		n.items = sn
	}
	for k, dst := range map[string]*int{"minItems": &n.minItems, "maxItems": &n.maxItems, "minLength": &n.minLen, "maxLength": &n.maxLen} {
		if v, ok := kw[k]; ok {
			if json.Unmarshal(v, dst) != nil || *dst < 0 {
				return nil, bad(k, "a non-negative integer")
			}
		}
	}
	if n.maxItems >= 0 && n.minItems > n.maxItems {
		return nil, fmt.Errorf("%w: %s: minItems > maxItems", data.ErrInvalid, at())
	}
	if n.maxLen >= 0 && n.minLen > n.maxLen {
		return nil, fmt.Errorf("%w: %s: minLength > maxLength", data.ErrInvalid, at())
	}
	if len(n.types) == 0 && n.enum == nil && n.anyOf == nil {
		switch {
		case n.hasProps || n.required != nil:
			n.types = []string{"object"}
		case n.items != nil:
			n.types = []string{"array"}
		default:
			n.any = true
		}
	}
	return n, nil
}

func (n *node) declared(name string) bool {
	for _, p := range n.props {
		if p.name == name {
			return true
		}
	}
	return false
}

func (n *node) allows(t string) bool {
	for _, ty := range n.types {
		if ty == t || (ty == "number" && t == "integer") {
			return true
		}
	}
	return false
}

func orRoot(path string) string {
	if path == "" {
		return "the root"
	}
	return strings.TrimPrefix(path, ".")
}

// orderedObject reads a JSON object's keys in document order.
func orderedObject(raw json.RawMessage) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	t, err := dec.Token()
	if err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("not an object")
	}
	var names []string
	var vals []json.RawMessage
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("duplicate property %q", name)
		}
		seen[name] = true
		names = append(names, name)
		vals = append(vals, v)
	}
	return names, vals, nil
}

// compact returns v without insignificant whitespace.
func compact(v json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return v
	}
	return b.Bytes()
}
