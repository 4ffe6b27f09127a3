package cloudflare_test

import (
	"context"
	"fmt"
	"io"
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
