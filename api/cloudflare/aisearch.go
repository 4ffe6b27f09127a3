package cloudflare

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/rag"
)

// registerAISearch mounts AI Search (package aisearch): namespaces,
// instances (with and without the namespace segment: without it means the
// default namespace), items, stats, search and chat completions.
func (h *handler) registerAISearch(g *echo.Group) {
	a := g.Group("/ai-search")
	a.POST("/namespaces", h.createNamespace)
	a.GET("/namespaces", h.listNamespaces)
	a.GET("/namespaces/:namespace", h.getNamespace)
	a.PUT("/namespaces/:namespace", h.updateNamespace)
	a.DELETE("/namespaces/:namespace", h.deleteNamespace)
	a.POST("/namespaces/:namespace/search", h.namespaceSearch)
	a.POST("/namespaces/:namespace/chat/completions", h.namespaceChat)
	for _, prefix := range []string{"/instances", "/namespaces/:namespace/instances"} {
		a.POST(prefix, h.createInstance)
		a.GET(prefix, h.listInstances)
		a.GET(prefix+"/:index", h.getInstance)
		a.PUT(prefix+"/:index", h.updateInstance)
		a.DELETE(prefix+"/:index", h.deleteInstance)
		a.GET(prefix+"/:index/stats", h.instanceStats)
		a.POST(prefix+"/:index/search", h.aiSearch)
		a.POST(prefix+"/:index/chat/completions", h.aiChat)
	}
	items := "/namespaces/:namespace/instances/:index/items"
	a.POST(items, h.uploadItem)
	a.GET(items, h.listItems)
	a.GET(items+"/:item", h.getItem)
	a.DELETE(items+"/:item", h.deleteItem)
	a.GET(items+"/:item/chunks", h.itemChunks)
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, a...)...)
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{data.ErrUnsupported}, a...)...)
}

// namespaceParam is the :namespace path segment (or the default).
func namespaceParam(c echo.Context) string {
	if ns := c.Param("namespace"); ns != "" {
		return ns
	}
	return aisearch.DefaultNamespace
}

type aiMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (m aiMessage) text() (string, error) {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return "", nil
	}
	return genMessage{Role: m.Role, Content: m.Content}.text()
}

// lastUser returns the last user message's text.
func lastUser(ms []aiMessage) (string, error) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == "user" {
			t, err := ms[i].text()
			if err != nil {
				return "", fmt.Errorf("%w: messages[%d]: %w", data.ErrInvalid, i, err)
			}
			if strings.TrimSpace(t) != "" {
				return t, nil
			}
		}
	}
	return "", fmt.Errorf("%w: no user message with text", data.ErrInvalid)
}

type aiSearchRequest struct {
	Query           string            `json:"query"`
	Messages        []aiMessage       `json:"messages"`
	AISearchOptions *aisearch.Options `json:"ai_search_options"`
}

// searchText is the query, else the last user message.
func (r aiSearchRequest) searchText() (string, error) {
	text := strings.TrimSpace(r.Query)
	if text == "" {
		var err error
		if text, err = lastUser(r.Messages); err != nil {
			return "", fmt.Errorf("%w (send query or messages)", err)
		}
	}
	return text, nil
}

type searchChunk struct {
	ID             string          `json:"id"`
	InstanceID     string          `json:"instance_id,omitempty"`
	Score          float64         `json:"score"`
	Text           string          `json:"text"`
	Type           string          `json:"type"`
	Item           chunkItem       `json:"item"`
	ScoringDetails *scoringDetails `json:"scoring_details,omitempty"`
}

