package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
	"github.com/ragd/ragd/rag"
)

// askRequest is the body of POST /v1/indexes/{name}/ask: a search request
// plus generation options.
type askRequest struct {
	searchRequest
	Stream       bool     `json:"stream"`
	MaxTokens    int      `json:"max_tokens"`
	Temperature  float64  `json:"temperature"`
	TopP         float64  `json:"top_p"`
	SampleTopK   int      `json:"sample_top_k"`
	Seed         *uint32  `json:"seed"`
	Stop         []string `json:"stop"`
	SystemPrompt string   `json:"system_prompt"`
	// ResponseFormat makes the answer one JSON document (json_object or
	// json_schema); citations are reported as for text answers.
	ResponseFormat *openaiwire.ResponseFormat `json:"response_format"`
	// Tools and ToolChoice (OpenAI's shape) let the model call a tool
	// with what it retrieved; the answer then carries tool_calls, and the
	// citations found in their arguments.
	Tools      []openaiwire.Tool      `json:"tools"`
	ToolChoice *openaiwire.ToolChoice `json:"tool_choice"`
}

// askCacheKey is what makes two non-streamed answers the same: the
// retrieval query and the generation options.
type askCacheKey struct {
	Query  keyQuery               `json:"query"`
	Answer generate.AnswerOptions `json:"answer"`
}

func (s *Server) ask(c echo.Context) error {
	var req askRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if s.cfg.Generator == nil {
		return fmt.Errorf("no generator configured: %w", data.ErrUnavailable)
	}
	if strings.TrimSpace(req.Query) == "" {
		return fmt.Errorf("%w: empty query", data.ErrInvalid)
	}
	if err := data.CheckTemperature(req.Temperature); err != nil {
		return err
	}
	if math.IsNaN(req.TopP) || req.TopP < 0 || req.TopP > 1 {
		return fmt.Errorf("%w: top_p %v out of range 0..1", data.ErrInvalid, req.TopP)
	}
	if err := req.ResponseFormat.Validate(); err != nil {
		return err
	}
	if err := openaiwire.ValidateTools(req.Tools, req.ToolChoice); err != nil {
		return err
	}
	q, err := req.toQuery()
	if err != nil {
		return err
	}
	if q.TopK == 0 {
		q.TopK = rag.DefaultAskTopK
	}
	opts := generate.AnswerOptions{SystemPrompt: req.SystemPrompt, MaxTokens: req.MaxTokens, Temperature: req.Temperature,
		TopP: req.TopP, TopK: req.SampleTopK, Seed: req.Seed, Stop: req.Stop, ResponseFormat: req.ResponseFormat,
		Tools: req.Tools, ToolChoice: req.ToolChoice}
	areq := rag.AskRequest{Query: q, Answer: opts}
	name := c.Param("name")
	if !req.Stream {
		cancel := s.limitRequest(c)
		defer cancel()
		cached, cr := s.cacheLookup(c, "ask", name, askCacheKey{Query: cacheKeyQuery(q), Answer: opts})
		if cached != nil {
			return c.JSON(http.StatusOK, json.RawMessage(cached))
		}
		start := time.Now()
		res, err := s.cfg.Service.Ask(c.Request().Context(), name, areq, nil)
		if err != nil {
			return err
		}
		ans := res.Answer
		s.m.generateSeconds.Observe(time.Since(start).Seconds())
		s.m.tokens.Add(float64(ans.Usage.CompletionTokens))
		resp := map[string]any{"answer": ans.Text, "citations": ans.Citations, "hits": res.Hits,
			"generator": ans.Generator, "usage": ans.Usage, "finish_reason": ans.FinishReason, "dropped": ans.Dropped}
		if len(ans.ToolCalls) > 0 {
			resp["tool_calls"] = ans.ToolCalls
		}
		if cr != nil {
			if b, err := json.Marshal(resp); err == nil {
				cr.put(c.Request().Context(), s, b)
			}
		}
		return c.JSON(http.StatusOK, resp)
	}
	return s.askStream(c, name, areq)
}

// askStream adapts the service's answer stream to server-sent events:
// "retrieval" {hits}, "token" {delta}..., then "done" or "error".
func (s *Server) askStream(c echo.Context, name string, areq rag.AskRequest) error {
	ctx := c.Request().Context()
	var sse *SSE
	var emitErr error
	errSent := false // the service sends generation failures as an "error" event itself
	start := time.Now()
	res, err := s.cfg.Service.Ask(ctx, name, areq, func(ev rag.Event) error {
		if sse == nil {
			sse = NewSSE(c)
		}
		switch ev.Type {
		case rag.EventRetrieval:
			emitErr = sse.Event("retrieval", map[string]any{"hits": ev.Hits})
		case rag.EventToken:
			emitErr = sse.Event("token", map[string]string{"delta": ev.Delta})
		case rag.EventDone:
			done := map[string]any{"citations": ev.Citations, "usage": ev.Usage,
				"finish_reason": ev.FinishReason, "dropped": ev.Dropped, "generator": ev.Generator}
			if len(ev.ToolCalls) > 0 {
				done["tool_calls"] = ev.ToolCalls
			}
			emitErr = sse.Event("done", done)
		case rag.EventError:
			errSent = true
			emitErr = sse.Event("error", map[string]string{"message": ev.Error})
		}
		return emitErr
	})
	if sse == nil {
		// Nothing streamed yet (a bad query, a missing index): a plain
		// HTTP error.
		return err
	}
	s.m.generateSeconds.Observe(time.Since(start).Seconds())
	if res != nil {
		s.m.tokens.Add(float64(res.Answer.Usage.CompletionTokens))
	}
	if err != nil && emitErr == nil && !errors.Is(err, ctx.Err()) {
		if !errSent {
			_, code := StatusFor(err)
			_ = sse.Event("error", map[string]string{"code": code, "message": err.Error()})
		}
		s.log.Warn("ask stream ended with an error", "err", err)
	}
	return nil
}
