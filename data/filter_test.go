package data

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseFilterJSON(t *testing.T) {
	f, err := ParseFilterJSON([]byte(`{"year": {"$gte": 1990, "$lt": 2000}, "genre": "drama", "tag": {"$in": ["a", "b"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cond{
		{Field: "genre", Op: OpEq, Value: "drama"},
		{Field: "tag", Op: OpIn, Value: []any{"a", "b"}},
		{Field: "year", Op: OpGte, Value: 1990.0},
		{Field: "year", Op: OpLt, Value: 2000.0},
	}
	got, _ := json.Marshal(f.Conds)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Fatalf("got %s\nwant %s", got, exp)
	}
	bad := []string{
		`[1,2]`, `{"x": {"$regex": "a"}}`, `{"x": {"$in": "notarray"}}`, `{"x": {"$lt": true}}`,
		`{"$x": 1}`, `{"": 1}`, `{"x": {}}`, `{"x": {"$eq": {"nested": 1}}}`, `{"x": 1e999}`, `{`,
	}
	for _, b := range bad {
		if _, err := ParseFilterJSON([]byte(b)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", b, err)
		}
	}
	if f, err := ParseFilterJSON([]byte(" null ")); err != nil || !f.IsZero() {
		t.Errorf("null filter: %v %v", f, err)
	}
}

func TestParseFilterKV(t *testing.T) {
	f, err := ParseFilterKV([]string{"lang=en", "year>=2000", "tag=a|b", "draft!=true", "n<3"})
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]any{"lang": "en", "year": 2001.0, "tag": "b", "draft": false, "n": 2.0}
	if !f.Match(meta) {
		t.Fatalf("%+v should match %v", f, meta)
	}
	meta["year"] = 1999.0
	if f.Match(meta) {
		t.Fatal("year 1999 should not match year>=2000")
	}
	for _, bad := range []string{"novalue", "year>>2", "a=<3", "a!==b", "=x"} {
		if _, err := ParseFilterKV([]string{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: want ErrInvalid, got %v", bad, err)
		}
	}
}

func TestMatchSemantics(t *testing.T) {
	cases := []struct {
		filter string
		meta   map[string]any
		want   bool
	}{
		{`{"a": 1}`, map[string]any{"a": 1.0}, true},
		{`{"a": 1}`, map[string]any{"a": 1}, true}, // ints compare as numbers
		{`{"a": "1"}`, map[string]any{"a": 1.0}, false},
		{`{"a": {"$ne": 1}}`, map[string]any{}, true}, // missing field matches $ne
		{`{"a": {"$nin": [1]}}`, map[string]any{}, true},
		{`{"a": {"$eq": 1}}`, map[string]any{}, false},
		{`{"a": {"$lt": 1}}`, map[string]any{}, false},
		{`{"a": "x"}`, map[string]any{"a": []any{"y", "x"}}, true}, // any array element
		{`{"a": {"$ne": "x"}}`, map[string]any{"a": []any{"y", "x"}}, false},
		{`{"a": {"$gt": "b"}}`, map[string]any{"a": "c"}, true}, // string ranges
		{`{"a": {"$gt": 1}}`, map[string]any{"a": "c"}, false},  // mixed types never match
		{`{"a": true}`, map[string]any{"a": true}, true},
		{`{"a": {"$in": [1, "x"]}, "b": {"$lte": 5}}`, map[string]any{"a": "x", "b": 5.0}, true},
	}
	for _, c := range cases {
		f, err := ParseFilterJSON([]byte(c.filter))
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if got := f.Match(c.meta); got != c.want {
			t.Errorf("%s on %v: got %v want %v", c.filter, c.meta, got, c.want)
		}
	}
}

func TestFilterJSONRoundTrip(t *testing.T) {
	in := `{"tag":{"$in":["a","b"]},"year":{"$gte":1990}}`
	f, err := ParseFilterJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f)
	var g Filter
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	x, _ := json.Marshal(f.Conds)
	y, _ := json.Marshal(g.Conds)
	if string(x) != string(y) {
		t.Fatalf("round trip: %s vs %s", x, y)
	}
}

// FuzzParseFilterJSON: any input either parses into a filter that
// validates and can be evaluated, or fails with ErrInvalid; never a panic.
func FuzzParseFilterJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"$in":[1,"x",true,null]}}`, `{"y":{"$gte":1,"$lt":"z"}}`, `null`, `[]`, `{"a":{"$ne":[1]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		flt, err := ParseFilterJSON(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := flt.Validate(); err != nil {
			t.Fatalf("parsed filter does not validate: %v", err)
		}
		flt.Match(map[string]any{"a": 1.0, "y": "m", "tags": []any{"x"}})
	})
}

func TestChunkIDAndHashes(t *testing.T) {
	if ChunkID("doc/a.md", 12) != "doc/a.md#12" || ChunkID("d", 0) != "d#0" {
		t.Fatal(ChunkID("doc/a.md", 12))
	}
	if ContentHash("t", "x") == ContentHash("", "tx") {
		t.Fatal("title and text must be separated in the hash")
	}
	if len(TextHash("x")) != 64 {
		t.Fatal("hex sha-256 expected")
	}
}
