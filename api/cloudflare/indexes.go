package cloudflare

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ragd/ragd/api"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// Limits on index management requests.
const (
	MaxDescriptionBytes = 1024
	MaxMetadataIndexes  = 10
	MaxPropertyNameLen  = 512
)

// indexConfigJSON is CreateIndex.Config.
type indexConfigJSON struct {
	Dimensions int    `json:"dimensions"`
	Metric     string `json:"metric"`
	Preset     string `json:"preset,omitempty"`
}

// indexJSON is the SDK's CreateIndex.
type indexJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Config      indexConfigJSON `json:"config"`
	CreatedOn   *string         `json:"created_on"`
	ModifiedOn  *string         `json:"modified_on"`
}

func isoTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000000Z")
	return &s
}

func (h *handler) describe(info index.IndexInfo) indexJSON {
	st := h.state.get(info.Name)
	out := indexJSON{Name: info.Name, Description: info.Description,
		Config:    indexConfigJSON{Dimensions: info.Dims, Metric: metricName(info.Metric)},
		CreatedOn: isoTime(st.CreatedOn), ModifiedOn: isoTime(st.ModifiedOn)}
	return out
}

type createIndexRequest struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Config      json.RawMessage `json:"config"`
}

// configRequest is the union of IndexDimensionConfiguration and
// VectorizeIndexPresetConfiguration.
type configRequest struct {
	Dimensions *int    `json:"dimensions"`
	Metric     *string `json:"metric"`
	Preset     *string `json:"preset"`
}

func (r createIndexRequest) indexConfig() (data.IndexConfig, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, a...)...)
	}
	if r.Name == "" {
		return data.IndexConfig{}, bad("name is required")
	}
	if len(r.Description) > MaxDescriptionBytes || !utf8.ValidString(r.Description) {
		return data.IndexConfig{}, bad("description must be valid UTF-8 of at most %d bytes", MaxDescriptionBytes)
	}
	if len(r.Config) == 0 || string(r.Config) == "null" {
		return data.IndexConfig{}, bad("config is required: {dimensions, metric} or {preset}")
	}
	var c configRequest
	if err := api.DecodeJSON(r.Config, &c); err != nil {
		return data.IndexConfig{}, fmt.Errorf("config: %w", err)
	}
	cfg := data.IndexConfig{Name: r.Name, Description: r.Description}
	if c.Preset != nil {
		e, ok := catalogEntry(*c.Preset)
		if !ok {
			return cfg, bad("unknown preset %q (known: @cf/baai/bge-small-en-v1.5, @cf/baai/bge-base-en-v1.5, @cf/baai/bge-large-en-v1.5, openai/text-embedding-ada-002, cohere/embed-multilingual-v2.0, @cf/ragd/use-lite)", *c.Preset)
		}
		cfg.Dims, cfg.Metric = e.Dims, e.Metric
		if c.Dimensions != nil && *c.Dimensions != e.Dims {
			return cfg, bad("preset %s has %d dimensions, config says %d", e.Name, e.Dims, *c.Dimensions)
		}
		if c.Metric != nil {
			if m, ok := parseMetric(*c.Metric); !ok || m != e.Metric {
				return cfg, bad("preset %s uses metric %s, config says %q", e.Name, metricName(e.Metric), *c.Metric)
			}
		}
		return cfg, nil
	}
	if c.Dimensions == nil || c.Metric == nil {
		return cfg, bad("config needs dimensions and metric, or a preset")
	}
	if *c.Dimensions < 1 || *c.Dimensions > MaxDimensions {
		return cfg, bad("dimensions %d out of range 1..%d", *c.Dimensions, MaxDimensions)
	}
	m, ok := parseMetric(*c.Metric)
	if !ok {
		return cfg, bad("metric %q: want cosine, euclidean or dot-product", *c.Metric)
	}
	cfg.Dims, cfg.Metric = *c.Dimensions, m
	return cfg, nil
}

// MaxDimensions is the longest vector an index may hold (ragd's engine
// limit; Cloudflare's is 1536).
const MaxDimensions = 8192

func (h *handler) createIndex(c echo.Context) error {
	var req createIndexRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	cfg, err := req.indexConfig()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.cfg.Engine.CreateIndex(ctx, cfg); err != nil {
		return err
	}
	if err := h.state.reset(cfg.Name, time.Now().UTC()); err != nil {
		h.log.Warn("recording a new Vectorize index failed", "index", cfg.Name, "err", err)
	}
	info, err := h.cfg.Engine.Index(ctx, cfg.Name)
	if err != nil {
		return err
	}
	return ok(c, h.describe(info))
}

func (h *handler) listIndexes(c echo.Context) error {
	infos, err := h.cfg.Engine.Indexes(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]indexJSON, 0, len(infos))
	for _, info := range infos {
		out = append(out, h.describe(info))
	}
	return ok(c, out)
}

func (h *handler) getIndex(c echo.Context) error {
	info, err := h.cfg.Engine.Index(c.Request().Context(), c.Param("index"))
	if err != nil {
		return err
	}
	return ok(c, h.describe(info))
}

