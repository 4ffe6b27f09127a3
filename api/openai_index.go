package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
	"github.com/ragd/ragd/rag"
)

// chatRequest is the body of POST /v1/chat/completions: OpenAI's request
// plus ragd's extension fields, which ground the answer in an index.
// Without Index the extension is absent and the route is plain chat.
type chatRequest struct {
	openaiwire.ChatCompletionRequest
	// Index answers the last user message from this index through the
	// retrieval service (rag.Ask). With it, top_k is the number of
	// passages retrieved (as on /v1/indexes/{name}/ask), not sampling's
	// top-k.
	Index string `json:"index"`
	// Mode and Filter are /v1/indexes/{name}/search's "mode" and
	// "filter"; they need Index.
	Mode   string          `json:"mode"`
	Filter json.RawMessage `json:"filter"`
}

// chatIndexResponse is the non-streamed completion of a chat over an
// index: OpenAI's chat.completion plus the citations and the hits the
// answer was grounded on (always present, [] when none).
type chatIndexResponse struct {
	openaiwire.ChatCompletionResponse
	Citations []generate.Citation `json:"citations"`
	Hits      []data.Hit          `json:"hits"`
}

// chatIndexChunk is a streamed chat.completion.chunk of a chat over an
// index: the first chunk carries the hits, the chunk with the finish
// reason the citations.
type chatIndexChunk struct {
	openaiwire.ChatCompletionChunk
	Hits      *[]data.Hit          `json:"hits,omitempty"`
	Citations *[]generate.Citation `json:"citations,omitempty"`
}

// askRequest converts a chat over an index to the retrieval service's
// request: the last user message is the question; system and developer
// messages are added to ragd's grounded-answer prompt; earlier user and
// assistant turns are not sent to the model (as on AI Search's chat
// completions). Sampling defaults are /v1/indexes/{name}/ask's
// (temperature 0), so the same question gets the same answer there.
func (r *chatRequest) askRequest() (rag.AskRequest, error) {
	if err := r.Validate(); err != nil {
		return rag.AskRequest{}, err
	}
	var instructions []string
	question := ""
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if m := r.Messages[i]; m.Role == "user" && question == "" && strings.TrimSpace(m.Content) != "" {
			question = m.Content
		}
	}
	if question == "" {
		return rag.AskRequest{}, fmt.Errorf("%w: no user message with text to answer from index %q", data.ErrInvalid, r.Index)
	}
	for _, m := range r.Messages {
		if (m.Role == "system" || m.Role == "developer") && strings.TrimSpace(m.Content) != "" {
			instructions = append(instructions, m.Content)
		}
	}
	sr := searchRequest{Query: question, Mode: r.Mode, Filter: r.Filter}
	if r.TopK != nil {
		sr.TopK = *r.TopK
	}
	q, err := sr.toQuery()
	if err != nil {
		return rag.AskRequest{}, err
	}
	if openaiwire.ToolsActive(r.Tools, r.ToolChoice) {
		return rag.AskRequest{}, fmt.Errorf("%w: tools with index (chat over an index answers in text or JSON, it does not call tools)", data.ErrUnsupported)
	}
	opts := generate.AnswerOptions{Stop: r.Stop, ResponseFormat: r.ResponseFormat}
	if len(instructions) > 0 {
		opts.SystemPrompt = generate.DefaultSystemPrompt + "\n\n" + strings.Join(instructions, "\n\n")
	}
	if r.MaxTokens != nil {
		opts.MaxTokens = *r.MaxTokens
	}
	if r.MaxCompletionTokens != nil {
		opts.MaxTokens = *r.MaxCompletionTokens
	}
	if r.Temperature != nil {
		opts.Temperature = *r.Temperature
	}
	if r.TopP != nil {
		opts.TopP = *r.TopP
	}
	if r.Seed != nil {
		seed := uint32(*r.Seed)
		opts.Seed = &seed
	}
	return rag.AskRequest{Query: q, Answer: opts}, nil
}

