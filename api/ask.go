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
	q, err := req.toQuery()
	if err != nil {
		return err
	}
	if q.TopK == 0 {
		q.TopK = 5
	}
	opts := generate.AnswerOptions{SystemPrompt: req.SystemPrompt, MaxTokens: req.MaxTokens, Temperature: req.Temperature,
		TopP: req.TopP, TopK: req.SampleTopK, Seed: req.Seed, Stop: req.Stop}
	var cr *cacheReq
	if !req.Stream {
		cancel := s.limitRequest(c)
		defer cancel()
		var cached []byte
		cached, cr = s.cacheLookup(c, "ask", c.Param("name"), askCacheKey{Query: cacheKeyQuery(q), Answer: opts})
		if cached != nil {
			return c.JSON(http.StatusOK, json.RawMessage(cached))
		}
	}
	ctx := c.Request().Context()
	hits, err := s.cfg.Engine.Search(ctx, c.Param("name"), q)
	if err != nil {
		return err
	}
	start := time.Now()
	if !req.Stream {
		ans, err := generate.Answer(ctx, s.cfg.Generator, req.Query, hits, opts, nil)
		if err != nil {
			return err
		}
		s.m.generateSeconds.Observe(time.Since(start).Seconds())
		s.m.tokens.Add(float64(ans.Usage.CompletionTokens))
		if hits == nil {
			hits = []data.Hit{}
		}
		resp := map[string]any{"answer": ans.Text, "citations": ans.Citations, "hits": hits,
			"generator": ans.Generator, "usage": ans.Usage, "finish_reason": ans.FinishReason, "dropped": ans.Dropped}
		if cr != nil {
			if b, err := json.Marshal(resp); err == nil {
				cr.put(s, b)
			}
		}
		return c.JSON(http.StatusOK, resp)
	}
	sse := NewSSE(c)
	if err := sse.Event("retrieval", map[string]any{"hits": hits}); err != nil {
		return nil // client gone
	}
	var emitErr error
	errSent := false // Answer reports generation failures as an "error" event itself
	ans, err := generate.Answer(ctx, s.cfg.Generator, req.Query, hits, opts, func(ev generate.AnswerEvent) error {
		switch ev.Type {
		case "token":
			emitErr = sse.Event("token", map[string]string{"delta": ev.Delta})
		case "done":
			emitErr = sse.Event("done", map[string]any{"citations": ev.Citations, "usage": ev.Usage,
				"finish_reason": ev.FinishReason, "dropped": ev.Dropped, "generator": s.cfg.Generator.Info()})
		case "error":
			errSent = true
			emitErr = sse.Event("error", map[string]string{"message": ev.Error})
		}
		return emitErr
	})
	s.m.generateSeconds.Observe(time.Since(start).Seconds())
	if ans != nil {
		s.m.tokens.Add(float64(ans.Usage.CompletionTokens))
	}
	if err != nil && emitErr == nil && !errors.Is(err, ctx.Err()) {
		// Answer already sent an "error" event for generation failures;
		// anything else (packing, validation) is reported here.
		if !errSent {
			_, code := StatusFor(err)
			_ = sse.Event("error", map[string]string{"code": code, "message": err.Error()})
		}
		s.log.Warn("ask stream ended with an error", "err", err)
	}
	return nil
}