func (h *handler) deleteIndex(c echo.Context) error {
	name := c.Param("index")
	l := h.writeLock(name)
	l.Lock()
	defer l.Unlock()
	if err := h.cfg.Engine.DropIndex(c.Request().Context(), name); err != nil {
		return err
	}
	if err := h.state.remove(name); err != nil {
		h.log.Warn("forgetting a dropped Vectorize index failed", "index", name, "err", err)
	}
	return ok(c, nil)
}

type infoJSON struct {
	Dimensions            int     `json:"dimensions"`
	VectorCount           int     `json:"vectorCount"`
	ProcessedUpToDatetime *string `json:"processedUpToDatetime"`
	ProcessedUpToMutation *string `json:"processedUpToMutation"`
}

// info reports the vector count. ragd applies writes before it answers
// them, so the last mutation is always processed.
func (h *handler) info(c echo.Context) error {
	info, err := h.cfg.Engine.Index(c.Request().Context(), c.Param("index"))
	if err != nil {
		return err
	}
	st := h.state.get(info.Name)
	out := infoJSON{Dimensions: info.Dims, VectorCount: info.Stats.Vectors, ProcessedUpToDatetime: isoTime(st.LastMutationAt)}
	if st.LastMutation != "" {
		m := st.LastMutation
		out.ProcessedUpToMutation = &m
	}
	return ok(c, out)
}

type metadataIndexRequest struct {
	PropertyName string `json:"propertyName"`
	IndexType    string `json:"indexType"`
}

type mutationJSON struct {
	MutationID string `json:"mutationId"`
}

// checkPropertyName applies Vectorize's rules for metadata keys to a
// metadata index's propertyName: 1..MaxPropertyNameLen bytes of UTF-8, not
// starting with "$", without '"', control characters, path separators or
// empty dot segments (dots name nested properties: "a.b", never "../x").
func checkPropertyName(p string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: propertyName %q %s", data.ErrInvalid, clip(p), why)
	}
	if p == "" || len(p) > MaxPropertyNameLen {
		return fmt.Errorf("%w: propertyName must be 1..%d bytes", data.ErrInvalid, MaxPropertyNameLen)
	}
	if err := data.CheckID("propertyName", p, MaxPropertyNameLen); err != nil {
		return bad("must be UTF-8 without control characters")
	}
	switch {
	case strings.HasPrefix(p, "$"):
		return bad("may not start with $")
	case strings.ContainsAny(p, "\"/\\"):
		return bad("may not contain \", / or \\")
	case slices.Contains(strings.Split(p, "."), ""):
		return bad("may not start or end with a dot or hold an empty segment (\"..\")")
	}
	return nil
}

func (h *handler) createMetadataIndex(c echo.Context) error {
	name := c.Param("index")
	var req metadataIndexRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkPropertyName(req.PropertyName); err != nil {
		return err
	}
	if req.PropertyName == "namespace" {
		return fmt.Errorf("%w: propertyName \"namespace\" is reserved by ragd for vector namespaces", data.ErrInvalid)
	}
	switch req.IndexType {
	case "string", "number", "boolean":
	default:
		return fmt.Errorf("%w: indexType %q: want string, number or boolean", data.ErrInvalid, req.IndexType)
	}
	if _, err := h.cfg.Engine.Index(c.Request().Context(), name); err != nil {
		return err
	}
	err := h.state.update(name, func(st *indexState) error {
		for _, m := range st.MetadataIndexes {
			if m.PropertyName == req.PropertyName {
				return fmt.Errorf("metadata index on %q: %w", req.PropertyName, data.ErrExists)
			}
		}
		if len(st.MetadataIndexes) >= MaxMetadataIndexes {
			return fmt.Errorf("%w: an index has at most %d metadata indexes", data.ErrInvalid, MaxMetadataIndexes)
		}
		st.MetadataIndexes = append(st.MetadataIndexes, metadataIndex(req))
		return nil
	})
	if err != nil {
		return err
	}
	return ok(c, mutationJSON{MutationID: h.state.mutation(name)})
}

func (h *handler) listMetadataIndexes(c echo.Context) error {
	name := c.Param("index")
	if _, err := h.cfg.Engine.Index(c.Request().Context(), name); err != nil {
		return err
	}
	return ok(c, map[string]any{"metadataIndexes": sortedMetadataIndexes(h.state.get(name).MetadataIndexes)})
}

type deleteMetadataIndexRequest struct {
	PropertyName string `json:"propertyName"`
}

func (h *handler) deleteMetadataIndex(c echo.Context) error {
	name := c.Param("index")
	var req deleteMetadataIndexRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	if _, err := h.cfg.Engine.Index(c.Request().Context(), name); err != nil {
		return err
	}
	err := h.state.update(name, func(st *indexState) error {
		for i, m := range st.MetadataIndexes {
			if m.PropertyName == req.PropertyName {
				st.MetadataIndexes = append(st.MetadataIndexes[:i], st.MetadataIndexes[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("metadata index on %q: %w", req.PropertyName, data.ErrNotFound)
	})
	if err != nil {
		return err
	}
	return ok(c, mutationJSON{MutationID: h.state.mutation(name)})
}

// isNotFound reports whether err says something does not exist.
func isNotFound(err error) bool { return errors.Is(err, data.ErrNotFound) }
