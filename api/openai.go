package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
)

// chatCompletions serves the OpenAI-compatible chat API with the
// configured generator; with ragd's "index" extension, grounded in that
// index through the retrieval service (chatOverIndex).
func (s *Server) chatCompletions(c echo.Context) error {
	var ext chatRequest
	if err := decode(c, &ext); err != nil {
		return err
	}
	if ext.Index != "" {
		return s.chatOverIndex(c, &ext)
	}
	if ext.Mode != "" || (len(ext.Filter) > 0 && string(ext.Filter) != "null") {
		return fmt.Errorf("%w: mode and filter need index (ragd's chat over an index)", data.ErrInvalid)
	}
	req := ext.ChatCompletionRequest
	if err := req.Validate(); err != nil {
		return err
	}
	if s.cfg.Generator == nil {
		return fmt.Errorf("no generator configured: %w", data.ErrUnavailable)
	}
	greq, err := generate.ChatRequest(&req)
	if err != nil {
		return err
	}
	if !req.Stream {
		cancel := s.limitRequest(c)
		defer cancel()
	}
	ctx := c.Request().Context()
	model := req.Model
	if model == "" {
		model = s.cfg.Generator.Info().ID
	}
	id := "chatcmpl-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ad := generate.NewChatAdapter(id, model, time.Now().Unix(), req.IncludeUsage())
	start := time.Now()
	if !req.Stream {
		err := s.cfg.Generator.Generate(ctx, greq, func(ev generate.Event) error {
			ad.Chunks(ev)
			return nil
		})
		if err != nil {
			return err
		}
		s.m.generateSeconds.Observe(time.Since(start).Seconds())
		return c.JSON(http.StatusOK, ad.Response())
	}
	sse := NewSSE(c)
	err = s.cfg.Generator.Generate(ctx, greq, func(ev generate.Event) error {
		for _, ch := range ad.Chunks(ev) {
			if err := sse.Event("", ch); err != nil {
				return err
			}
		}
		return nil
	})
	s.m.generateSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		if !sse.Started() {
			return err // nothing sent yet: a proper HTTP error
		}
		status, code := StatusFor(err)
		_ = sse.Event("", map[string]any{"error": map[string]any{"message": err.Error(), "type": code, "code": status}})
		return nil
	}
	_ = sse.Data([]byte("[DONE]"))
	return nil
}

// embeddings serves the OpenAI-compatible embeddings API.
func (s *Server) embeddings(c echo.Context) error {
	var req openaiwire.EmbeddingsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	if s.cfg.Models == nil {
		return fmt.Errorf("no embedding models configured: %w", data.ErrUnavailable)
	}
	model := req.Model
	if model == "" {
		model = s.cfg.DefaultModel
	}
	emb, err := s.cfg.Models.Embedder(c.Request().Context(), model)
	if err != nil {
		return err
	}
	if req.Dimensions != nil && *req.Dimensions != emb.Info().Dims {
		return fmt.Errorf("%w: model %s has %d dimensions; dimensions=%d is not supported", data.ErrInvalid, model, emb.Info().Dims, *req.Dimensions)
	}
	start := time.Now()
	vecs, err := emb.Embed(c.Request().Context(), embed.Passage, req.Input)
	if err != nil {
		return err
	}
	s.m.embedSeconds.Observe(time.Since(start).Seconds())
	tokens := 0
	for _, t := range req.Input {
		tokens += len(t)/4 + 1
	}
	return c.JSON(http.StatusOK, openaiwire.NewEmbeddingsResponse(emb.Info().ID, vecs, tokens, req.EncodingFormat))
}

// models lists embedding models and the generator, OpenAI style.
func (s *Server) models(c echo.Context) error {
	type entry struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
		ModelInfo
	}
	var out []entry
	if l, ok := s.cfg.Models.(ModelLister); ok {
		for _, m := range l.ListModels() {
			out = append(out, entry{ID: m.ID, Object: "model", OwnedBy: "ragd", ModelInfo: m})
		}
	}
	if s.cfg.Generator != nil {
		info := s.cfg.Generator.Info()
		out = append(out, entry{ID: info.ID, Object: "model", OwnedBy: "ragd", ModelInfo: ModelInfo{ID: info.ID, Kind: "generation:" + info.Backend, Loaded: true}})
	}
	if out == nil {
		out = []entry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"object": "list", "data": out})
}
