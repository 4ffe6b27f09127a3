package grammar

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Root is the name of the start rule of every grammar built here.
const Root = "root"

// Shared rules of compact JSON. Numbers are bounded so that constrained
// generation can always finish.
var primitives = map[string]string{
	"char":    `[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})`,
	"string":  `"\"" char* "\""`,
	"integer": `"-"? ("0" | [1-9] [0-9]{0,15})`,
	"number":  `integer ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?`,
	"boolean": `"true" | "false"`,
	"null":    `"null"`,
	"value":   `object | array | string | number | boolean | null`,
	"object":  `"{" (string ":" value ("," string ":" value)*)? "}"`,
	"array":   `"[" (value ("," value)*)? "]"`,
}

// primitiveDeps lists the shared rules each shared rule uses.
var primitiveDeps = map[string][]string{
	"string":  {"char"},
	"number":  {"integer"},
	"value":   {"object", "array", "string", "number", "boolean", "null"},
	"object":  {"string", "value"},
	"array":   {"value"},
	"integer": nil, "boolean": nil, "null": nil, "char": nil,
}

// JSONObject is the grammar of any compact JSON object ("json_object").
func JSONObject() string {
	b := newBuilder()
	b.rules[Root] = "object"
	b.use("object")
	return b.String()
}

// GBNF returns the grammar of the documents the schema accepts; its start
// rule is Root.
func (s *Schema) GBNF() string {
	b := newBuilder()
	b.schema = s
	b.rules[Root] = b.expr(s.root, Root)
	return b.String()
}

type builder struct {
	schema *Schema
	rules  map[string]string
	refs   map[string]string // $ref -> rule name
	n      int
}

func newBuilder() *builder {
	return &builder{rules: map[string]string{}, refs: map[string]string{}}
}

// use adds a shared rule and the rules it depends on.
func (b *builder) use(name string) string {
	if _, ok := b.rules[name]; ok {
		return name
	}
	b.rules[name] = primitives[name]
	for _, d := range primitiveDeps[name] {
		b.use(d)
	}
	return name
}

// fresh names a new rule after hint.
func (b *builder) fresh(hint string) string {
	b.n++
	var sb strings.Builder
	for _, r := range hint {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
		} else if sb.Len() > 0 && !strings.HasSuffix(sb.String(), "-") {
			sb.WriteByte('-')
		}
		if sb.Len() >= 24 {
			break
		}
	}
	base := strings.Trim(sb.String(), "-")
	if base == "" {
		base = "r"
	}
	return base + "-" + strconv.Itoa(b.n)
}

// def adds rule name ::= body and returns name.
func (b *builder) def(name, body string) string {
	b.rules[name] = body
	return name
}

