package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/api/auth"
)

// A key is created once, its secret handed to the client, and later
// presented back.
func ExampleStore() {
	dir, _ := os.MkdirTemp("", "ragd-auth-example")
	defer os.RemoveAll(dir)
	store, err := auth.OpenStore(filepath.Join(dir, "keys.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	secret, key, err := store.Create("ci", auth.ScopeWrite, 10, 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := store.Authenticate(secret)
	fmt.Println(got.ID == key.ID, got.Scope, got.Rate, got.Burst, err)
	_ = store.Revoke(key.ID)
	_, err = store.Authenticate(secret)
	fmt.Println(err)
	// Output:
	// true write 10 20 <nil>
	// auth: API key revoked: unauthorized
}

// Once a key exists, requests without one are refused; public routes stay
// open.
func ExampleMiddleware() {
	dir, _ := os.MkdirTemp("", "ragd-auth-example")
	defer os.RemoveAll(dir)
	store, _ := auth.OpenStore(filepath.Join(dir, "keys.json"))
	secret, _, _ := store.Create("reader", auth.ScopeRead, 0, 0)

	e := echo.New()
	e.Use(auth.Middleware(auth.Config{Store: store}))
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	e.GET("/healthz", ok)
	e.GET("/v1/indexes", ok)
	e.DELETE("/v1/indexes/:name", ok)

	for _, r := range []struct{ method, path, key string }{
		{"GET", "/healthz", ""},
		{"GET", "/v1/indexes", ""},
		{"GET", "/v1/indexes", secret},
		{"DELETE", "/v1/indexes/docs", secret},
	} {
		req := httptest.NewRequest(r.method, r.path, nil)
		if r.key != "" {
			req.Header.Set("Authorization", "Bearer "+r.key)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Println(r.method, r.path, rec.Code)
	}
	// Output:
	// GET /healthz 200
	// GET /v1/indexes 401
	// GET /v1/indexes 200
	// DELETE /v1/indexes/docs 403
}
