package cloudflare

import (
	"testing"
)

// FuzzParseNDJSON: any insert/upsert body is either accepted as vectors of
// the index's dimensions with unique ids, or refused; never a panic.
func FuzzParseNDJSON(f *testing.F) {
	for _, s := range []string{
		"{\"id\":\"a\",\"values\":[1,2,3]}\n{\"id\":\"b\",\"values\":[0,1,0],\"namespace\":\"n\",\"metadata\":{\"k\":\"v\"}}\n",
		"{\"id\":\"a\",\"values\":[1,2]}", "{\"id\":\"a\",\"values\":[1,2,3]}\n{\"id\":\"a\",\"values\":[1,2,3]}",
		"not json\n", "{\"id\":\"\",\"values\":[]}", "\n\n", "{\"id\":\"x\",\"values\":[1e400,0,0]}",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, discard bool) {
		vs, _, err := parseNDJSON(body, 3, discard, 100)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, v := range vs {
			if len(v.Values) != 3 {
				t.Fatalf("accepted %d values for a 3-d index", len(v.Values))
			}
			if v.ID == "" || seen[v.ID] {
				t.Fatalf("accepted empty or duplicate id %q", v.ID)
			}
			seen[v.ID] = true
		}
	})
}
