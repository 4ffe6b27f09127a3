package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ragd/ragd/api"
	"math"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
)

// Limits on Workers AI requests.
const (
	MaxEmbedTexts    = 100
	MaxMessages      = 1024
	DefaultMaxTokens = 256 // Workers AI's default for text generation
	MaxGenTokens     = 8192
)

// run serves POST /ai/run/<model>. The model name may arrive with its
// slashes escaped (%2F, as the SDK sends it) or literal (as curl users
// type it).
func (h *handler) run(c echo.Context) error {
	model, err := url.PathUnescape(c.Param("*"))
	if err != nil || model == "" {
		return fmt.Errorf("%w: bad model name in the path", data.ErrInvalid)
	}
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return fmt.Errorf("%w: the body must be a JSON object: %w", data.ErrInvalid, err)
	}
	if queued, err := h.queueRequested(c, probe); err != nil {
		return err
	} else if queued {
		return h.runQueued(c, model, probe)
	}
	if _, ok := probe["requests"]; ok {
		return fmt.Errorf("%w: requests is the batch API's field; send it with queueRequest: true (or ?queueRequest=true)", data.ErrInvalid)
	}
	if ragdModel, isEmbed := h.embeddingModel(model); isEmbed {
		res, err := h.embedResult(c.Request().Context(), model, ragdModel, body)
		if err != nil {
			return err
		}
		return ok(c, res)
	}
	if err := h.checkEmbeddingRequest(model, probe); err != nil {
		return err
	}
	return h.runGeneration(c, model, body)
}

// checkEmbeddingRequest refuses an embedding-shaped request (text only)
// for a model outside the catalog.
func (h *handler) checkEmbeddingRequest(model string, probe map[string]json.RawMessage) error {
	_, hasText := probe["text"]
	_, hasPrompt := probe["prompt"]
	_, hasMessages := probe["messages"]
	if hasText && !hasPrompt && !hasMessages {
		return fmt.Errorf("embedding model %q is not in ragd's catalog%s: %w", model, h.installed(), data.ErrNotFound)
	}
	return nil
}

type embedRequest struct {
	Text json.RawMessage `json:"text"`
}

type embedResult struct {
	Shape []int       `json:"shape"`
	Data  [][]float32 `json:"data"`
}

// embedResult runs one embedding request.
func (h *handler) embedResult(ctx context.Context, model, ragdModel string, body []byte) (embedResult, error) {
	var req embedRequest
	if err := api.DecodeJSON(body, &req); err != nil {
		return embedResult{}, err
	}
	var texts []string
	var one string
	switch {
	case len(req.Text) == 0 || string(req.Text) == "null":
		return embedResult{}, fmt.Errorf("%w: text is required (a string or an array of strings)", data.ErrInvalid)
	case json.Unmarshal(req.Text, &one) == nil:
		texts = []string{one}
	case json.Unmarshal(req.Text, &texts) == nil:
	default:
		return embedResult{}, fmt.Errorf("%w: text must be a string or an array of strings", data.ErrInvalid)
	}
	if len(texts) == 0 {
		return embedResult{}, fmt.Errorf("%w: text is an empty array", data.ErrInvalid)
	}
	if len(texts) > MaxEmbedTexts {
		return embedResult{}, fmt.Errorf("%w: more than %d texts in one request", data.ErrTooLarge, MaxEmbedTexts)
	}
	if h.cfg.Models == nil {
		return embedResult{}, fmt.Errorf("no embedding models configured: %w", data.ErrUnavailable)
	}
	emb, err := h.cfg.Models.Embedder(ctx, ragdModel)
	if err != nil {
		if errors.Is(err, embed.ErrModelNotFound) || errors.Is(err, data.ErrNotFound) {
			return embedResult{}, fmt.Errorf("%s runs on the ragd model %q, which is not installed (try `ragd models pull %s`)%s: %w",
				model, ragdModel, ragdModel, h.installed(), data.ErrNotFound)
		}
		return embedResult{}, err
	}
	vecs, err := emb.Embed(ctx, embed.Passage, texts)
	if err != nil {
		return embedResult{}, fmt.Errorf("embed: %w", err)
	}
	dims := emb.Info().Dims
	if len(vecs) > 0 {
		dims = len(vecs[0])
	}
	return embedResult{Shape: []int{len(vecs), dims}, Data: vecs}, nil
}

