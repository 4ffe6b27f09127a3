package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Op is a filter comparison operator (the Vectorize set).
type Op string

// Filter operators.
const (
	OpEq  Op = "$eq"
	OpNe  Op = "$ne"
	OpIn  Op = "$in"
	OpNin Op = "$nin"
	OpLt  Op = "$lt"
	OpLte Op = "$lte"
	OpGt  Op = "$gt"
	OpGte Op = "$gte"
)

// Cond is one condition on a metadata field. Value holds a string, float64,
// bool or nil; for $in/$nin it holds a []any of those.
type Cond struct {
	Field string `json:"field"`
	Op    Op     `json:"op"`
	Value any    `json:"value"`
}

// Filter is a conjunction of conditions over chunk metadata. The zero
// Filter matches everything. The special field "namespace" is not used here:
// namespaces are a Query field of their own.
type Filter struct {
	Conds []Cond `json:"conds,omitempty"`
}

// IsZero reports whether f matches everything.
func (f Filter) IsZero() bool { return len(f.Conds) == 0 }

// Limits on filters, to keep evaluation cheap and bounded.
const (
	MaxFilterConds  = 64
	MaxFilterValues = 1024
	MaxFieldLen     = 512
)

// ParseFilterJSON parses the Vectorize filter shape:
//
//	{"genre": "drama", "year": {"$gte": 1990, "$lt": 2000}, "tag": {"$in": ["a","b"]}}
//
// A bare value means $eq. Conditions are sorted by field and operator so
// equal filters compare equal.
func ParseFilterJSON(b []byte) (Filter, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return Filter{}, nil
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Filter{}, fmt.Errorf("%w: filter must be a JSON object: %w", ErrInvalid, err)
	}
	var f Filter
	for field, v := range raw {
		if err := checkField(field); err != nil {
			return Filter{}, err
		}
		conds, err := parseFieldConds(field, v)
		if err != nil {
			return Filter{}, err
		}
		f.Conds = append(f.Conds, conds...)
		if len(f.Conds) > MaxFilterConds {
			return Filter{}, fmt.Errorf("%w: filter has more than %d conditions", ErrInvalid, MaxFilterConds)
		}
	}
	f.sort()
	return f, nil
}

// UnmarshalJSON accepts either the Vectorize object shape or {"conds":[...]}.
func (f *Filter) UnmarshalJSON(b []byte) error {
	var probe struct {
		Conds []Cond `json:"conds"`
	}
	if err := json.Unmarshal(b, &probe); err == nil && probe.Conds != nil {
		nf := Filter{Conds: probe.Conds}
		if err := nf.Validate(); err != nil {
			return err
		}
		*f = nf
		return nil
	}
	nf, err := ParseFilterJSON(b)
	if err != nil {
		return err
	}
	*f = nf
	return nil
}

// MarshalJSON writes the Vectorize object shape.
func (f Filter) MarshalJSON() ([]byte, error) {
	m := map[string]map[string]any{}
	for _, c := range f.Conds {
		if m[c.Field] == nil {
			m[c.Field] = map[string]any{}
		}
		m[c.Field][string(c.Op)] = c.Value
	}
	return json.Marshal(m)
}

// Validate checks operators, fields and value types.
func (f Filter) Validate() error {
	if len(f.Conds) > MaxFilterConds {
		return fmt.Errorf("%w: filter has more than %d conditions", ErrInvalid, MaxFilterConds)
	}
	for _, c := range f.Conds {
		if err := checkField(c.Field); err != nil {
			return err
		}
		switch c.Op {
		case OpEq, OpNe:
			if !scalar(c.Value) {
				return fmt.Errorf("%w: filter %s %s needs a string, number, bool or null", ErrInvalid, c.Field, c.Op)
			}
		case OpIn, OpNin:
			vs, ok := c.Value.([]any)
			if !ok {
				return fmt.Errorf("%w: filter %s %s needs an array", ErrInvalid, c.Field, c.Op)
			}
			if len(vs) > MaxFilterValues {
				return fmt.Errorf("%w: filter %s %s has more than %d values", ErrInvalid, c.Field, c.Op, MaxFilterValues)
			}
			for _, v := range vs {
				if !scalar(v) {
					return fmt.Errorf("%w: filter %s %s values must be scalars", ErrInvalid, c.Field, c.Op)
				}
			}
		case OpLt, OpLte, OpGt, OpGte:
			switch v := c.Value.(type) {
			case string:
			case float64:
				if math.IsNaN(v) {
					return fmt.Errorf("%w: filter %s %s: NaN", ErrInvalid, c.Field, c.Op)
				}
			default:
				return fmt.Errorf("%w: filter %s %s needs a number or string", ErrInvalid, c.Field, c.Op)
			}
		default:
			return fmt.Errorf("%w: unknown filter operator %q (want $eq $ne $in $nin $lt $lte $gt $gte)", ErrInvalid, c.Op)
		}
	}
	return nil
}

func checkField(field string) error {
	if field == "" {
		return fmt.Errorf("%w: empty filter field", ErrInvalid)
	}
	if len(field) > MaxFieldLen {
		return fmt.Errorf("%w: filter field longer than %d bytes", ErrInvalid, MaxFieldLen)
	}
	if strings.HasPrefix(field, "$") {
		return fmt.Errorf("%w: filter field %q may not start with $", ErrInvalid, field)
	}
	return nil
}