type chunkItem struct {
	Key       string         `json:"key"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Timestamp int64          `json:"timestamp,omitempty"`
}

type scoringDetails struct {
	FusionMethod   string   `json:"fusion_method,omitempty"`
	KeywordRank    *int     `json:"keyword_rank,omitempty"`
	KeywordScore   *float64 `json:"keyword_score,omitempty"`
	RerankingScore *float64 `json:"reranking_score,omitempty"`
	VectorRank     *int     `json:"vector_rank,omitempty"`
	VectorScore    *float64 `json:"vector_score,omitempty"`
}

type searchResult struct {
	Chunks      []searchChunk            `json:"chunks"`
	QueryKind   string                   `json:"query_kind"`
	SearchQuery string                   `json:"search_query"`
	Errors      []aisearch.InstanceError `json:"errors,omitempty"`
}

// chunksOf writes results as the SDK's chunks; withInstance names the
// instance of each (namespace searches).
func chunksOf(res []aisearch.Result, withInstance bool) []searchChunk {
	out := make([]searchChunk, 0, len(res))
	for _, r := range res {
		hit := r.Hit
		ch := searchChunk{ID: hit.ChunkID, Score: hit.Score, Text: hit.Text, Type: "text",
			Item: chunkItem{Key: hit.DocID, Metadata: hit.Metadata}}
		if withInstance {
			ch.InstanceID = r.Instance
		}
		if ex := hit.Explain; ex != nil {
			sd := &scoringDetails{RerankingScore: ex.Rerank}
			if ex.BM25 != nil {
				sd.KeywordRank, sd.KeywordScore = &ex.BM25.Rank, &ex.BM25.Score
			}
			if ex.Vector != nil {
				sd.VectorRank, sd.VectorScore = &ex.Vector.Rank, &ex.Vector.Score
			}
			if ex.BM25 != nil && ex.Vector != nil || r.Mode == data.ModeHybrid {
				sd.FusionMethod = "rrf"
			}
			ch.ScoringDetails = sd
		}
		out = append(out, ch)
	}
	return out
}

func (h *handler) aiSearch(c echo.Context) error {
	var req aiSearchRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	text, err := req.searchText()
	if err != nil {
		return err
	}
	res, err := h.ais.Search(c.Request().Context(), namespaceParam(c), c.Param("index"), text, req.AISearchOptions)
	if err != nil {
		return err
	}
	return ok(c, searchResult{Chunks: chunksOf(res, false), QueryKind: "text", SearchQuery: text})
}

func (h *handler) namespaceSearch(c echo.Context) error {
	var req aiSearchRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	text, err := req.searchText()
	if err != nil {
		return err
	}
	res, errs, err := h.ais.SearchNamespace(c.Request().Context(), c.Param("namespace"), text, req.AISearchOptions)
	if err != nil {
		return err
	}
	return ok(c, searchResult{Chunks: chunksOf(res, true), QueryKind: "text", SearchQuery: text, Errors: errs})
}

type aiChatRequest struct {
	Messages        []aiMessage       `json:"messages"`
	Model           string            `json:"model"`
	Stream          bool              `json:"stream"`
	AISearchOptions *aisearch.Options `json:"ai_search_options"`
}

type aiChatResponse struct {
	generate.ChatCompletionResponse
	Chunks []searchChunk `json:"chunks"`
}

// aiChat answers the last user message from the instance's passages with
// ragd's grounded-answer prompt. System and developer messages are added
// to ragd's instructions; earlier turns are not sent to the model. The
// non-streamed body is the completion itself (the SDK does not unwrap an
// envelope); streamed, it is chat.completion.chunk events and [DONE].
func (h *handler) aiChat(c echo.Context) error {
	return h.chat(c, c.Param("index"))
}

// namespaceChat answers from the namespace's instances.
func (h *handler) namespaceChat(c echo.Context) error {
	return h.chat(c, "")
}

// chat answers the request from instance id of the path's namespace (id
// "": from the namespace).
func (h *handler) chat(c echo.Context, id string) error {
	var req aiChatRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	if len(req.Messages) == 0 {
		return fmt.Errorf("%w: messages must not be empty", data.ErrInvalid)
	}
	creq := aisearch.ChatRequest{Options: req.AISearchOptions, MaxTokens: DefaultMaxTokens}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer":
			t, err := m.text()
			if err != nil {
				return fmt.Errorf("%w: messages[%d]: %w", data.ErrInvalid, i, err)
			}
			if strings.TrimSpace(t) != "" {
				creq.Instructions = append(creq.Instructions, t)
			}
		case "user", "assistant":
		default:
			return fmt.Errorf("%w: messages[%d].role %q: want system, developer, user or assistant", data.ErrInvalid, i, m.Role)
		}
	}
	var err error
	if creq.Question, err = lastUser(req.Messages); err != nil {
		return err
	}
	if h.cfg.Generator == nil {
		return fmt.Errorf("no text generator configured: %w", data.ErrUnavailable)
	}
	model := req.Model
	if model == "" {
		model = h.cfg.Generator.Info().ID
	}
	ad := generate.NewChatAdapter(generate.NewCompletionID(), model, time.Now().Unix(), req.Stream)
	// The answer stream's tokens and end become chat.completion chunks.
	toEvent := func(ev rag.Event) (generate.Event, bool) {
		switch ev.Type {
		case rag.EventToken:
			return generate.Event{Type: generate.EventToken, Delta: ev.Delta}, true
		case rag.EventDone:
			return generate.Event{Type: generate.EventDone, Usage: ev.Usage, FinishReason: ev.FinishReason}, true
		}
		return generate.Event{}, false
	}
	ctx := c.Request().Context()
	ns := namespaceParam(c)
	if !req.Stream {
		res, err := h.ais.Chat(ctx, ns, id, creq, func(ev rag.Event) error {
			if e, ok := toEvent(ev); ok {
				ad.Chunks(e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, aiChatResponse{ChatCompletionResponse: ad.Response(), Chunks: chunksOf(res, id == "")})
	}
	sse := api.NewSSE(c)
	_, err = h.ais.Chat(ctx, ns, id, creq, func(ev rag.Event) error {
		e, ok := toEvent(ev)
		if !ok {
			return nil
		}
		for _, ch := range ad.Chunks(e) {
			b, _ := json.Marshal(ch)
			if err := sse.Data(b); err != nil {
				return err
			}
		}
		return nil
	})
	return h.endStream(c, sse, err)
}
