package remote_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/remote"
)

func Example() {
	// A stand-in for TEI, vLLM or Ollama: every text embeds to [len, 1].
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Input []string }
		json.NewDecoder(r.Body).Decode(&req)
		type item struct {
			Embedding []float32 `json:"embedding"`
			Index     int       `json:"index"`
		}
		var out struct {
			Data []item `json:"data"`
		}
		for i, s := range req.Input {
			out.Data = append(out.Data, item{[]float32{float32(len(s)), 1}, i})
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()

	e, err := remote.New(remote.Config{BaseURL: srv.URL, Model: "e5-small-v2", QueryPrefix: "query: "})
	if err != nil {
		fmt.Println(err)
		return
	}
	vecs, err := e.Embed(context.Background(), embed.Query, []string{"go", "rust"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(vecs, e.Info().Dims)
	// Output: [[9 1] [11 1]] 2
}