// genRequest is the union of the SDK's Prompt and Messages inputs.
type genRequest struct {
	Prompt            *string                    `json:"prompt"`
	Messages          []genMessage               `json:"messages"`
	Stream            bool                       `json:"stream"`
	MaxTokens         *int                       `json:"max_tokens"`
	Temperature       *float64                   `json:"temperature"`
	TopP              *float64                   `json:"top_p"`
	TopK              *int                       `json:"top_k"`
	Seed              *int64                     `json:"seed"`
	Raw               bool                       `json:"raw"`
	FrequencyPenalty  *float64                   `json:"frequency_penalty"`
	PresencePenalty   *float64                   `json:"presence_penalty"`
	RepetitionPenalty *float64                   `json:"repetition_penalty"`
	Lora              *string                    `json:"lora"`
	ResponseFormat    *openaiwire.ResponseFormat `json:"response_format"`
	Tools             json.RawMessage            `json:"tools"`
	Functions         json.RawMessage            `json:"functions"`
}

type genMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	// ToolCalls are an assistant turn's calls fed back: Workers AI's
	// [{name, arguments}] or OpenAI's [{id, type, function}].
	ToolCalls json.RawMessage `json:"tool_calls"`
	// ToolCallID (or Name, in Workers AI's examples) names the call a
	// "tool" message answers.
	ToolCallID string `json:"tool_call_id"`
	Name       string `json:"name"`
}

// text reads content as a string or an array of {type: "text", text} parts
// (null or absent: empty, as an assistant turn that only calls tools).
func (m genMessage) text() (string, error) {
	if c := strings.TrimSpace(string(m.Content)); c == "" || c == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", fmt.Errorf("content must be a string or an array of {type, text} parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "" && p.Type != "text" {
			return "", fmt.Errorf("content part of type %q is not supported by ragd (text only)", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// request validates r and turns it into a generate.Request.
func (r genRequest) request() (generate.Request, error) {
	bad := func(format string, a ...any) (generate.Request, error) {
		return generate.Request{}, fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, a...)...)
	}
	unsupported := func(field string) (generate.Request, error) {
		return generate.Request{}, fmt.Errorf("%w: %s is not supported by ragd", data.ErrUnsupported, field)
	}
	switch {
	case len(r.Functions) > 0 && string(r.Functions) != "null":
		return unsupported("functions")
	case r.Lora != nil:
		return unsupported("lora")
	}
	if err := r.ResponseFormat.Validate(); err != nil {
		return generate.Request{}, err
	}
	tools, err := workersTools(r.Tools)
	if err != nil {
		return generate.Request{}, err
	}
	req := generate.Request{ResponseFormat: r.ResponseFormat, Tools: tools}
	switch {
	case r.Prompt != nil && r.Messages != nil:
		return bad("send either prompt or messages, not both")
	case r.Prompt != nil:
		if strings.TrimSpace(*r.Prompt) == "" {
			return bad("prompt is empty")
		}
		if r.Raw {
			req.Prompt = *r.Prompt
		} else {
			req.Messages = []generate.Message{{Role: "user", Content: *r.Prompt}}
		}
	case len(r.Messages) > 0:
		if r.Raw {
			return bad("raw applies to prompt only")
		}
		if len(r.Messages) > MaxMessages {
			return bad("more than %d messages", MaxMessages)
		}
		for i, m := range r.Messages {
			msg, err := m.message()
			if err != nil {
				return bad("messages[%d]: %v", i, err)
			}
			req.Messages = append(req.Messages, msg)
		}
	default:
		return bad("prompt or messages is required")
	}
	req.MaxTokens = DefaultMaxTokens
	if r.MaxTokens != nil {
		if *r.MaxTokens < 1 || *r.MaxTokens > MaxGenTokens {
			return bad("max_tokens %d out of range 1..%d", *r.MaxTokens, MaxGenTokens)
		}
		req.MaxTokens = *r.MaxTokens
	}
	req.Temperature = 0.6 // Workers AI's default for its chat models
	if t := r.Temperature; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > 5 {
			return bad("temperature must be in [0, 5]")
		}
		req.Temperature = *t
	}
	if p := r.TopP; p != nil {
		if math.IsNaN(*p) || *p < 0 || *p > 1 {
			return bad("top_p must be in [0, 1]")
		}
		req.TopP = *p
	}
	if k := r.TopK; k != nil {
		if *k < 1 || *k > 50 {
			return bad("top_k must be in [1, 50]")
		}
		req.TopK = *k
	}
	if s := r.Seed; s != nil {
		if *s < 0 || *s > math.MaxUint32 {
			return bad("seed must be in [0, %d]", uint32(math.MaxUint32))
		}
		v := uint32(*s)
		req.Seed = &v
	}
	return req, nil
}