func parseFieldConds(field string, raw json.RawMessage) ([]Cond, error) {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '{' {
		var ops map[string]json.RawMessage
		if err := json.Unmarshal(t, &ops); err != nil {
			return nil, fmt.Errorf("%w: filter %q: %w", ErrInvalid, field, err)
		}
		if len(ops) == 0 {
			return nil, fmt.Errorf("%w: filter %q has no operator", ErrInvalid, field)
		}
		var out []Cond
		for op, v := range ops {
			val, err := decodeValue(v)
			if err != nil {
				return nil, fmt.Errorf("%w: filter %q %s: %w", ErrInvalid, field, op, err)
			}
			c := Cond{Field: field, Op: Op(op), Value: val}
			if err := (Filter{Conds: []Cond{c}}).Validate(); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	val, err := decodeValue(t)
	if err != nil {
		return nil, fmt.Errorf("%w: filter %q: %w", ErrInvalid, field, err)
	}
	c := Cond{Field: field, Op: OpEq, Value: val}
	if err := (Filter{Conds: []Cond{c}}).Validate(); err != nil {
		return nil, err
	}
	return []Cond{c}, nil
}

// decodeValue turns JSON into string/float64/bool/nil or []any of those.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v)
}

func normalize(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("bad number %s", x)
		}
		return f, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case string, bool, nil, float64:
		return x, nil
	case int:
		return float64(x), nil
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

func scalar(v any) bool {
	switch x := v.(type) {
	case string, bool, nil:
		return true
	case float64:
		return !math.IsNaN(x)
	}
	return false
}

// ParseFilterKV parses CLI filters of the form key=value, key!=value,
// key>=n, key<=n, key>n, key<n and key=a|b|c (set membership). Numbers and
// true/false are typed; everything else is a string.
func ParseFilterKV(exprs []string) (Filter, error) {
	var f Filter
	for _, e := range exprs {
		c, err := parseKV(e)
		if err != nil {
			return Filter{}, err
		}
		f.Conds = append(f.Conds, c)
	}
	if err := f.Validate(); err != nil {
		return Filter{}, err
	}
	f.sort()
	return f, nil
}

func parseKV(e string) (Cond, error) {
	for _, op := range []struct {
		tok string
		op  Op
	}{{"!=", OpNe}, {">=", OpGte}, {"<=", OpLte}, {"=", OpEq}, {">", OpGt}, {"<", OpLt}} {
		i := strings.Index(e, op.tok)
		if i <= 0 {
			continue
		}
		field := strings.TrimSpace(e[:i])
		val := strings.TrimSpace(e[i+len(op.tok):])
		if val != "" && strings.ContainsRune("=<>!", rune(val[0])) {
			return Cond{}, fmt.Errorf("%w: filter %q: malformed operator", ErrInvalid, e)
		}
		c := Cond{Field: field, Op: op.op}
		if (op.op == OpEq || op.op == OpNe) && strings.Contains(val, "|") {
			parts := strings.Split(val, "|")
			vs := make([]any, len(parts))
			for j, p := range parts {
				vs[j] = typed(p)
			}
			c.Value = vs
			c.Op = OpIn
			if op.op == OpNe {
				c.Op = OpNin
			}
		} else {
			c.Value = typed(val)
		}
		if err := checkField(field); err != nil {
			return Cond{}, err
		}
		return c, nil
	}
	return Cond{}, fmt.Errorf("%w: filter %q: want key=value, key!=value, key>=n, key<=n, key>n, key<n", ErrInvalid, e)
}

func typed(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return f
	}
	return s
}

func (f *Filter) sort() {
	sort.SliceStable(f.Conds, func(i, j int) bool {
		if f.Conds[i].Field != f.Conds[j].Field {
			return f.Conds[i].Field < f.Conds[j].Field
		}
		return f.Conds[i].Op < f.Conds[j].Op
	})
}

// Match reports whether metadata satisfies every condition. A missing field
// matches only $ne and $nin (as in Vectorize). A metadata value that is an
// array matches $eq/$in when any element does.
func (f Filter) Match(meta map[string]any) bool {
	for _, c := range f.Conds {
		if !c.match(meta) {
			return false
		}
	}
	return true
}

func (c Cond) match(meta map[string]any) bool {
	v, ok := meta[c.Field]
	if !ok {
		return c.Op == OpNe || c.Op == OpNin
	}
	if arr, isArr := v.([]any); isArr {
		switch c.Op {
		case OpNe, OpNin:
			for _, e := range arr {
				if !(Cond{Field: c.Field, Op: c.Op, Value: c.Value}).matchScalar(e) {
					return false
				}
			}
			return true
		default:
			for _, e := range arr {
				if c.matchScalar(e) {
					return true
				}
			}
			return false
		}
	}
	if arr, isArr := v.([]string); isArr {
		anyArr := make([]any, len(arr))
		for i, s := range arr {
			anyArr[i] = s
		}
		return c.match(map[string]any{c.Field: anyArr})
	}
	return c.matchScalar(v)
}

func (c Cond) matchScalar(v any) bool {
	v = canon(v)
	switch c.Op {
	case OpEq:
		return equal(v, c.Value)
	case OpNe:
		return !equal(v, c.Value)
	case OpIn, OpNin:
		vs, _ := c.Value.([]any)
		in := false
		for _, x := range vs {
			if equal(v, x) {
				in = true
				break
			}
		}
		return in == (c.Op == OpIn)
	case OpLt, OpLte, OpGt, OpGte:
		cmp, ok := compare(v, c.Value)
		if !ok {
			return false
		}
		switch c.Op {
		case OpLt:
			return cmp < 0
		case OpLte:
			return cmp <= 0
		case OpGt:
			return cmp > 0
		default:
			return cmp >= 0
		}
	}
	return false
}

// canon maps integer kinds to float64 so comparisons are uniform.
func canon(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case uint64:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	}
	return v
}

func equal(a, b any) bool {
	return canon(a) == canon(b)
}

func compare(a, b any) (int, bool) {
	a, b = canon(a), canon(b)
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	}
	return 0, false
}
