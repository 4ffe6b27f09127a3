package cloudflare_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

type nsChunk struct {
	searchChunk
	InstanceID string `json:"instance_id"`
}

type nsSearchResult struct {
	Chunks      []nsChunk `json:"chunks"`
	SearchQuery string    `json:"search_query"`
	Errors      []struct {
		InstanceID string `json:"instance_id"`
		Message    string `json:"message"`
	} `json:"errors"`
}

// TestAISearchUserFlow drives AI Search the way a user of the SDK does: a
// namespace, two instances, uploads, searches and chats at both levels.
func TestAISearchUserFlow(t *testing.T) {
	e := newEnv(t)
	e.json("POST", ais+"/namespaces", `{"name":"kitchen"}`, 200)
	e.json("POST", ais+"/namespaces/kitchen/instances", `{"id":"recipes"}`, 200)
	e.json("POST", ais+"/namespaces/kitchen/instances", `{"id":"tips","index_method":{"keyword":true,"vector":false}}`, 200)
	up := func(inst, key, text string) {
		it := e.upload(ais+"/namespaces/kitchen/instances/"+inst+"/items", 200, formPart{name: "file", filename: key, value: text},
			formPart{name: "wait_for_completion", value: "true"})
		if it.Status != "completed" {
			t.Fatalf("%s/%s: %+v", inst, key, it)
		}
	}
	up("recipes", "bread.md", "# Bread\n\nSourdough bread rises overnight.\n")
	up("recipes", "cake.txt", "Sponge cake wants eggs and sugar.")
	up("tips", "oven.txt", "Preheat the oven before baking bread.")

	// Instance search in a namespace (the instance's default retrieval
	// type: hybrid for recipes, keyword for tips).
	r := decodeInto[searchResult](t, e.json("POST", ais+"/namespaces/kitchen/instances/recipes/search", `{"query":"bread"}`, 200))
	if len(r.Chunks) == 0 || r.Chunks[0].Item.Key != "bread.md" {
		t.Fatalf("instance search: %+v", r)
	}
	r = decodeInto[searchResult](t, e.json("POST", ais+"/namespaces/kitchen/instances/tips/search", `{"query":"bread"}`, 200))
	if len(r.Chunks) != 1 || r.Chunks[0].ScoringDetails.VectorRank != nil || r.Chunks[0].ScoringDetails.KeywordRank == nil {
		t.Fatalf("keyword instance: %+v", r)
	}
	e.fail("POST", ais+"/namespaces/kitchen/instances/tips/search", "application/json",
		`{"query":"bread","ai_search_options":{"retrieval":{"retrieval_type":"vector"}}}`, 400, "no embedding model")
	e.fail("POST", ais+"/namespaces/kitchen/instances/ghost/search", "application/json", `{"query":"bread"}`, 404, "not found")
	e.fail("POST", ais+"/namespaces/kitchen/instances/recipes/search", "application/json",
		`{"query":"bread","ai_search_options":{"instance_ids":["tips"]}}`, 400, "namespace search")

	// Namespace search merges both instances by rank and tags each chunk.
	ns := decodeInto[nsSearchResult](t, e.json("POST", ais+"/namespaces/kitchen/search",
		`{"query":"bread","ai_search_options":{"retrieval":{"retrieval_type":"keyword"}}}`, 200))
	seen := map[string]bool{}
	for _, c := range ns.Chunks[:2] {
		seen[c.InstanceID] = true // each instance's best chunk comes first
	}
	if !seen["recipes"] || !seen["tips"] || ns.SearchQuery != "bread" || len(ns.Errors) != 0 {
		t.Fatalf("namespace search: %+v", ns)
	}
	ns = decodeInto[nsSearchResult](t, e.json("POST", ais+"/namespaces/kitchen/search",
		`{"messages":[{"role":"user","content":"bread"}],"ai_search_options":{"instance_ids":["tips"]}}`, 200))
	if len(ns.Chunks) != 1 || ns.Chunks[0].InstanceID != "tips" || ns.Chunks[0].Item.Key != "oven.txt" {
		t.Fatalf("instance_ids: %+v", ns)
	}
	ns = decodeInto[nsSearchResult](t, e.json("POST", ais+"/namespaces/kitchen/search",
		`{"query":"bread","ai_search_options":{"retrieval":{"max_num_results":1}}}`, 200))
	if len(ns.Chunks) != 1 {
		t.Fatalf("max_num_results across instances: %+v", ns)
	}
	// An instance that cannot run the query is reported; the others answer.
	e.models.models["gone"] = &fakeEmbedder{id: "gone", dims: 3}
	e.json("POST", ais+"/namespaces/kitchen/instances", `{"id":"broken","embedding_model":"@cf/ragd/gone"}`, 200)
	delete(e.models.models, "gone")
	ns = decodeInto[nsSearchResult](t, e.json("POST", ais+"/namespaces/kitchen/search", `{"query":"bread"}`, 200))
	if len(ns.Chunks) < 2 || len(ns.Errors) != 1 || ns.Errors[0].InstanceID != "broken" || !strings.Contains(ns.Errors[0].Message, "gone") {
		t.Fatalf("partial failure: %+v", ns)
	}
	e.fail("POST", ais+"/namespaces/kitchen/search", "application/json", `{"query":"bread","ai_search_options":{"instance_ids":["broken"]}}`, 404, "gone")
	e.json("DELETE", ais+"/namespaces/kitchen/instances/broken", nil, 200)
	e.fail("POST", ais+"/namespaces/kitchen/search", "application/json", `{"query":"bread","ai_search_options":{"instance_ids":["ghost"]}}`, 404, "ghost")
	e.fail("POST", ais+"/namespaces/ghost/search", "application/json", `{"query":"bread"}`, 404, "namespace")
	e.fail("POST", ais+"/namespaces/default/search", "application/json", `{"query":"bread"}`, 400, "no instances")
	e.fail("POST", ais+"/namespaces/kitchen/search", "application/json", `{"query":"bread","ai_search_options":{"retrieval":{"fusion_method":"max"}}}`, 400, "not supported")
	e.fail("POST", ais+"/namespaces/kitchen/search", "application/json", `{"query":"bread","ai_search_options":{"retrieval":{"filters":{"a":{"$regex":"x"}}}}}`, 400, "$regex")
	e.fail("POST", ais+"/namespaces/kitchen/instances/recipes/search", "application/json", `{"query":"bread","ai_search_options":{"retrieval":{"filters":{"a":{"$regex":"x"}}}}}`, 400, "$regex")
	e.fail("POST", ais+"/namespaces/kitchen/instances/recipes/search", "application/json", `{"query":"bread","ai_search_options":{"retrieval":{"filters":[1]}}}`, 400, "filter")
	e.fail("POST", ais+"/namespaces/kitchen/search", "application/json", `{"query":"bread","limit":3}`, 400, "unknown field")
	e.fail("POST", ais+"/namespaces/kitchen/search", "application/json", `{}`, 400, "no user message")

	// Chat at namespace level answers from the merged chunks.
	resp, err := http.Post(e.srv.URL+ais+"/namespaces/kitchen/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"how do I bake bread?"}],"ai_search_options":{"instance_ids":["recipes","tips"],"retrieval":{"retrieval_type":"keyword"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct{ Content string }
		} `json:"choices"`
		Chunks []nsChunk `json:"chunks"`
	}
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 || out.Object != "chat.completion" || len(out.Choices) != 1 ||
		out.Choices[0].Message.Content != "Hello world" || len(out.Chunks) == 0 || out.Chunks[0].InstanceID == "" {
		t.Fatalf("namespace chat: %d %s", resp.StatusCode, b)
	}
	var prompt strings.Builder
	for _, m := range e.gen.last().Messages {
		prompt.WriteString(m.Content)
	}
	if !strings.Contains(prompt.String(), "Preheat the oven") || !strings.Contains(prompt.String(), "Sourdough") {
		t.Fatalf("prompt lacks a namespace passage:\n%s", prompt.String())
	}
	_, _, lines := sse(t, e, ais+"/namespaces/kitchen/chat/completions", `{"messages":[{"role":"user","content":"bread"}],"stream":true}`)
	if len(lines) < 2 || lines[len(lines)-1] != "[DONE]" {
		t.Fatalf("namespace stream: %q", lines)
	}
	e.fail("POST", ais+"/namespaces/kitchen/chat/completions", "application/json", `{"messages":[]}`, 400, "must not be empty")
	e.fail("POST", ais+"/namespaces/ghost/chat/completions", "application/json", `{"messages":[{"role":"user","content":"x"}]}`, 404, "namespace")
	// Instance-level chat in a namespace uses the instance's chunks.
	resp, err = http.Post(e.srv.URL+ais+"/namespaces/kitchen/instances/tips/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"bread"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "oven.txt") {
		t.Fatalf("instance chat: %d %s", resp.StatusCode, b)
	}

	// Stats at namespace level and cleanup.
	if st := decodeInto[statsOut](t, e.json("GET", ais+"/namespaces/kitchen/instances/recipes/stats", nil, 200)); st.Completed != 2 {
		t.Fatalf("stats: %+v", st)
	}
	e.json("DELETE", ais+"/namespaces/kitchen/instances/recipes", nil, 200)
	e.json("DELETE", ais+"/namespaces/kitchen/instances/tips", nil, 200)
	e.json("DELETE", ais+"/namespaces/kitchen", nil, 200)
}
