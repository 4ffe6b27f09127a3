package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/api/web"
)

// catchAllRoutes are routes that exist only to shape 404/405 answers; the
// document leaves them out. An addition here is a deliberate decision.
var catchAllRoutes = map[string]bool{
	"/client/v4/*": true, // cloudflare.Register: Cloudflare-style 404 envelope
	"/*":           true, // echo's own not-found route, should one be added
}

// wildcardParams names the document's parameter for each route's trailing
// echo "*" wildcard.
var wildcardParams = map[string]string{
	"/v1/indexes/:name/documents/*":            "id",
	"/client/v4/accounts/:account_id/ai/run/*": "model",
	"/ui/*": "asset",
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// routerOperations lists "METHOD path" for every route of a server mounted
// the way cmd/ragd's serve command mounts it.
func routerOperations(t *testing.T) map[string]bool {
	t.Helper()
	env := newEnv(t, nil)
	e := env.api.Echo()
	cloudflare.Register(e, cloudflare.Config{Engine: env.eng, Models: env.models})
	web.Register(e)
	ops := map[string]bool{}
	for _, r := range e.Routes() {
		// "echo_route_not_found" is the method echo gives RouteNotFound handlers.
		if catchAllRoutes[r.Path] || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		p := r.Path
		if strings.HasSuffix(p, "*") {
			name, ok := wildcardParams[p]
			if !ok {
				t.Errorf("route %s %s ends in a wildcard that wildcardParams does not name", r.Method, p)
				continue
			}
			p = strings.TrimSuffix(p, "*") + "{" + name + "}"
		}
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") {
				segs[i] = "{" + s[1:] + "}"
			}
		}
		ops[strings.ToUpper(r.Method)+" "+strings.Join(segs, "/")] = true
	}
	return ops
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		License struct {
			Name       string `json:"name"`
			Identifier string `json:"identifier"`
			URL        string `json:"url"`
		} `json:"license"`
	} `json:"info"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	// OpenAPI 3.1 requires a license to name an SPDX identifier or a URL
	// (not both); the repository's LICENSE is Apache-2.0.
	if l := doc.Info.License; l.Name == "" || l.Identifier != "Apache-2.0" || l.URL != "" {
		t.Errorf("info.license = %+v, want name and identifier Apache-2.0", l)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains(openAPIMethods, method) {
				continue // parameters, summary, ...
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			where := strings.ToUpper(method) + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q is used by %s and %s", op.OperationID, prev, where)
			}
			ids[op.OperationID] = where
			if len(op.Responses) == 0 {
				t.Errorf("%s has no responses", where)
			}
		}
	}
	var whole any
	if err := json.Unmarshal(api.OpenAPI(), &whole); err != nil {
		t.Fatal(err)
	}
	checkRefs(t, whole, whole)
	checkPathParams(t, whole)
}

// checkPathParams reports operations whose path parameters differ from the
// {names} in their path.
func checkPathParams(t *testing.T, root any) {
	t.Helper()
	doc, _ := root.(map[string]any)
	comps, _ := doc["components"].(map[string]any)
	shared, _ := comps["parameters"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		var want []string
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				want = append(want, seg[1:len(seg)-1])
			}
		}
		slices.Sort(want)
		ops, _ := item.(map[string]any)
		for method, raw := range ops {
			op, _ := raw.(map[string]any)
			params, _ := op["parameters"].([]any)
			var got []string
			for _, p := range params {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					pm, _ = shared[ref[strings.LastIndex(ref, "/")+1:]].(map[string]any)
				}
				if pm["in"] == "path" {
					got = append(got, fmt.Sprint(pm["name"]))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s declares path parameters %v, want %v", strings.ToUpper(method), path, got, want)
			}
		}
	}
}

// checkRefs reports every local "$ref" under v that does not resolve in root.
func checkRefs(t *testing.T, root, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			at := root
			for _, seg := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
				m, _ := at.(map[string]any)
				at = m[seg]
			}
			if !strings.HasPrefix(ref, "#/") || at == nil {
				t.Errorf("$ref %q does not resolve", ref)
			}
		}
		for _, x := range v {
			checkRefs(t, root, x)
		}
	case []any:
		for _, x := range v {
			checkRefs(t, root, x)
		}
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			if slices.Contains(openAPIMethods, method) {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	routed := routerOperations(t)
	var missing, extra []string
	for op := range routed {
		if !documented[op] {
			missing = append(missing, op)
		}
	}
	for op := range documented {
		if !routed[op] {
			extra = append(extra, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		var b strings.Builder
		if len(missing) > 0 {
			fmt.Fprintf(&b, "\nrouted but not in api/openapi.json (%d):\n  %s", len(missing), strings.Join(missing, "\n  "))
		}
		if len(extra) > 0 {
			fmt.Fprintf(&b, "\nin api/openapi.json but not routed (%d):\n  %s", len(extra), strings.Join(extra, "\n  "))
		}
		t.Errorf("the router and the OpenAPI document disagree:%s", b.String())
	}
}

func TestOpenAPIServed(t *testing.T) {
	env := newEnv(t, nil)
	status, body, h := env.do(http.MethodGet, "/openapi.json", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", status, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if string(body) != string(api.OpenAPI()) {
		t.Error("served document differs from the embedded one")
	}
}
