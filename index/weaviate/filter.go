package weaviate

import (
	"strings"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"

	"github.com/ragd/ragd/data"
)

// whereFor translates ragd's filter into Weaviate's where clause over the
// metadata properties whose types are given. ragd's semantics are kept: a
// condition on a field that no chunk has (or holds a value of another
// type) matches nothing for $eq, $in and ranges, and everything for $ne and
// $nin. none reports a filter that can match nothing; where is nil when
// every condition is always true.
func whereFor(f data.Filter, types map[string]string) (where *filters.WhereBuilder, none bool) {
	var ops []*filters.WhereBuilder
	for _, c := range f.Conds {
		p := metaProp(c.Field)
		typ := strings.TrimSuffix(types[p], "[]")
		negative := c.Op == data.OpNe || c.Op == data.OpNin
		if typ == "" {
			if negative {
				continue
			}
			return nil, true
		}
		var vals []any
		if c.Op == data.OpIn || c.Op == data.OpNin {
			list, _ := c.Value.([]any)
			for _, v := range list {
				if valueType(v) == typ {
					vals = append(vals, v)
				}
			}
		} else if valueType(c.Value) == typ {
			vals = []any{c.Value}
		}
		if len(vals) == 0 {
			if negative {
				continue
			}
			return nil, true
		}
		path := []string{p}
		switch c.Op {
		case data.OpEq:
			ops = append(ops, withValues(filters.Where().WithPath(path).WithOperator(filters.Equal), typ, vals))
		case data.OpNe:
			ops = append(ops, withValues(filters.Where().WithPath(path).WithOperator(filters.NotEqual), typ, vals))
		case data.OpIn:
			ops = append(ops, withValues(filters.Where().WithPath(path).WithOperator(filters.ContainsAny), typ, vals))
		case data.OpNin:
			for _, v := range vals {
				ops = append(ops, withValues(filters.Where().WithPath(path).WithOperator(filters.NotEqual), typ, []any{v}))
			}
		case data.OpLt, data.OpLte, data.OpGt, data.OpGte:
			if typ == "boolean" {
				return nil, true
			}
			op := map[data.Op]filters.WhereOperator{data.OpLt: filters.LessThan, data.OpLte: filters.LessThanEqual,
				data.OpGt: filters.GreaterThan, data.OpGte: filters.GreaterThanEqual}[c.Op]
			ops = append(ops, withValues(filters.Where().WithPath(path).WithOperator(op), typ, vals))
		}
	}
	switch len(ops) {
	case 0:
		return nil, false
	case 1:
		return ops[0], false
	}
	return filters.Where().WithOperator(filters.And).WithOperands(ops), false
}

// valueType is the Weaviate base type a filter value compares with.
func valueType(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return ""
}

func withValues(w *filters.WhereBuilder, typ string, vals []any) *filters.WhereBuilder {
	switch typ {
	case "text":
		s := make([]string, len(vals))
		for i, v := range vals {
			s[i], _ = v.(string)
		}
		return w.WithValueText(s...)
	case "number":
		n := make([]float64, len(vals))
		for i, v := range vals {
			n[i], _ = v.(float64)
		}
		return w.WithValueNumber(n...)
	default:
		bs := make([]bool, len(vals))
		for i, v := range vals {
			bs[i], _ = v.(bool)
		}
		return w.WithValueBoolean(bs...)
	}
}
