package weaviate

import (
	"errors"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestEncIsInjectiveAndWeaviateSafe(t *testing.T) {
	names := []string{"a", "A", "a_b", "a__b", "a.b", "a-b", "a_xb", "A_b", "ab", "Ab", "x2e", "a.B-c_D"}
	seen := map[string]string{}
	for _, n := range names {
		e := chunkClass(n)
		for _, c := range e {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && (c < 'A' || c > 'Z') {
				t.Errorf("%q -> %q has %q", n, e, c)
			}
		}
		if strings.ToLower(e[6:]) != e[6:] {
			t.Errorf("%q -> %q: upper case after the prefix", n, e)
		}
		if prev, ok := seen[strings.ToLower(e)]; ok {
			t.Errorf("%q and %q map to the same collection %q", prev, n, e)
		}
		seen[strings.ToLower(e)] = n
	}
}

func TestMetaValue(t *testing.T) {
	cases := []struct {
		in      any
		typ     string
		wantErr bool
	}{
		{"x", "text", false}, {1.5, "number", false}, {true, "boolean", false}, {nil, "", false},
		{[]any{"a", "b"}, "text[]", false}, {[]any{1.0, 2.0}, "number[]", false}, {[]any{}, "", false},
		{[]any{"a", 1.0}, "", true}, {[]any{[]any{"x"}}, "", true}, {map[string]any{"a": 1}, "", true},
	}
	for _, c := range cases {
		_, typ, err := metaValue(c.in)
		if typ != c.typ || (err != nil) != c.wantErr {
			t.Errorf("metaValue(%v) = %q, %v", c.in, typ, err)
		}
		if err != nil && !errors.Is(err, data.ErrInvalid) {
			t.Errorf("metaValue(%v) error %v is not ErrInvalid", c.in, err)
		}
	}
	types := map[string]string{}
	if _, err := metaProps(map[string]any{"year": 1.0}, types); err != nil {
		t.Fatal(err)
	}
	if _, err := metaProps(map[string]any{"year": "1999"}, types); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("conflicting types in one write: %v", err)
	}
}

func TestWhereFor(t *testing.T) {
	types := map[string]string{metaProp("genre"): "text", metaProp("year"): "number", metaProp("tags"): "text[]"}
	parse := func(s string) data.Filter {
		f, err := data.ParseFilterJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	cases := []struct {
		filter string
		none   bool
		want   string // substring of the rendered where clause ("" = no clause)
	}{
		{`{"genre":"a"}`, false, `operator: Equal`},
		{`{"genre":{"$in":["a","b"]}}`, false, `operator: ContainsAny`},
		{`{"genre":{"$nin":["a","b"]}}`, false, `operator: And`},
		{`{"year":{"$gte":3}}`, false, `operator: GreaterThanEqual`},
		{`{"tags":"x"}`, false, `operator: Equal`},
		{`{"missing":"x"}`, true, ""},
		{`{"missing":{"$ne":"x"}}`, false, ""},
		{`{"year":"3"}`, true, ""},
		{`{"year":{"$ne":"3"}}`, false, ""},
		{`{"genre":{"$in":[1,2]}}`, true, ""},
	}
	for _, c := range cases {
		w, none := whereFor(parse(c.filter), types)
		if none != c.none {
			t.Errorf("%s: none = %v", c.filter, none)
			continue
		}
		if c.want == "" {
			if w != nil && !none {
				t.Errorf("%s: want no clause, got %s", c.filter, w.String())
			}
			continue
		}
		if w == nil || !strings.Contains(w.String(), c.want) {
			t.Errorf("%s: clause %v lacks %q", c.filter, w, c.want)
		}
	}
}

func TestVectorScore(t *testing.T) {
	if s := vectorScore(data.Cosine, 0.25); s != 0.75 {
		t.Errorf("cosine = %v", s)
	}
	if s := vectorScore(data.Dot, -3); s != 3 {
		t.Errorf("dot = %v", s)
	}
	if s := vectorScore(data.L2, 4); s != -2 {
		t.Errorf("l2 = %v", s)
	}
}

func TestOpenRefusesBadConfig(t *testing.T) {
	for _, c := range []Config{{}, {URL: "ftp://x"}, {URL: "http://127.0.0.1:1", Consistency: "SOME"}, {URL: "http://127.0.0.1:1", Replication: -1}} {
		if _, err := Open(t.Context(), c); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("Open(%+v) = %v, want ErrInvalid", c, err)
		}
	}
	if _, err := Open(t.Context(), Config{URL: "http://127.0.0.1:1", Timeout: 2e9}); !errors.Is(err, data.ErrUnavailable) {
		t.Errorf("Open on a closed port = %v, want ErrUnavailable", err)
	}
}
