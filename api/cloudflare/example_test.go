package cloudflare_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/index"
)

// Register mounts the routes on an echo router; a Vectorize client then
// creates an index, upserts NDJSON and queries it.
func ExampleRegister() {
	dir, _ := os.MkdirTemp("", "ragd-cf-example")
	defer os.RemoveAll(dir)
	eng, err := index.Open(context.Background(), index.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	e := echo.New()
	cloudflare.Register(e, cloudflare.Config{Engine: eng})
	srv := httptest.NewServer(e)
	defer srv.Close()

	api := srv.URL + "/client/v4/accounts/any/vectorize/v2/indexes"
	post := func(url, contentType, body string) string {
		resp, err := http.Post(url, contentType, strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	post(api, "application/json", `{"name":"demo","config":{"dimensions":2,"metric":"euclidean"}}`)
	post(api+"/demo/upsert", "application/x-ndjson", `{"id":"a","values":[0,3],"metadata":{"k":"x"}}
{"id":"b","values":[4,3]}`)
	fmt.Println(post(api+"/demo/query", "application/json", `{"vector":[0,0],"topK":2,"returnMetadata":"all"}`))
	fmt.Println(post(api+"/demo/query", "application/json", `{"vector":[0,0,0]}`))
	// Output:
	// 200 {"result":{"count":2,"matches":[{"id":"a","score":3,"metadata":{"k":"x"}},{"id":"b","score":5}]},"success":true,"errors":[],"messages":[]}
	// 400 {"result":null,"success":false,"errors":[{"code":40002,"message":"dimension mismatch: query vector has 3 dimensions, the index has 2"}],"messages":[]}
}

// An AI Search instance is created with only an id; an uploaded file is
// chunked and indexed (here before the response, with
// wait_for_completion) and its chunks are searchable at once. Close stops
// the background item worker; call it before closing the engine.
func ExampleService_Close() {
	dir, _ := os.MkdirTemp("", "ragd-cf-example")
	defer os.RemoveAll(dir)
	eng, err := index.Open(context.Background(), index.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	e := echo.New()
	svc := cloudflare.Register(e, cloudflare.Config{Engine: eng, StateDir: dir})
	defer svc.Close()
	srv := httptest.NewServer(e)
	defer srv.Close()

	api := srv.URL + "/client/v4/accounts/any/ai-search"
	call := func(req *http.Request) string {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var env struct {
			Result  json.RawMessage `json:"result"`
			Success bool            `json:"success"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return fmt.Sprintf("%d %v", resp.StatusCode, env.Success)
	}
	req, _ := http.NewRequest("POST", api+"/instances", strings.NewReader(`{"id":"docs"}`))
	fmt.Println("create:", call(req))

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	f, _ := w.CreateFormFile("file", "bread.md")
	io.WriteString(f, "# Bread\n\nKnead the sourdough and let it rise overnight.\n")
	_ = w.WriteField("metadata", `{"team":"bakers"}`)
	_ = w.WriteField("wait_for_completion", "true")
	w.Close()
	req, _ = http.NewRequest("POST", api+"/namespaces/default/instances/docs/items", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	fmt.Println("upload:", call(req))

	resp, _ := http.Post(api+"/instances/docs/search", "application/json",
		strings.NewReader(`{"query":"sourdough","ai_search_options":{"retrieval":{"filters":{"team":"bakers"}}}}`))
	var out struct {
		Result struct {
			Chunks []struct {
				Text string
				Item struct{ Key string }
			}
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	for _, c := range out.Result.Chunks {
		fmt.Printf("%s: %q\n", c.Item.Key, c.Text)
	}
	// Output:
	// create: 200 true
	// upload: 200 true
	// bread.md: "Bread\n\nKnead the sourdough and let it rise overnight."
}
