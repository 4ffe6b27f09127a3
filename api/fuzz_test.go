package api

import (
	"errors"
	"testing"

	"github.com/ragd/ragd/data"
)

// FuzzSearchRequestDecode: any body either decodes into a query whose
// filter validates, or fails with ErrInvalid; never a panic.
func FuzzSearchRequestDecode(f *testing.F) {
	for _, s := range []string{
		`{"query":"x","top_k":3,"mode":"hybrid","filter":{"a":{"$in":[1,"b"]}},"alpha":0.3}`,
		`{"query":"x","vector":[1,2,3],"namespace":"n"}`,
		`{"query":1}`, `[]`, `{"query":"x","filter":[1]}`, `{"query":"x"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req searchRequest
		if err := DecodeJSON(b, &req); err != nil {
			if !errors.Is(err, data.ErrInvalid) {
				t.Fatalf("decode error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		q, err := req.toQuery()
		if err != nil {
			if !errors.Is(err, data.ErrInvalid) {
				t.Fatalf("query error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := q.Filter.Validate(); err != nil {
			t.Fatalf("accepted filter does not validate: %v", err)
		}
	})
}
