package cloudflare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

// Limits on AI Search instances.
const (
	MinInstanceChunkSize = data.MinChunkSize
	MaxInstanceChunkSize = data.MaxChunkSize
	DefaultPerPage       = 20
	MaxPerPage           = 100
)

var (
	instanceIDRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	namespaceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,27}$`)
)

type indexMethod struct {
	Keyword bool `json:"keyword"`
	Vector  bool `json:"vector"`
}

// UnmarshalJSON leaves a side that is not named on: {"vector": false} is
// a keyword-only instance, as docs/cloudflare.md says, not "both off".
func (m *indexMethod) UnmarshalJSON(b []byte) error {
	type plain indexMethod
	p := plain{Keyword: true, Vector: true}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*m = indexMethod(p)
	return nil
}

type retrievalOptions struct {
	BoostBy          []json.RawMessage `json:"boost_by,omitempty"`
	KeywordMatchMode string            `json:"keyword_match_mode,omitempty"`
}

type customMetadataField struct {
	DataType  string `json:"data_type"`
	FieldName string `json:"field_name"`
}

// instanceSettings are the fields of the SDK's InstanceCreateParams and
// InstanceUpdateParams. ragd applies chunk_size, chunk_overlap,
// embedding_model, index_method / hybrid_search_enabled (the default
// retrieval type), fusion_method, max_num_results and score_threshold;
// it refuses settings it cannot honour and stores the rest so that they
// read back as written.
type instanceSettings struct {
	AIGatewayID                    *string               `json:"ai_gateway_id,omitempty"`
	AISearchModel                  *string               `json:"ai_search_model,omitempty"`
	Cache                          *bool                 `json:"cache,omitempty"`
	CacheThreshold                 *string               `json:"cache_threshold,omitempty"`
	CacheTTL                       *int                  `json:"cache_ttl,omitempty"`
	Chunk                          *bool                 `json:"chunk,omitempty"`
	ChunkOverlap                   *int                  `json:"chunk_overlap,omitempty"`
	ChunkSize                      *int                  `json:"chunk_size,omitempty"`
	CustomMetadata                 []customMetadataField `json:"custom_metadata,omitempty"`
	EmbeddingModel                 *string               `json:"embedding_model,omitempty"`
	FusionMethod                   *string               `json:"fusion_method,omitempty"`
	HybridSearchEnabled            *bool                 `json:"hybrid_search_enabled,omitempty"`
	IndexMethod                    *indexMethod          `json:"index_method,omitempty"`
	IndexingOptions                json.RawMessage       `json:"indexing_options,omitempty"`
	MaxNumResults                  *int                  `json:"max_num_results,omitempty"`
	Metadata                       json.RawMessage       `json:"metadata,omitempty"`
	Paused                         *bool                 `json:"paused,omitempty"`
	PublicEndpointParams           json.RawMessage       `json:"public_endpoint_params,omitempty"`
	Reranking                      *bool                 `json:"reranking,omitempty"`
	RerankingModel                 *string               `json:"reranking_model,omitempty"`
	RetrievalOptions               *retrievalOptions     `json:"retrieval_options,omitempty"`
	RewriteModel                   *string               `json:"rewrite_model,omitempty"`
	RewriteQuery                   *bool                 `json:"rewrite_query,omitempty"`
	ScoreThreshold                 *float64              `json:"score_threshold,omitempty"`
	Source                         *string               `json:"source,omitempty"`
	SourceParams                   json.RawMessage       `json:"source_params,omitempty"`
	Summarization                  *bool                 `json:"summarization,omitempty"`
	SummarizationModel             *string               `json:"summarization_model,omitempty"`
	SyncInterval                   *int                  `json:"sync_interval,omitempty"`
	SystemPromptAISearch           *string               `json:"system_prompt_ai_search,omitempty"`
	SystemPromptIndexSummarization *string               `json:"system_prompt_index_summarization,omitempty"`
	SystemPromptRewriteQuery       *string               `json:"system_prompt_rewrite_query,omitempty"`
	TokenID                        *string               `json:"token_id,omitempty"`
	Type                           *string               `json:"type,omitempty"`
}

type createInstanceRequest struct {
	ID string `json:"id"`
	instanceSettings
}

type updateInstanceRequest struct {
	ID *string `json:"id"`
	instanceSettings
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, a...)...)
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{data.ErrUnsupported}, a...)...)
}

// merge overwrites s's fields with the ones set in u.
func (s *instanceSettings) merge(u instanceSettings) {
	dst, src := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(u)
	_ = json.Unmarshal(a, &dst)
	_ = json.Unmarshal(b, &src)
	for k, v := range src {
		dst[k] = v
	}
	c, _ := json.Marshal(dst)
	*s = instanceSettings{}
	_ = json.Unmarshal(c, s)
}

// validate checks the settings ragd applies and refuses what it cannot do.
func (s *instanceSettings) validate() error {
	if s.ChunkSize != nil && (*s.ChunkSize < MinInstanceChunkSize || *s.ChunkSize > MaxInstanceChunkSize) {
		return invalid("chunk_size %d out of range %d..%d (tokens)", *s.ChunkSize, MinInstanceChunkSize, MaxInstanceChunkSize)
	}
	size := 256
	if s.ChunkSize != nil {
		size = *s.ChunkSize
	}
	if s.ChunkOverlap != nil && (*s.ChunkOverlap < 0 || *s.ChunkOverlap > size/2) {
		return invalid("chunk_overlap %d out of range 0..%d (half of chunk_size)", *s.ChunkOverlap, size/2)
	}
	if s.Chunk != nil && !*s.Chunk {
		return unsupported("chunk: false (ragd always chunks documents)")
	}
	if s.FusionMethod != nil {
		switch *s.FusionMethod {
		case "rrf":
		case "max":
			return unsupported("fusion_method max is not supported by ragd (it fuses by rrf)")
		default:
			return invalid("fusion_method %q: want rrf", *s.FusionMethod)
		}
	}
	if m := s.IndexMethod; m != nil && !m.Keyword && !m.Vector {
		return invalid("index_method: keyword and vector cannot both be false")
	}
	if s.MaxNumResults != nil && (*s.MaxNumResults < 1 || *s.MaxNumResults > MaxSearchResults) {
		return invalid("max_num_results %d out of range 1..%d", *s.MaxNumResults, MaxSearchResults)
	}
	if t := s.ScoreThreshold; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 1) {
		return invalid("score_threshold must be in [0, 1]")
	}
	if s.RewriteQuery != nil && *s.RewriteQuery {
		return unsupported("rewrite_query is not supported by ragd")
	}
	if s.Summarization != nil && *s.Summarization {
		return unsupported("summarization is not supported by ragd")
	}
	if r := s.RetrievalOptions; r != nil {
		if len(r.BoostBy) > 0 {
			return unsupported("retrieval_options.boost_by is not supported by ragd")
		}
		if r.KeywordMatchMode != "" && r.KeywordMatchMode != "or" {
			return unsupported("retrieval_options.keyword_match_mode %q (ragd's BM25 matches any term)", r.KeywordMatchMode)
		}
	}
	if s.Type != nil && *s.Type != "" {
		return unsupported("type %q: ragd instances hold uploaded items only (POST .../items)", *s.Type)
	}
	if s.Source != nil && *s.Source != "" {
		return unsupported("source %q: ragd instances hold uploaded items only (POST .../items)", *s.Source)
	}
	if len(s.SourceParams) > 0 && string(s.SourceParams) != "null" {
		return unsupported("source_params: ragd instances hold uploaded items only")
	}
	for i, f := range s.CustomMetadata {
		switch f.DataType {
		case "text", "number", "boolean", "datetime":
		default:
			return invalid("custom_metadata[%d].data_type %q: want text, number, boolean or datetime", i, f.DataType)
		}
		if f.FieldName == "" || len(f.FieldName) > 128 {
			return invalid("custom_metadata[%d].field_name must be 1..128 bytes", i)
		}
	}
	if s.CacheTTL != nil {
		switch *s.CacheTTL {
		case 600, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 259200, 518400:
		default:
			return invalid("cache_ttl %d: see the allowed values in the API reference", *s.CacheTTL)
		}
	}
	return nil
}

// vectorOn reports whether the instance indexes vectors (index_method,
// else the deprecated hybrid_search_enabled, else yes).
func (s *instanceSettings) vectorOn() bool {
	if s.IndexMethod != nil {
		return s.IndexMethod.Vector
	}
	return true
}

// defaultMode is the retrieval type a search uses when it names none.
func (r *instanceRecord) defaultMode() data.Mode {
	if r.Model == "" {
		return data.ModeBM25
	}
	s := r.Settings
	switch {
	case s.IndexMethod != nil && !s.IndexMethod.Keyword:
		return data.ModeVector
	case s.IndexMethod == nil && s.HybridSearchEnabled != nil && !*s.HybridSearchEnabled:
		return data.ModeVector
	}
	return data.ModeHybrid
}

func (r *instanceRecord) chunkSizes() (size, overlap int) {
	if r.Settings.ChunkSize != nil {
		size = *r.Settings.ChunkSize
	}
	if r.Settings.ChunkOverlap != nil {
		overlap = *r.Settings.ChunkOverlap
		if overlap == 0 {
			overlap = -1 // the chunker's "no overlap"
		}
	}
	return size, overlap
}

// instanceJSON is the SDK's InstanceReadResponse.
type instanceJSON struct {
	ID string `json:"id"`
	instanceSettings
	CreatedAt     string  `json:"created_at"`
	ModifiedAt    string  `json:"modified_at"`
	LastActivity  *string `json:"last_activity"`
	Namespace     string  `json:"namespace"`
	Status        string  `json:"status"`
	Enable        bool    `json:"enable"`
	EngineVersion int     `json:"engine_version"`
}

func (h *handler) describeInstance(r *instanceRecord) instanceJSON {
	out := instanceJSON{ID: r.ID, instanceSettings: r.Settings, CreatedAt: *isoTime(r.CreatedAt), ModifiedAt: *isoTime(r.ModifiedAt),
		LastActivity: isoTime(r.LastActivity), Namespace: r.Namespace, Status: "active", Enable: true, EngineVersion: 1}
	// Fill in what ragd decided, so a client reads the effective values.
	s := &out.instanceSettings
	if s.ChunkSize == nil {
		v := 256
		s.ChunkSize = &v
	}
	if s.ChunkOverlap == nil {
		v := 32
		s.ChunkOverlap = &v
	}
	if s.EmbeddingModel == nil && r.Model != "" {
		v := ragdPrefix + r.Model
		s.EmbeddingModel = &v
	}
	if s.FusionMethod == nil {
		v := "rrf"
		s.FusionMethod = &v
	}
	if s.IndexMethod == nil {
		s.IndexMethod = &indexMethod{Keyword: r.defaultMode() != data.ModeVector, Vector: r.Model != ""}
	}
	if s.MaxNumResults == nil {
		v := DefaultSearchResults
		s.MaxNumResults = &v
	}
	return out
}

// namespaceParam validates the :namespace path segment (or the default).
func namespaceParam(c echo.Context) string {
	if ns := c.Param("namespace"); ns != "" {
		return ns
	}
	return defaultNamespace
}

// instance returns a copy of an instance (without its items).
// findInstance returns the stored instance id of namespace ns (for use
// inside aisStore.read or update), or not found when either is missing.
func findInstance(d *aisData, ns, id string) (*instanceRecord, error) {
	r, ok := d.Instances[instKey(ns, id)]
	if _, nsOK := d.Namespaces[ns]; !ok || !nsOK {
		return nil, fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
	}
	return r, nil
}

func (h *handler) instance(ns, id string) (instanceRecord, error) {
	var out instanceRecord
	var err error
	h.ais.read(func(d *aisData) {
		if _, ok := d.Namespaces[ns]; !ok {
			err = fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
			return
		}
		r, ok := d.Instances[instKey(ns, id)]
		if !ok {
			err = fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
			return
		}
		out = *r
		out.Items = nil
	})
	return out, err
}

// indexName is the ragd index behind an instance: the id itself in the
// default namespace, "<namespace>.<id>" elsewhere. Neither namespace names
// nor instance ids may contain '.', so two instances never share a name;
// a plain ragd index that already has the name makes creation fail (409).
func indexName(ns, id string) string {
	if ns == defaultNamespace {
		return id
	}
	return ns + "." + id
}

func (h *handler) createInstance(c echo.Context) error {
	ns := namespaceParam(c)
	var req createInstanceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	if !instanceIDRE.MatchString(req.ID) {
		return h.fail(c, invalid("id %q: use 1-32 lowercase letters, digits, '-' and '_', starting with a letter or digit", req.ID))
	}
	if err := req.validate(); err != nil {
		return h.fail(c, err)
	}
	ctx := c.Request().Context()
	var nsErr error
	h.ais.read(func(d *aisData) {
		if _, ok := d.Namespaces[ns]; !ok {
			nsErr = fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
		} else if _, ok := d.Instances[instKey(ns, req.ID)]; ok {
			nsErr = fmt.Errorf("AI Search instance %q in namespace %q: %w", req.ID, ns, data.ErrExists)
		}
	})
	if nsErr != nil {
		return h.fail(c, nsErr)
	}
	model, err := h.instanceModel(req.instanceSettings)
	if err != nil {
		return h.fail(c, err)
	}
	cfg := data.IndexConfig{Name: indexName(ns, req.ID), Description: fmt.Sprintf("AI Search instance %s/%s", ns, req.ID)}
	if model != "" {
		emb, err := h.cfg.Models.Embedder(ctx, model)
		if err != nil {
			return h.fail(c, fmt.Errorf("embedding_model: %w%s", err, h.installed()))
		}
		cfg.Model, cfg.Dims, cfg.Metric = model, emb.Info().Dims, data.Cosine
	}
	now := time.Now().UTC()
	rec := &instanceRecord{ID: req.ID, Namespace: ns, Index: cfg.Name, Model: model, CreatedAt: now, ModifiedAt: now,
		Settings: req.instanceSettings, Items: map[string]*itemRecord{}}
	l := h.writeLock(cfg.Name)
	l.Lock()
	defer l.Unlock()
	if _, err := h.cfg.Engine.CreateIndex(ctx, cfg); err != nil {
		if isExists(err) {
			err = fmt.Errorf("a ragd index named %q already exists (an instance in namespace %q uses the index of that name): %w", cfg.Name, ns, data.ErrExists)
		}
		return h.fail(c, err)
	}
	err = h.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[ns]; !ok {
			return fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
		}
		if _, ok := d.Instances[instKey(ns, req.ID)]; ok {
			return fmt.Errorf("AI Search instance %q in namespace %q: %w", req.ID, ns, data.ErrExists)
		}
		d.Instances[instKey(ns, req.ID)] = rec
		return nil
	})
	if err != nil {
		_ = h.cfg.Engine.DropIndex(ctx, cfg.Name)
		return h.fail(c, err)
	}
	out := *rec
	return ok(c, h.describeInstance(&out))
}

// instanceModel picks the ragd embedding model for new instance settings:
// embedding_model mapped through the catalog, else the server's default;
// "" when index_method turns vectors off or no model is configured.
func (h *handler) instanceModel(s instanceSettings) (string, error) {
	if !s.vectorOn() {
		return "", nil
	}
	if s.EmbeddingModel != nil && *s.EmbeddingModel != "" {
		m, ok := h.embeddingModel(*s.EmbeddingModel)
		if !ok {
			return "", fmt.Errorf("embedding_model %q: %w%s", *s.EmbeddingModel, embed.ErrModelNotFound, h.installed())
		}
		if h.cfg.Models == nil {
			return "", fmt.Errorf("embedding_model %q: no embedding models configured: %w", *s.EmbeddingModel, data.ErrUnavailable)
		}
		return m, nil
	}
	if h.cfg.Models == nil || h.cfg.DefaultModel == "" || h.cfg.DefaultModel == "none" {
		if s.IndexMethod != nil && s.IndexMethod.Vector {
			return "", fmt.Errorf("index_method.vector: the server has no default embedding model; name one in embedding_model: %w", data.ErrUnavailable)
		}
		return "", nil
	}
	return h.cfg.DefaultModel, nil
}

func (h *handler) listInstances(c echo.Context) error {
	ns := namespaceParam(c)
	page, perPage, err := paging(c)
	if err != nil {
		return h.fail(c, err)
	}
	search := c.QueryParam("search")
	if q := c.QueryParam("namespace"); q != "" && c.Param("namespace") == "" {
		ns = q
	}
	var recs []instanceRecord
	h.ais.read(func(d *aisData) {
		if _, ok := d.Namespaces[ns]; !ok {
			err = fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
			return
		}
		for _, r := range d.Instances {
			if r.Namespace == ns && strings.Contains(r.ID, search) {
				cp := *r
				cp.Items = nil
				recs = append(recs, cp)
			}
		}
	})
	if err != nil {
		return h.fail(c, err)
	}
	desc := c.QueryParam("order_by_direction") == "desc"
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt) != desc
		}
		return a.ID < b.ID
	})
	lo, hi, info := pageOf(len(recs), page, perPage)
	out := make([]instanceJSON, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, h.describeInstance(&recs[i]))
	}
	return okPage(c, out, info)
}

func (h *handler) getInstance(c echo.Context) error {
	r, err := h.instance(namespaceParam(c), c.Param("index"))
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, h.describeInstance(&r))
}

func (h *handler) updateInstance(c echo.Context) error {
	ns, id := namespaceParam(c), c.Param("index")
	var req updateInstanceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	if req.ID != nil && *req.ID != id {
		return h.fail(c, invalid("id %q differs from the instance in the path (%q); ids cannot be changed", *req.ID, id))
	}
	var out instanceRecord
	err := h.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[ns]; !ok {
			return fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
		}
		r, ok := d.Instances[instKey(ns, id)]
		if !ok {
			return fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
		}
		next := r.Settings
		next.merge(req.instanceSettings)
		if err := next.validate(); err != nil {
			return err
		}
		if m := req.IndexMethod; m != nil && m.Vector != (r.Model != "") {
			return unsupported("index_method.vector cannot change after creation (the index's embedding model is fixed); create a new instance")
		}
		if m := req.EmbeddingModel; m != nil && *m != "" {
			want, _ := h.embeddingModel(*m)
			if want != r.Model {
				return unsupported("embedding_model cannot change after creation (the index holds %q vectors); create a new instance", r.Model)
			}
		}
		r.Settings = next
		r.ModifiedAt = time.Now().UTC()
		out = *r
		out.Items = nil
		return nil
	})
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, h.describeInstance(&out))
}

func (h *handler) deleteInstance(c echo.Context) error {
	ns, id := namespaceParam(c), c.Param("index")
	r, err := h.instance(ns, id)
	if err != nil {
		return h.fail(c, err)
	}
	l := h.writeLock(r.Index)
	l.Lock()
	defer l.Unlock()
	if err := h.cfg.Engine.DropIndex(c.Request().Context(), r.Index); err != nil && !isNotFound(err) {
		return h.fail(c, err)
	}
	var items []string
	err = h.ais.update(func(d *aisData) error {
		items = items[:0] // fn may run again on a newer state
		if cur, ok := d.Instances[instKey(ns, id)]; ok {
			for itemID := range cur.Items {
				items = append(items, itemID)
			}
		}
		delete(d.Instances, instKey(ns, id))
		return nil
	})
	if err != nil {
		return h.fail(c, err)
	}
	for _, itemID := range items {
		h.ais.dropBlob(itemID)
	}
	return ok(c, h.describeInstance(&r))
}

// isExists reports whether err says something already exists.
func isExists(err error) bool { return errors.Is(err, data.ErrExists) }
