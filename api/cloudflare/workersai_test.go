package cloudflare_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
)

type embedResult struct {
	Shape []int       `json:"shape"`
	Data  [][]float64 `json:"data"`
}

func TestRunEmbeddings(t *testing.T) {
	e := newEnv(t, func(c *cloudflare.Config) {
		c.ModelMap = map[string]string{"@cf/custom/mine": "use-lite"}
	})
	cases := []struct {
		name, path, body string
		shape            string
		first            float64
	}{
		// The SDK escapes the slashes of the model name; curl users do not.
		{"sdk path", "/ai/run/@cf%2Fbaai%2Fbge-small-en-v1.5", `{"text":"hello"}`, "[1 384]", 5},
		{"literal path", "/ai/run/@cf/baai/bge-small-en-v1.5", `{"text":["a","bb","ccc"]}`, "[3 384]", 1},
		{"ragd alias", "/ai/run/@cf/ragd/use-lite", `{"text":["four"]}`, "[1 512]", 4},
		{"configured map", "/ai/run/@cf/custom/mine", `{"text":"xy"}`, "[1 512]", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := *e
			sub.t = t
			r := decodeInto[embedResult](t, sub.json("POST", base+c.path, c.body, 200))
			if fmt.Sprint(r.Shape) != c.shape {
				t.Fatalf("shape %v, want %s", r.Shape, c.shape)
			}
			if len(r.Data) != r.Shape[0] || len(r.Data[0]) != r.Shape[1] || r.Data[0][0] != c.first || r.Data[0][1] != 2 {
				t.Fatalf("data does not match the model's vectors: %d rows, first %v", len(r.Data), r.Data[0][:2])
			}
		})
	}
	if k := e.models.models["bge-small-en-v1.5"].kinds; len(k) == 0 || k[0] != embed.Passage {
		t.Fatalf("embed kinds %v", k)
	}

	e.fail("POST", base+"/ai/run/@cf/baai/bge-base-en-v1.5", "application/json", `{"text":"x"}`, 404, `ragd model "bge-base-en-v1.5", which is not installed`)
	code := e.fail("POST", base+"/ai/run/@cf/someone/embedder", "application/json", `{"text":"x"}`, 404, "installed: bge-small-en-v1.5, use-lite")
	if code != 40401 {
		t.Fatalf("code %d", code)
	}
	p := base + "/ai/run/@cf/baai/bge-small-en-v1.5"
	e.fail("POST", p, "application/json", `{"text":[]}`, 400, "empty array")
	e.fail("POST", p, "application/json", `{"text":5}`, 400, "string or an array")
	e.fail("POST", p, "application/json", `{}`, 400, "text is required")
	e.fail("POST", p, "application/json", `{"text":"a","pooling":"cls"}`, 400, "unknown field")
	e.fail("POST", p, "application/json", `[1]`, 400, "JSON object")
	e.fail("POST", p, "application/json", `{"text":[`+strings.Repeat(`"a",`, 100)+`"a"]}`, 413, "more than 100")

	none := newEnv(t, func(c *cloudflare.Config) { c.Models = nil })
	none.fail("POST", p, "application/json", `{"text":"a"}`, 503, "no embedding models")
}

