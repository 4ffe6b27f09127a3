package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
)

// AI Search limits.
const (
	DefaultSearchResults = 10
	MaxSearchResults     = 50
)

// registerAISearch mounts AI Search: namespaces, instances (with and
// without the namespace segment: without it means the default
// namespace), items, stats, search and chat completions.
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

type aiSearchOptions struct {
	Cache *struct {
		CacheThreshold string `json:"cache_threshold"`
		Enabled        bool   `json:"enabled"`
	} `json:"cache"`
	CustomMetadata map[string]any `json:"custom_metadata"`
	InstanceIDs    []string       `json:"instance_ids"`
	QueryRewrite   *struct {
		Enabled       bool   `json:"enabled"`
		Model         string `json:"model"`
		RewritePrompt string `json:"rewrite_prompt"`
	} `json:"query_rewrite"`
	Reranking *struct {
		Enabled        bool     `json:"enabled"`
		MatchThreshold *float64 `json:"match_threshold"`
		Model          string   `json:"model"`
	} `json:"reranking"`
	Retrieval *struct {
		BoostBy          []json.RawMessage `json:"boost_by"`
		ContextExpansion int               `json:"context_expansion"`
		Filters          json.RawMessage   `json:"filters"`
		FusionMethod     string            `json:"fusion_method"`
		KeywordMatchMode string            `json:"keyword_match_mode"`
		MatchThreshold   *float64          `json:"match_threshold"`
		MaxNumResults    *int              `json:"max_num_results"`
		RetrievalType    string            `json:"retrieval_type"`
		ReturnOnFailure  bool              `json:"return_on_failure"`
	} `json:"retrieval"`
}

// query builds the ragd query for text and the score thresholds to apply,
// starting from the target's defaults.
func (o *aiSearchOptions) query(text string, t searchTarget) (q data.Query, minScore *float64, err error) {
	q = data.Query{Text: text, TopK: DefaultSearchResults, Explain: true, Fusion: data.FusionRRF, Mode: t.mode}
	if t.topK > 0 {
		q.TopK = t.topK
	}
	minScore = t.minScore
	if o == nil {
		return q, minScore, nil
	}
	notSupported := func(what string) error {
		return fmt.Errorf("%w: %s is not supported by ragd", data.ErrUnsupported, what)
	}
	if len(o.CustomMetadata) > 0 {
		return q, nil, notSupported("custom_metadata")
	}
	if o.QueryRewrite != nil && o.QueryRewrite.Enabled {
		return q, nil, notSupported("query_rewrite")
	}
	if r := o.Reranking; r != nil && r.Enabled {
		q.Rerank = true
		minScore = r.MatchThreshold
	}
	if r := o.Retrieval; r != nil {
		switch {
		case len(r.BoostBy) > 0:
			return q, nil, notSupported("retrieval.boost_by")
		case r.ContextExpansion != 0:
			return q, nil, notSupported("retrieval.context_expansion")
		case r.KeywordMatchMode != "" && r.KeywordMatchMode != "or":
			return q, nil, notSupported("keyword_match_mode " + r.KeywordMatchMode + " (ragd's BM25 matches any term)")
		}
		switch r.RetrievalType {
		case "":
		case "vector":
			q.Mode = data.ModeVector
		case "keyword":
			q.Mode = data.ModeBM25
		case "hybrid":
			q.Mode = data.ModeHybrid
		default:
			return q, nil, fmt.Errorf("%w: retrieval_type %q: want vector, keyword or hybrid", data.ErrInvalid, r.RetrievalType)
		}
		switch r.FusionMethod {
		case "", "rrf":
		case "max":
			return q, nil, notSupported("fusion_method max (ragd fuses by rrf)")
		default:
			return q, nil, fmt.Errorf("%w: fusion_method %q: want rrf", data.ErrInvalid, r.FusionMethod)
		}
		if r.MaxNumResults != nil {
			if *r.MaxNumResults < 1 || *r.MaxNumResults > MaxSearchResults {
				return q, nil, fmt.Errorf("%w: max_num_results %d out of range 1..%d", data.ErrInvalid, *r.MaxNumResults, MaxSearchResults)
			}
			q.TopK = *r.MaxNumResults
		}
		if q.Filter, err = data.ParseFilterJSON(r.Filters); err != nil {
			return q, nil, err
		}
		if r.MatchThreshold != nil && !q.Rerank {
			minScore = r.MatchThreshold
		}
	}
	if minScore != nil && (math.IsNaN(*minScore) || *minScore < 0 || *minScore > 1) {
		return q, nil, fmt.Errorf("%w: match_threshold must be in [0, 1]", data.ErrInvalid)
	}
	return q, minScore, nil
}

type aiMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (m aiMessage) text() (string, error) {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return "", nil
	}
	return genMessage(m).text()
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
	Query           string           `json:"query"`
	Messages        []aiMessage      `json:"messages"`
	AISearchOptions *aiSearchOptions `json:"ai_search_options"`
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
	Chunks      []searchChunk   `json:"chunks"`
	QueryKind   string          `json:"query_kind"`
	SearchQuery string          `json:"search_query"`
	Errors      []instanceError `json:"errors,omitempty"`
}

// instanceError is a namespace search's failure on one instance.
type instanceError struct {
	InstanceID string `json:"instance_id"`
	Message    string `json:"message"`
}

// searchTarget is what a search runs on: an instance's index and its
// defaults, or (in the default namespace) a plain ragd index.
type searchTarget struct {
	id, index, model string
	instance         bool
	mode             data.Mode
	topK             int
	minScore         *float64
}

// target resolves an instance id. An id that names no instance in the
// default namespace falls back to the ragd index of that name, so indexes
// filled with ragd ingest are searchable as they always were.
func (h *handler) target(ns, id string) (searchTarget, error) {
	r, err := h.instance(ns, id)
	if err != nil {
		if ns == defaultNamespace && isNotFound(err) {
			return searchTarget{id: id, index: id}, nil
		}
		return searchTarget{}, err
	}
	t := searchTarget{id: id, index: r.Index, model: r.Model, instance: true, mode: r.defaultMode(), minScore: r.Settings.ScoreThreshold}
	if r.Settings.MaxNumResults != nil {
		t.topK = *r.Settings.MaxNumResults
	}
	return t, nil
}

// retrieve runs the search for text on t and returns the kept hits.
func (h *handler) retrieve(ctx context.Context, t searchTarget, text string, opts *aiSearchOptions) ([]data.Hit, data.Query, error) {
	q, minScore, err := opts.query(text, t)
	if err != nil {
		return nil, q, err
	}
	if t.instance && q.Mode != data.ModeBM25 {
		if t.model == "" {
			return nil, q, invalid("instance %q has no embedding model: use retrieval_type keyword", t.id)
		}
		// Embed the query with the instance's model, so vector search does
		// not depend on the engine's own query embedder.
		if h.cfg.Models == nil {
			return nil, q, fmt.Errorf("embedding model %q: no models configured: %w", t.model, data.ErrUnavailable)
		}
		emb, err := h.cfg.Models.Embedder(ctx, t.model)
		if err != nil {
			return nil, q, err
		}
		vecs, err := emb.Embed(ctx, embed.Query, []string{text})
		if err != nil {
			return nil, q, err
		}
		if len(vecs) != 1 {
			return nil, q, fmt.Errorf("embedder returned %d vectors for 1 text", len(vecs))
		}
		q.Vector = vecs[0]
	}
	hits, err := h.cfg.Engine.Search(ctx, t.index, q)
	if err != nil {
		return nil, q, err
	}
	if minScore != nil {
		kept := hits[:0]
		for _, hit := range hits {
			if hit.Score >= *minScore {
				kept = append(kept, hit)
			}
		}
		hits = kept
	}
	return hits, q, nil
}

func chunksOf(hits []data.Hit, q data.Query) []searchChunk {
	out := make([]searchChunk, 0, len(hits))
	for _, hit := range hits {
		ch := searchChunk{ID: hit.ChunkID, Score: hit.Score, Text: hit.Text, Type: "text",
			Item: chunkItem{Key: hit.DocID, Metadata: hit.Metadata}}
		if ex := hit.Explain; ex != nil {
			sd := &scoringDetails{RerankingScore: ex.Rerank}
			if ex.BM25 != nil {
				sd.KeywordRank, sd.KeywordScore = &ex.BM25.Rank, &ex.BM25.Score
			}
			if ex.Vector != nil {
				sd.VectorRank, sd.VectorScore = &ex.Vector.Rank, &ex.Vector.Score
			}
			if ex.BM25 != nil && ex.Vector != nil || q.Mode == data.ModeHybrid {
				sd.FusionMethod = "rrf"
			}
			ch.ScoringDetails = sd
		}
		out = append(out, ch)
	}
	return out
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

func (h *handler) aiSearch(c echo.Context) error {
	var req aiSearchRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	if o := req.AISearchOptions; o != nil && o.InstanceIDs != nil {
		return h.fail(c, invalid("ai_search_options.instance_ids belongs to namespace search (POST .../namespaces/{name}/search)"))
	}
	text, err := req.searchText()
	if err != nil {
		return h.fail(c, err)
	}
	t, err := h.target(namespaceParam(c), c.Param("index"))
	if err != nil {
		return h.fail(c, err)
	}
	hits, q, err := h.retrieve(c.Request().Context(), t, text, req.AISearchOptions)
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, searchResult{Chunks: chunksOf(hits, q), QueryKind: "text", SearchQuery: text})
}

