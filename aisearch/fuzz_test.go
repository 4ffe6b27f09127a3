package aisearch_test

import (
	"strings"
	"testing"

	"github.com/ragd/ragd/aisearch"
)

// FuzzItemMetadata: an AI Search item's metadata field is either a flat
// object of strings, numbers and booleans with valid keys, or refused;
// never a panic.
func FuzzItemMetadata(f *testing.F) {
	for _, s := range []string{`{"team":"a","year":2024,"ok":true}`, `{"a":{"b":1}}`, `{"$a":1}`, `{"a.b":1}`, `[]`, `null`, `{"a":1`, ``, `{"":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := aisearch.ParseMetadata(b)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || len(k) > aisearch.MaxItemMetadataKey || k[0] == '$' || strings.ContainsAny(k, ".\"") {
				t.Fatalf("accepted key %q", k)
			}
			switch v.(type) {
			case string, float64, bool:
			default:
				t.Fatalf("accepted value %T for %q", v, k)
			}
		}
	})
}