// expr returns a GBNF expression for n; hint names any rules it needs.
func (b *builder) expr(n *node, hint string) string {
	switch {
	case n.any:
		return b.use("value")
	case n.ref != "":
		name, ok := b.refs[n.ref]
		if !ok {
			name = b.fresh(n.ref[strings.LastIndex(n.ref, "/")+1:])
			b.refs[n.ref] = name
			b.rules[name] = "" // reserve: the definition may be recursive
			b.rules[name] = b.expr(b.schema.defs[n.ref], name)
		}
		return name
	case n.enum != nil:
		alts := make([]string, len(n.enum))
		for i, v := range n.enum {
			alts[i] = literal(string(v))
		}
		return "(" + strings.Join(alts, " | ") + ")"
	case n.anyOf != nil:
		alts := make([]string, len(n.anyOf))
		for i, sub := range n.anyOf {
			alts[i] = b.expr(sub, hint+"-alt")
		}
		return "(" + strings.Join(alts, " | ") + ")"
	}
	alts := make([]string, 0, len(n.types))
	for _, t := range n.types {
		alts = append(alts, b.typed(n, t, hint))
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return "(" + strings.Join(alts, " | ") + ")"
}

// typed returns the expression for n restricted to JSON type t.
func (b *builder) typed(n *node, t, hint string) string {
	switch t {
	case "string":
		if n.minLen == 0 && n.maxLen < 0 {
			return b.use("string")
		}
		b.use("char")
		return `"\"" ` + repeat("char", n.minLen, n.maxLen) + ` "\""`
	case "integer", "number", "boolean", "null":
		return b.use(t)
	case "array":
		if n.items == nil {
			if n.minItems == 0 && n.maxItems < 0 {
				return b.use("array")
			}
			return b.array(b.use("value"), n.minItems, n.maxItems)
		}
		item := b.expr(n.items, hint+"-item")
		if strings.ContainsAny(item, " |") {
			item = b.def(b.fresh(hint+"-item"), item)
		}
		return b.array(item, n.minItems, n.maxItems)
	case "object":
		if !n.hasProps {
			return b.use("object")
		}
		return b.object(n, hint)
	}
	return b.use("value")
}

// array is "[" followed by min..max items separated by commas, then "]".
func (b *builder) array(item string, lo, hi int) string {
	if hi == 0 {
		return `"[" "]"`
	}
	rest := `("," ` + item + `)`
	var body string
	if lo <= 1 {
		body = item + " " + repeat(rest, 0, dec(hi))
		if lo == 0 {
			body = "(" + body + ")?"
		}
	} else {
		body = item + " " + repeat(rest, lo-1, dec(hi))
	}
	return `"[" ` + body + ` "]"`
}

func dec(hi int) int {
	if hi < 0 {
		return -1
	}
	return hi - 1
}

// object emits declared properties in schema order: required ones always,
// optional ones maybe. Rules s-i ("no member yet, from property i") and
// m-i ("a member already written, from property i") keep the grammar
// linear in the number of properties.
func (b *builder) object(n *node, hint string) string {
	k := len(n.props)
	kv := make([]string, k)
	for i, p := range n.props {
		kv[i] = literal(strconv.Quote(p.name)) + ` ":" ` + b.expr(p.n, hint+"-"+p.name)
	}
	if k == 0 {
		return `"{" "}"`
	}
	base := b.fresh(hint + "-obj")
	// more(i): members i.. after at least one member.
	more := make([]string, k+1)
	for i := k - 1; i >= 1; i-- { // more(0) is never needed
		tail := more[i+1]
		var body string
		if n.required[n.props[i].name] {
			body = strings.TrimSpace(`"," ` + kv[i] + " " + tail)
		} else {
			body = strings.TrimSpace(`("," ` + kv[i] + `)? ` + tail)
		}
		more[i] = b.def(fmt.Sprintf("%s-m%d", base, i), body)
	}
	// first(i): members i.. with none written yet.
	first := ""
	for i := k - 1; i >= 0; i-- {
		withThis := strings.TrimSpace(kv[i] + " " + more[i+1])
		var body string
		switch {
		case n.required[n.props[i].name]:
			body = withThis
		case first == "":
			body = "(" + withThis + ")?"
		default:
			body = withThis + " | " + first
		}
		first = b.def(fmt.Sprintf("%s-f%d", base, i), body)
	}
	// first(0) may match nothing when every property is optional.
	return `"{" ` + first + ` "}"`
}

// repeat writes x{lo,hi} (hi < 0: unbounded) in the forms llama.cpp's
// GBNF parser reads.
func repeat(x string, lo, hi int) string {
	switch {
	case hi < 0 && lo == 0:
		return x + "*"
	case hi < 0 && lo == 1:
		return x + "+"
	case hi < 0:
		return fmt.Sprintf("%s{%d,}", x, lo)
	case lo == 0 && hi == 1:
		return x + "?"
	case lo == hi:
		return fmt.Sprintf("%s{%d}", x, lo)
	}
	return fmt.Sprintf("%s{%d,%d}", x, lo, hi)
}

// literal quotes s as a GBNF string literal.
func literal(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c < 0x20 || c == 0x7F:
			fmt.Fprintf(&sb, `\x%02X`, c)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// String writes the rules, root first, the rest by name.
func (b *builder) String() string {
	names := make([]string, 0, len(b.rules))
	for name := range b.rules {
		if name != Root {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, name := range append([]string{Root}, names...) {
		fmt.Fprintf(&sb, "%s ::= %s\n", name, b.rules[name])
	}
	return sb.String()
}
