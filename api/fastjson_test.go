package api

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// decodeBoth decodes body with decodeWithVector and with DecodeJSON alone.
func decodeBoth(body string) (fast, std searchRequest, fastErr, stdErr error) {
	fastErr = decodeWithVector([]byte(body), &fast, "vector", &fast.Vector)
	stdErr = DecodeJSON([]byte(body), &std)
	return
}

func TestDecodeWithVectorMatchesDecodeJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var parts []string
	for i := range 512 {
		x := r.NormFloat64()
		switch i % 4 {
		case 0:
			parts = append(parts, strconv.FormatFloat(x, 'g', -1, 32))
		case 1:
			parts = append(parts, strconv.FormatFloat(x, 'e', 12, 64))
		case 2:
			parts = append(parts, strconv.Itoa(int(x*100)))
		default:
			parts = append(parts, " "+strconv.FormatFloat(x, 'f', 9, 64)+"\n")
		}
	}
	vec := "[" + strings.Join(parts, ",") + "]"
	bodies := []string{
		`{"vector":` + vec + `,"top_k":3,"mode":"vector"}`,
		` { "mode" : "vector" , "vector" : ` + vec + ` } `,
		`{"query":"a \"vector\": [1]","filter":{"vector":{"$eq":"x"}},"vector":[0.5, -0, 1E3, 2e-3]}`,
		`{"vector":[],"query":"x"}`,
		`{"vector":null,"query":"x"}`,
		`{"query":"no vector here"}`,
		`{"Vector":[1,2]}`,
		`{"vector":[1],"VECTOR":[2]}`,
		`{"vect\u006fr":[1]}`,
		`{"vector":[1,2],"top_k":"x"}`,
		`{"vector":[1,2],"nope":1}`,
		`{"vector":[1,2]} trailing`,
		`{"vector":[1,2]}{}`,
		`[1,2]`,
		`{}`,
	}
	for _, b := range bodies {
		fast, std, fe, se := decodeBoth(b)
		if (fe == nil) != (se == nil) {
			t.Errorf("%.60s: fast err %v, std err %v", b, fe, se)
			continue
		}
		if fe == nil && !reflect.DeepEqual(fast, std) {
			t.Errorf("%.60s: fast %+v, std %+v", b, fast.Vector[:min(3, len(fast.Vector))], std.Vector[:min(3, len(std.Vector))])
		}
	}
}

// Where encoding/json would quietly accept a bad vector element (null
// becomes 0) or DecodeJSON fails anyway, the fast path refuses.
func TestDecodeWithVectorRejectsBadVectors(t *testing.T) {
	for _, v := range []string{`[1,null]`, `["1"]`, `[true]`, `[[1]]`, `[{"a":1}]`, `[1e39]`, `[-1e39]`,
		`[1,,2]`, `[1,]`, `[,1]`, `[1 2]`, `[01]`, `[1.]`, `[.5]`, `[+1]`, `[-Inf]`, `[NaN]`, `[0x10]`, `[1e]`, `{"a":1}`, `"x"`, `7`} {
		var req searchRequest
		err := decodeWithVector([]byte(`{"vector":`+v+`}`), &req, "vector", &req.Vector)
		if err == nil {
			t.Errorf("%s: accepted as %v", v, req.Vector)
		} else if !strings.Contains(err.Error(), "invalid") {
			t.Errorf("%s: error %q does not say invalid", v, err)
		}
	}
}

// FuzzDecodeWithVector: whatever the fast path accepts, DecodeJSON accepts
// with the same result, and whatever DecodeJSON refuses, it refuses.
func FuzzDecodeWithVector(f *testing.F) {
	for _, s := range []string{`{"vector":[1,2.5,-3e-2],"top_k":2}`, `{"mode":"vector","vector":[]}`, `{"vector":[1],"x":{"vector":[2]}}`, `{"query":"\"vector\":[1]","vector":[0]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b string) {
		fast, std, fe, se := decodeBoth(b)
		if fe == nil && se != nil {
			t.Fatalf("fast path accepted what DecodeJSON refuses (%v): %q", se, b)
		}
		if fe == nil {
			fj, _ := json.Marshal(fast)
			sj, _ := json.Marshal(std)
			if string(fj) != string(sj) {
				t.Fatalf("%q: fast %s, std %s", b, fj, sj)
			}
		}
	})
}

func BenchmarkDecodeSearchVector(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, 512)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	body, _ := json.Marshal(map[string]any{"vector": v, "top_k": 10, "mode": "vector"})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var req searchRequest
			if err := decodeWithVector(body, &req, "vector", &req.Vector); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var req searchRequest
			if err := DecodeJSON(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
