package aisearch

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/ragd/ragd/data"
)

// Limits and defaults of AI Search instances.
const (
	MinInstanceChunkSize = data.MinChunkSize
	MaxInstanceChunkSize = data.MaxChunkSize
	// DefaultChunkSize and DefaultChunkOverlap are what an instance that
	// sets neither reads back (the chunker's defaults, in tokens).
	DefaultChunkSize    = 256
	DefaultChunkOverlap = 32
)

// IndexMethod says what an instance indexes.
type IndexMethod struct {
	Keyword bool `json:"keyword"`
	Vector  bool `json:"vector"`
}

// UnmarshalJSON leaves a side that is not named on: {"vector": false} is
// a keyword-only instance, as docs/cloudflare.md says, not "both off".
func (m *IndexMethod) UnmarshalJSON(b []byte) error {
	type plain IndexMethod
	p := plain{Keyword: true, Vector: true}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*m = IndexMethod(p)
	return nil
}

// RetrievalOptions are an instance's stored retrieval options.
type RetrievalOptions struct {
	BoostBy          []json.RawMessage `json:"boost_by,omitempty"`
	KeywordMatchMode string            `json:"keyword_match_mode,omitempty"`
}

// CustomMetadataField declares one filterable metadata field.
type CustomMetadataField struct {
	DataType  string `json:"data_type"`
	FieldName string `json:"field_name"`
}

// Settings are the fields of the SDK's InstanceCreateParams and
// InstanceUpdateParams. ragd applies chunk_size, chunk_overlap,
// embedding_model, index_method / hybrid_search_enabled (the default
// retrieval type), fusion_method, max_num_results and score_threshold;
// it refuses settings it cannot honour and stores the rest so that they
// read back as written.
type Settings struct {
	AIGatewayID                    *string               `json:"ai_gateway_id,omitempty"`
	AISearchModel                  *string               `json:"ai_search_model,omitempty"`
	Cache                          *bool                 `json:"cache,omitempty"`
	CacheThreshold                 *string               `json:"cache_threshold,omitempty"`
	CacheTTL                       *int                  `json:"cache_ttl,omitempty"`
	Chunk                          *bool                 `json:"chunk,omitempty"`
	ChunkOverlap                   *int                  `json:"chunk_overlap,omitempty"`
	ChunkSize                      *int                  `json:"chunk_size,omitempty"`
	CustomMetadata                 []CustomMetadataField `json:"custom_metadata,omitempty"`
	EmbeddingModel                 *string               `json:"embedding_model,omitempty"`
	FusionMethod                   *string               `json:"fusion_method,omitempty"`
	HybridSearchEnabled            *bool                 `json:"hybrid_search_enabled,omitempty"`
	IndexMethod                    *IndexMethod          `json:"index_method,omitempty"`
	IndexingOptions                json.RawMessage       `json:"indexing_options,omitempty"`
	MaxNumResults                  *int                  `json:"max_num_results,omitempty"`
	Metadata                       json.RawMessage       `json:"metadata,omitempty"`
	Paused                         *bool                 `json:"paused,omitempty"`
	PublicEndpointParams           json.RawMessage       `json:"public_endpoint_params,omitempty"`
	Reranking                      *bool                 `json:"reranking,omitempty"`
	RerankingModel                 *string               `json:"reranking_model,omitempty"`
	RetrievalOptions               *RetrievalOptions     `json:"retrieval_options,omitempty"`
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

// CreateInstanceRequest is the SDK's InstanceCreateParams.
type CreateInstanceRequest struct {
	ID string `json:"id"`
	Settings
}

// UpdateInstanceRequest is the SDK's InstanceUpdateParams.
type UpdateInstanceRequest struct {
	ID *string `json:"id"`
	Settings
}

// merge overwrites s's fields with the ones set in u.
func (s *Settings) merge(u Settings) {
	dst, src := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(u)
	_ = json.Unmarshal(a, &dst)
	_ = json.Unmarshal(b, &src)
	for k, v := range src {
		dst[k] = v
	}
	c, _ := json.Marshal(dst)
	*s = Settings{}
	_ = json.Unmarshal(c, s)
}

// validate checks the settings ragd applies and refuses what it cannot do.
func (s *Settings) validate() error {
	if s.ChunkSize != nil && (*s.ChunkSize < MinInstanceChunkSize || *s.ChunkSize > MaxInstanceChunkSize) {
		return invalid("chunk_size %d out of range %d..%d (tokens)", *s.ChunkSize, MinInstanceChunkSize, MaxInstanceChunkSize)
	}
	size := DefaultChunkSize
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
func (s *Settings) vectorOn() bool {
	if s.IndexMethod != nil {
		return s.IndexMethod.Vector
	}
	return true
}

// DefaultMode is the retrieval type a search uses when it names none.
func (r *Instance) DefaultMode() data.Mode {
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

func (r *Instance) chunkSizes() (size, overlap int) {
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

// Effective returns the instance's settings with what ragd decided filled
// in where the instance left them unset (chunk size and overlap, fusion
// method, index method, result count), so a client reads the values in
// force. The embedding model is left as set: its public name is the front
// end's.
func (r *Instance) Effective() Settings {
	s := r.Settings
	if s.ChunkSize == nil {
		v := DefaultChunkSize
		s.ChunkSize = &v
	}
	if s.ChunkOverlap == nil {
		v := DefaultChunkOverlap
		s.ChunkOverlap = &v
	}
	if s.FusionMethod == nil {
		v := "rrf"
		s.FusionMethod = &v
	}
	if s.IndexMethod == nil {
		s.IndexMethod = &IndexMethod{Keyword: r.DefaultMode() != data.ModeVector, Vector: r.Model != ""}
	}
	if s.MaxNumResults == nil {
		v := DefaultSearchResults
		s.MaxNumResults = &v
	}
	return s
}