type genResult struct {
	Response string `json:"response"`
	Usage    *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func TestRunGeneration(t *testing.T) {
	e := newEnv(t)
	p := base + "/ai/run/@cf/meta/llama-3.1-8b-instruct"
	r := decodeInto[genResult](t, e.json("POST", p, map[string]any{
		"messages":   []map[string]any{{"role": "system", "content": "be brief"}, {"role": "user", "content": []map[string]string{{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}}}},
		"max_tokens": 50, "temperature": 0.2, "top_p": 0.9, "top_k": 40, "seed": 7}, 200))
	if r.Response != "Hello world" || r.Usage == nil || r.Usage.PromptTokens != 7 || r.Usage.CompletionTokens != 3 || r.Usage.TotalTokens != 10 {
		t.Fatalf("result %+v", r)
	}
	req := e.gen.last()
	if len(req.Messages) != 2 || req.Messages[1].Content != "hi there" || req.MaxTokens != 50 || req.Temperature != 0.2 ||
		req.TopP != 0.9 || req.TopK != 40 || req.Seed == nil || *req.Seed != 7 {
		t.Fatalf("generator got %+v", req)
	}

	// A prompt gets the chat template (a user message) unless raw.
	e.json("POST", p, `{"prompt":"Once upon"}`, 200)
	req = e.gen.last()
	if req.Prompt != "" || len(req.Messages) != 1 || req.Messages[0].Role != "user" || req.Messages[0].Content != "Once upon" {
		t.Fatalf("prompt became %+v", req)
	}
	if req.MaxTokens != 256 || req.Temperature != 0.6 {
		t.Fatalf("defaults max_tokens %d temperature %v", req.MaxTokens, req.Temperature)
	}
	e.json("POST", p, `{"prompt":"<s>[INST] hi [/INST]","raw":true}`, 200)
	if req = e.gen.last(); req.Prompt != "<s>[INST] hi [/INST]" || req.Messages != nil {
		t.Fatalf("raw prompt became %+v", req)
	}

	cases := []struct {
		body   string
		status int
		substr string
	}{
		{`{}`, 400, "prompt or messages is required"},
		{`{"prompt":"a","messages":[{"role":"user","content":"b"}]}`, 400, "not both"},
		{`{"prompt":"  "}`, 400, "prompt is empty"},
		{`{"messages":[{"role":"wizard","content":"b"}]}`, 400, "role"},
		{`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, 400, "content"},
		{`{"prompt":"a","temperature":9}`, 400, "temperature"},
		{`{"prompt":"a","top_p":1.5}`, 400, "top_p"},
		{`{"prompt":"a","top_k":0}`, 400, "top_k"},
		{`{"prompt":"a","max_tokens":0}`, 400, "max_tokens"},
		{`{"prompt":"a","seed":-1}`, 400, "seed"},
		{`{"prompt":"a","tools":[{"name":"has space"}]}`, 400, "tools[0].function.name"},
		{`{"prompt":"a","tools":{"name":"x"}}`, 400, "tools must be an array"},
		{`{"prompt":"a","response_format":{"type":"xml"}}`, 400, "response_format.type"},
		{`{"prompt":"a","response_format":{"type":"json_schema"}}`, 400, "json_schema.schema"},
		{`{"prompt":"a","lora":"x"}`, 400, "lora"},
		{`{"prompt":"a","mystery":1}`, 400, "unknown field"},
	}
	for _, c := range cases {
		e.fail("POST", p, "application/json", c.body, c.status, c.substr)
	}
	// Penalties are accepted (and ignored: ragd's generators have none).
	e.json("POST", p, `{"prompt":"a","frequency_penalty":0.5,"presence_penalty":0.1,"repetition_penalty":1.1}`, 200)

	e.gen.failFirst = generate.ErrOverloaded
	e.fail("POST", p, "application/json", `{"prompt":"a"}`, 429, "queue full")
	e.gen.failFirst = nil

	none := newEnv(t, func(c *cloudflare.Config) { c.Generator = nil })
	none.fail("POST", p, "application/json", `{"prompt":"a"}`, 503, "no text generator")
}

// sse reads a streamed response's data lines.
func sse(t *testing.T, e *env, path, body string) (int, http.Header, []string) {
	t.Helper()
	resp, err := http.Post(e.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	blank := true
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			blank = true
			continue
		}
		if !blank {
			t.Fatalf("SSE events not separated by a blank line at %q", line)
		}
		blank = false
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("non-data SSE line %q", line)
		}
		lines = append(lines, data)
	}
	return resp.StatusCode, resp.Header, lines
}

func TestRunGenerationStream(t *testing.T) {
	e := newEnv(t)
	p := base + "/ai/run/@cf/meta/llama-3.1-8b-instruct"
	status, header, lines := sse(t, e, p, `{"messages":[{"role":"user","content":"hi"}],"stream":true}`)
	if status != 200 || header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", status, header.Get("Content-Type"))
	}
	want := []string{`{"response":"Hel"}`, `{"response":"lo"}`, `{"response":" world"}`,
		`{"response":"","usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}`, `[DONE]`}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stream:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	// A failure mid-stream is an error event and no [DONE].
	e.gen.failAfter = 2
	_, _, lines = sse(t, e, p, `{"prompt":"hi","stream":true}`)
	if len(lines) != 3 || !strings.Contains(lines[2], `"error"`) || !strings.Contains(lines[2], "backend exploded") || !strings.Contains(lines[2], "50201") {
		t.Fatalf("failed stream %q", lines)
	}
	// A failure before the first token is a normal error envelope.
	e.gen.failAfter = 0
	e.gen.failFirst = errBoom
	e.fail("POST", p, "application/json", `{"prompt":"hi","stream":true}`, 500, "internal error")
}

// TestRunGenerationResponseFormat: response_format reaches the generator
// in either json_schema shape (Workers AI's: the schema itself; OpenAI's:
// {name, schema}), and a non-streamed JSON result is the document itself.
func TestRunGenerationResponseFormat(t *testing.T) {
	e := newEnv(t)
	e.gen.tokens = []string{`{"a":`, `1}`}
	p := base + "/ai/run/@cf/meta/llama-3.1-8b-instruct"
	schema := `{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`
	for _, rf := range []string{
		`{"type":"json_schema","json_schema":` + schema + `}`,
		`{"type":"json_schema","json_schema":{"name":"x","schema":` + schema + `,"strict":true}}`,
	} {
		raw := e.json("POST", p, `{"prompt":"a","response_format":`+rf+`}`, 200)
		var r struct {
			Response map[string]int `json:"response"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || r.Response["a"] != 1 {
			t.Fatalf("%s: result %s (%v), want the object {\"a\":1}", rf, raw, err)
		}
		got := e.gen.last().ResponseFormat
		if got == nil || got.Type != "json_schema" || got.JSONSchema == nil {
			t.Fatalf("%s: generator got %+v", rf, got)
		}
		var want, have any
		_ = json.Unmarshal([]byte(schema), &want)
		_ = json.Unmarshal(got.JSONSchema.Schema, &have)
		if !reflect.DeepEqual(want, have) {
			t.Fatalf("%s: schema %s", rf, got.JSONSchema.Schema)
		}
	}
	e.json("POST", p, `{"prompt":"a","response_format":{"type":"json_object"}}`, 200)
	if rf := e.gen.last().ResponseFormat; rf == nil || rf.Type != "json_object" {
		t.Fatalf("json_object became %+v", rf)
	}
	// A generator that cannot write JSON refuses with a 400.
	e.gen.failFirst = fmt.Errorf("fake: %w", generate.ErrNoStructuredOutput)
	e.fail("POST", p, "application/json", `{"prompt":"a","response_format":{"type":"json_object"}}`, 400, "response_format")
	e.gen.failFirst = nil
}

// TestRunGenerationTools: Workers AI's tools ({name, description,
// parameters} or OpenAI's shape) reach the generator, and its tool calls
// come back as tool_calls [{name, arguments}] with the arguments as an
// object, streamed (on the last event) and not.
func TestRunGenerationTools(t *testing.T) {
	e := newEnv(t)
	e.gen.tokens = nil
	e.gen.calls = []openaiwire.ToolCall{{ID: "call_1", Type: "function", Function: openaiwire.FunctionCall{Name: "getWeather", Arguments: `{"lat":"51.5"}`}}}
	p := base + "/ai/run/@hf/nousresearch/hermes-2-pro-mistral-7b"
	body := `{"messages":[{"role":"user","content":"weather?"}],"tools":[
		{"name":"getWeather","description":"weather","parameters":{"type":"object","properties":{"lat":{"type":"string"}}}},
		{"type":"function","function":{"name":"other"}}]}`
	raw := e.json("POST", p, body, 200)
	var r struct {
		Response  any `json:"response"`
		ToolCalls []struct {
			Name      string            `json:"name"`
			Arguments map[string]string `json:"arguments"`
		} `json:"tool_calls"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.ToolCalls) != 1 || r.ToolCalls[0].Name != "getWeather" || r.ToolCalls[0].Arguments["lat"] != "51.5" {
		t.Fatalf("result %s (%v)", raw, err)
	}
	tools := e.gen.last().Tools
	if len(tools) != 2 || tools[0].Function.Name != "getWeather" || tools[0].Function.Description != "weather" ||
		!strings.Contains(string(tools[0].Function.Parameters), `"lat"`) || tools[1].Function.Name != "other" || tools[1].Type != "function" {
		t.Fatalf("generator got tools %+v", tools)
	}
	resp, err := http.Post(e.srv.URL+p, "application/json", strings.NewReader(strings.Replace(body, `"messages"`, `"stream":true,"messages"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"tool_calls":[{"name":"getWeather","arguments":{"lat":"51.5"}}]`) || !strings.Contains(string(b), "[DONE]") {
		t.Fatalf("stream %s", b)
	}
}
