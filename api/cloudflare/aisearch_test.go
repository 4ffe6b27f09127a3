package cloudflare_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

// seedDocs makes a keyword-only ragd index with three one-chunk documents.
func (e *env) seedDocs(name string) {
	e.t.Helper()
	if _, err := e.engine.CreateIndex(e.t.Context(), data.IndexConfig{Name: name}); err != nil {
		e.t.Fatal(err)
	}
	texts := map[string]string{
		"guide/bread.md":  "Knead the sourdough bread dough and let it rise overnight.",
		"guide/stocks.md": "The stock market fell today as bond yields rose.",
		"guide/cake.md":   "Bake the cake at 180 degrees; bread flour makes it dense.",
	}
	var docs []data.Document
	for id, text := range texts {
		docs = append(docs, data.Document{ID: id, Text: text, Metadata: map[string]any{"topic": strings.TrimSuffix(strings.TrimPrefix(id, "guide/"), ".md")},
			Chunks: []data.Chunk{{Text: text, Start: 0, End: len(text)}}})
	}
	if _, err := e.engine.PutDocuments(e.t.Context(), name, docs, true); err != nil {
		e.t.Fatal(err)
	}
}

type searchChunk struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
	Text  string  `json:"text"`
	Type  string  `json:"type"`
	Item  struct {
		Key      string         `json:"key"`
		Metadata map[string]any `json:"metadata"`
	} `json:"item"`
	ScoringDetails *struct {
		KeywordRank  *int     `json:"keyword_rank"`
		KeywordScore *float64 `json:"keyword_score"`
		VectorRank   *int     `json:"vector_rank"`
	} `json:"scoring_details"`
}

type searchResult struct {
	Chunks      []searchChunk `json:"chunks"`
	QueryKind   string        `json:"query_kind"`
	SearchQuery string        `json:"search_query"`
}

func TestAISearch(t *testing.T) {
	e := newEnv(t)
	e.seedDocs("kb")
	for _, p := range []string{base + "/ai-search/instances/kb/search", base + "/ai-search/namespaces/default/instances/kb/search"} {
		r := decodeInto[searchResult](t, e.json("POST", p, `{"query":"bread"}`, 200))
		if r.QueryKind != "text" || r.SearchQuery != "bread" || len(r.Chunks) != 2 {
			t.Fatalf("%s: %+v", p, r)
		}
		c := r.Chunks[0]
		if c.Item.Key != "guide/bread.md" || c.ID != "guide/bread.md#0" || c.Type != "text" || !strings.Contains(c.Text, "sourdough") ||
			c.Item.Metadata["topic"] != "bread" || c.ScoringDetails == nil || c.ScoringDetails.KeywordRank == nil || *c.ScoringDetails.KeywordRank != 1 ||
			c.ScoringDetails.VectorRank != nil || c.Score <= r.Chunks[1].Score {
			t.Fatalf("first chunk %+v", c)
		}
	}
	// The last user message is the query; options map to ragd's query.
	r := decodeInto[searchResult](t, e.json("POST", base+"/ai-search/instances/kb/search", `{
		"messages":[{"role":"user","content":"stocks?"},{"role":"assistant","content":"which?"},{"role":"user","content":"bread"}],
		"ai_search_options":{"retrieval":{"retrieval_type":"keyword","max_num_results":1,"filters":{"topic":{"$ne":"bread"}}},"cache":{"enabled":true}}}`, 200))
	if r.SearchQuery != "bread" || len(r.Chunks) != 1 || r.Chunks[0].Item.Key != "guide/cake.md" {
		t.Fatalf("options: %+v", r)
	}
	p := base + "/ai-search/instances/kb/search"
	e.fail("POST", p, "application/json", `{}`, 400, "no user message")
	e.fail("POST", p, "application/json", `{"query":"x","ai_search_options":{"retrieval":{"max_num_results":51}}}`, 400, "max_num_results")
	e.fail("POST", p, "application/json", `{"query":"x","ai_search_options":{"retrieval":{"fusion_method":"max"}}}`, 400, "not supported")
	e.fail("POST", p, "application/json", `{"query":"x","ai_search_options":{"query_rewrite":{"enabled":true}}}`, 400, "query_rewrite")
	e.fail("POST", p, "application/json", `{"query":"x","ai_search_options":{"retrieval":{"retrieval_type":"fuzzy"}}}`, 400, "retrieval_type")
	e.fail("POST", p, "application/json", `{"query":"x","top":3}`, 400, "unknown field")
	e.fail("POST", base+"/ai-search/instances/nope/search", "application/json", `{"query":"x"}`, 404, "not found")
}

func TestAISearchChat(t *testing.T) {
	e := newEnv(t)
	e.seedDocs("kb")
	p := base + "/ai-search/instances/kb/chat/completions"
	resp, err := http.Post(e.srv.URL+p, "application/json", strings.NewReader(
		`{"messages":[{"role":"system","content":"Answer in French."},{"role":"user","content":"how long does bread rise?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct{ Role, Content string }
		} `json:"choices"`
		Chunks []searchChunk `json:"chunks"`
	}
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if out.Object != "chat.completion" || out.Model != "fake-gen" || len(out.Choices) != 1 || out.Choices[0].Message.Content != "Hello world" ||
		len(out.Chunks) == 0 || out.Chunks[0].Item.Key != "guide/bread.md" {
		t.Fatalf("chat: %s", b)
	}
	// The generator saw the retrieved passage, the question and the extra system text.
	var prompt strings.Builder
	for _, m := range e.gen.last().Messages {
		prompt.WriteString(m.Content + "\n")
	}
	for _, want := range []string{"sourdough", "how long does bread rise?", "Answer in French."} {
		if !strings.Contains(prompt.String(), want) {
			t.Fatalf("prompt lacks %q:\n%s", want, prompt.String())
		}
	}

	// Streamed: OpenAI chunks, then [DONE].
	_, _, lines := sse(t, e, p, `{"messages":[{"role":"user","content":"bread"}],"stream":true}`)
	if len(lines) < 3 || lines[len(lines)-1] != "[DONE]" || !strings.Contains(lines[0], `"chat.completion.chunk"`) || !strings.Contains(lines[0], `"content":"Hel"`) {
		t.Fatalf("stream %q", lines)
	}
	e.fail("POST", p, "application/json", `{"messages":[]}`, 400, "must not be empty")
	e.fail("POST", p, "application/json", `{"messages":[{"role":"tool","content":"x"}]}`, 400, "role")
	e.fail("POST", p, "application/json", `{"messages":[{"role":"user","content":"x"}],"temperature":1}`, 400, "unknown field")
	e.fail("POST", base+"/ai-search/instances/nope/chat/completions", "application/json", `{"messages":[{"role":"user","content":"x"}]}`, 404, "not found")
}
