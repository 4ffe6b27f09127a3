package hub_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/ragd/ragd/embed/hub"
)

func ExampleLookup() {
	m, _ := hub.Lookup(hub.Catalog(), "@cf/baai/bge-small-en-v1.5")
	fmt.Println(m.Name, m.Repo, m.Dims, m.Pooling)
	// Output: bge-small-en-v1.5 BAAI/bge-small-en-v1.5 384 cls
}

func ExamplePuller_Pull() {
	// A stand-in hub holding one tiny model.
	files := map[string]string{
		"/acme/tiny/resolve/main/config.json":     `{"hidden_size": 8}`,
		"/acme/tiny/resolve/main/tokenizer.json":  `{}`,
		"/acme/tiny/resolve/main/onnx/model.onnx": "graph",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()

	models, _ := os.MkdirTemp("", "models")
	defer os.RemoveAll(models)
	p, err := hub.New(hub.Config{Endpoint: srv.URL, ModelsDir: models})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := p.Pull(context.Background(), "acme/tiny", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	list, _ := hub.List(models)
	fmt.Println(strings.TrimPrefix(dir, models), list[0].Dims, len(list[0].Files))
	// Output: /acme--tiny 8 3
}