type aiChatRequest struct {
	Messages        []aiMessage      `json:"messages"`
	Model           string           `json:"model"`
	Stream          bool             `json:"stream"`
	AISearchOptions *aiSearchOptions `json:"ai_search_options"`
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
	var req aiChatRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	if o := req.AISearchOptions; o != nil && o.InstanceIDs != nil {
		return h.fail(c, invalid("ai_search_options.instance_ids belongs to namespace chat completions"))
	}
	return h.chat(c, req, func(question string) ([]data.Hit, []searchChunk, error) {
		t, err := h.target(namespaceParam(c), c.Param("index"))
		if err != nil {
			return nil, nil, err
		}
		hits, q, err := h.retrieve(c.Request().Context(), t, question, req.AISearchOptions)
		if err != nil {
			return nil, nil, err
		}
		return hits, chunksOf(hits, q), nil
	})
}

// chat answers req from the passages retrieve finds for its question.
func (h *handler) chat(c echo.Context, req aiChatRequest, retrieve func(question string) ([]data.Hit, []searchChunk, error)) error {
	if len(req.Messages) == 0 {
		return h.fail(c, fmt.Errorf("%w: messages must not be empty", data.ErrInvalid))
	}
	var system []string
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer":
			t, err := m.text()
			if err != nil {
				return h.fail(c, fmt.Errorf("%w: messages[%d]: %w", data.ErrInvalid, i, err))
			}
			if strings.TrimSpace(t) != "" {
				system = append(system, t)
			}
		case "user", "assistant":
		default:
			return h.fail(c, fmt.Errorf("%w: messages[%d].role %q: want system, developer, user or assistant", data.ErrInvalid, i, m.Role))
		}
	}
	question, err := lastUser(req.Messages)
	if err != nil {
		return h.fail(c, err)
	}
	if h.cfg.Generator == nil {
		return h.fail(c, fmt.Errorf("no text generator configured: %w", data.ErrUnavailable))
	}
	hits, chunks, err := retrieve(question)
	if err != nil {
		return h.fail(c, err)
	}
	opts := generate.AnswerOptions{MaxTokens: DefaultMaxTokens}
	if len(system) > 0 {
		opts.SystemPrompt = generate.DefaultSystemPrompt + "\n\n" + strings.Join(system, "\n\n")
	}
	model := req.Model
	if model == "" {
		model = h.cfg.Generator.Info().ID
	}
	ad := generate.NewChatAdapter(generate.NewCompletionID(), model, time.Now().Unix(), req.Stream)
	toEvent := func(ev generate.AnswerEvent) (generate.Event, bool) {
		switch ev.Type {
		case generate.AnswerToken:
			return generate.Event{Type: generate.EventToken, Delta: ev.Delta}, true
		case generate.AnswerDone:
			return generate.Event{Type: generate.EventDone, Usage: ev.Usage, FinishReason: ev.FinishReason}, true
		}
		return generate.Event{}, false
	}
	ctx := c.Request().Context()
	if !req.Stream {
		_, err := generate.Answer(ctx, h.cfg.Generator, question, hits, opts, func(ev generate.AnswerEvent) error {
			if e, ok := toEvent(ev); ok {
				ad.Chunks(e)
			}
			return nil
		})
		if err != nil {
			return h.fail(c, err)
		}
		return c.JSON(http.StatusOK, aiChatResponse{ChatCompletionResponse: ad.Response(), Chunks: chunks})
	}
	sse := api.NewSSE(c)
	_, err = generate.Answer(ctx, h.cfg.Generator, question, hits, opts, func(ev generate.AnswerEvent) error {
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