// chatOverIndex answers a chat completion from req.Index through the
// retrieval service, in OpenAI's chat.completion shape (or its chunk
// stream) with ragd's citations and hits added.
func (s *Server) chatOverIndex(c echo.Context, req *chatRequest) error {
	areq, err := req.askRequest()
	if err != nil {
		return err
	}
	if s.cfg.Generator == nil {
		return fmt.Errorf("no generator configured: %w", data.ErrUnavailable)
	}
	model := req.Model
	if model == "" {
		model = s.cfg.Generator.Info().ID
	}
	ad := generate.NewChatAdapter(generate.NewCompletionID(), model, time.Now().Unix(), req.IncludeUsage())
	// The answer stream's tokens and end become chat.completion chunks.
	chunks := func(ev rag.Event) []openaiwire.ChatCompletionChunk {
		switch ev.Type {
		case rag.EventToken:
			return ad.Chunks(generate.Event{Type: generate.EventToken, Delta: ev.Delta})
		case rag.EventDone:
			return ad.Chunks(generate.Event{Type: generate.EventDone, Usage: ev.Usage, FinishReason: ev.FinishReason})
		}
		return nil
	}
	start := time.Now()
	if !req.Stream {
		cancel := s.limitRequest(c)
		defer cancel()
		res, err := s.cfg.Service.Ask(c.Request().Context(), req.Index, areq, func(ev rag.Event) error {
			chunks(ev)
			return nil
		})
		if err != nil {
			return err
		}
		s.observeAnswer(start, res)
		cites := res.Answer.Citations
		if cites == nil {
			cites = []generate.Citation{}
		}
		return c.JSON(http.StatusOK, chatIndexResponse{ChatCompletionResponse: ad.Response(), Citations: cites, Hits: res.Hits})
	}
	return s.chatOverIndexStream(c, req.Index, areq, chunks)
}

// chatOverIndexStream streams the answer as chat.completion.chunk events
// and [DONE]. A failure before the first chunk is a plain HTTP error; a
// later one ends the stream with an error chunk, as plain chat does.
func (s *Server) chatOverIndexStream(c echo.Context, name string, areq rag.AskRequest, chunks func(rag.Event) []openaiwire.ChatCompletionChunk) error {
	ctx := c.Request().Context()
	var sse *SSE
	var hits *[]data.Hit // sent with the next chunk
	start := time.Now()
	res, err := s.cfg.Service.Ask(ctx, name, areq, func(ev rag.Event) error {
		if ev.Type == rag.EventRetrieval {
			h := ev.Hits
			hits = &h
			return nil
		}
		for _, ch := range chunks(ev) {
			out := chatIndexChunk{ChatCompletionChunk: ch, Hits: hits}
			hits = nil
			if ev.Type == rag.EventDone && len(ch.Choices) == 1 {
				cites := ev.Citations
				if cites == nil {
					cites = []generate.Citation{}
				}
				out.Citations = &cites
			}
			if sse == nil {
				sse = NewSSE(c)
			}
			if err := sse.Event("", out); err != nil {
				return err
			}
		}
		return nil
	})
	if sse == nil && err != nil {
		return err // nothing sent yet: a proper HTTP error
	}
	if sse == nil {
		sse = NewSSE(c)
	}
	if err != nil {
		if !errors.Is(err, ctx.Err()) {
			status, code := StatusFor(err)
			_ = sse.Event("", map[string]any{"error": map[string]any{"message": err.Error(), "type": code, "code": status}})
			s.log.Warn("chat stream over an index ended with an error", "index", name, "err", err)
		}
		return nil
	}
	s.observeAnswer(start, res)
	_ = sse.Data([]byte("[DONE]"))
	return nil
}

// observeAnswer records an answer's generation time and tokens.
func (s *Server) observeAnswer(start time.Time, res *rag.AskResult) {
	s.m.generateSeconds.Observe(time.Since(start).Seconds())
	if res != nil && res.Answer != nil {
		s.m.tokens.Add(float64(res.Answer.Usage.CompletionTokens))
	}
}