type usageJSON struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// genResult is one result or stream event. Response is the text, or, for
// a non-streamed JSON response_format, the JSON document itself (as
// Workers AI returns it).
type genResult struct {
	Response  any            `json:"response"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
	Usage     *usageJSON     `json:"usage,omitempty"`
}

func usageOf(u *generate.Usage) *usageJSON {
	if u == nil {
		return nil
	}
	return &usageJSON{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.PromptTokens + u.CompletionTokens}
}

// runGeneration serves text generation with the configured generator,
// whatever model name was asked for (ragd has one generator).
func (h *handler) runGeneration(c echo.Context, model string, body []byte) error {
	var r genRequest
	if err := api.DecodeJSON(body, &r); err != nil {
		return err
	}
	req, err := r.request()
	if err != nil {
		return err
	}
	if h.cfg.Generator == nil {
		return fmt.Errorf("no text generator configured for %s: %w", model, data.ErrUnavailable)
	}
	ctx := c.Request().Context()
	if !r.Stream {
		res, err := h.generateResult(ctx, req)
		if err != nil {
			return err
		}
		return ok(c, res)
	}
	// Stream: `data: {"response": "..."}` per token, a last event with the
	// usage, then `data: [DONE]`. Headers go out with the first event, so
	// a failure before it is still a proper error envelope.
	sse := api.NewSSE(c)
	err = h.cfg.Generator.Generate(ctx, req, func(ev generate.Event) error {
		res := genResult{Response: ""}
		switch ev.Type {
		case generate.EventToken:
			if ev.Delta == "" {
				return nil
			}
			res.Response = ev.Delta
		case generate.EventDone:
			res.Usage = usageOf(ev.Usage)
			res.ToolCalls = workersCalls(ev.ToolCalls)
			if res.Usage == nil && res.ToolCalls == nil {
				return nil
			}
		default:
			return nil
		}
		b, _ := json.Marshal(res)
		return sse.Data(b)
	})
	return h.endStream(c, sse, err)
}

// generateResult runs one text generation to its end: the text (or the
// JSON document under a structured response_format), or the tool calls.
func (h *handler) generateResult(ctx context.Context, req generate.Request) (genResult, error) {
	var b strings.Builder
	var usage *generate.Usage
	var calls []wireToolCall
	err := h.cfg.Generator.Generate(ctx, req, func(ev generate.Event) error {
		switch ev.Type {
		case generate.EventToken:
			b.WriteString(ev.Delta)
		case generate.EventDone:
			usage = ev.Usage
			calls = workersCalls(ev.ToolCalls)
		}
		return nil
	})
	if err != nil {
		return genResult{}, err
	}
	if len(calls) > 0 {
		return genResult{Response: nil, ToolCalls: calls, Usage: usageOf(usage)}, nil
	}
	if req.ResponseFormat.Structured() && json.Valid([]byte(b.String())) {
		return genResult{Response: json.RawMessage(b.String()), Usage: usageOf(usage)}, nil
	}
	return genResult{Response: b.String(), Usage: usageOf(usage)}, nil
}

// endStream ends a Cloudflare-style stream: an error before any event is
// an ordinary error envelope, after one it is a last data event; a stream
// that ran to the end gets "data: [DONE]".
func (h *handler) endStream(c echo.Context, sse *api.SSE, err error) error {
	if err == nil {
		return sse.Data([]byte("[DONE]"))
	}
	if !sse.Started() {
		return err
	}
	b, _ := json.Marshal(map[string]any{"error": cfError{Code: api.ErrorClass(err).Number, Message: err.Error()}})
	_ = sse.Data(b)
	return nil
}
