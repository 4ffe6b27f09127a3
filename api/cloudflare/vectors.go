package cloudflare

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/rag"
)

// Limits on vector reads.
const (
	DefaultTopK      = 5
	MaxTopKWithData  = 100  // returnValues or returnMetadata=all
	MaxTopK          = 1000 // otherwise (also bounded by the engine's MaxTopK)
	MaxIDsPerRequest = 1000 // get_by_ids, delete_by_ids
	DefaultListCount = 100
	MaxListCount     = 1000
)

func (h *handler) insert(c echo.Context) error { return h.write(c, false) }
func (h *handler) upsert(c echo.Context) error { return h.write(c, true) }

// write stores an NDJSON batch. Nothing is stored unless every line is
// valid. Insert keeps vectors whose id already exists untouched (use
// upsert to replace them); upsert replaces vector, metadata and namespace.
func (h *handler) write(c echo.Context, upsert bool) error {
	name := c.Param("index")
	ctx := c.Request().Context()
	discard := false
	switch b := c.QueryParam("unparsable-behavior"); b {
	case "", "error":
	case "discard":
		discard = true
	default:
		return fmt.Errorf("%w: unparsable-behavior %q: want error or discard", data.ErrInvalid, b)
	}
	info, err := h.cfg.Engine.Index(ctx, name)
	if err != nil {
		return err
	}
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	vecs, _, err := parseNDJSON(body, info.Dims, discard, h.cfg.MaxBatch)
	if err != nil {
		return err
	}
	l := h.writeLock(name)
	l.Lock()
	defer l.Unlock()
	docs := make([]data.Document, 0, len(vecs))
	for _, v := range vecs {
		if !upsert {
			_, err := h.cfg.Engine.Document(ctx, name, v.ID)
			if err == nil {
				continue // insert never overwrites
			}
			if !isNotFound(err) {
				return err
			}
		}
		docs = append(docs, v.document())
	}
	if len(docs) > 0 {
		if _, err := h.cfg.Engine.PutDocuments(ctx, name, docs, true); err != nil {
			return err
		}
	}
	return ok(c, mutationJSON{MutationID: h.state.mutation(name)})
}

type queryRequest struct {
	Vector         values          `json:"vector"`
	TopK           *int            `json:"topK"`
	ReturnValues   bool            `json:"returnValues"`
	ReturnMetadata json.RawMessage `json:"returnMetadata"`
	Filter         json.RawMessage `json:"filter"`
	Namespace      string          `json:"namespace"`
}

// returnMetadata reads "none" | "indexed" | "all", or the older boolean.
func (r queryRequest) returnMetadata() (string, error) {
	if len(r.ReturnMetadata) == 0 || string(r.ReturnMetadata) == "null" {
		return "none", nil
	}
	var s string
	if err := json.Unmarshal(r.ReturnMetadata, &s); err == nil {
		switch s {
		case "none", "indexed", "all":
			return s, nil
		}
		return "", fmt.Errorf("%w: returnMetadata %q: want none, indexed or all", data.ErrInvalid, s)
	}
	var b bool
	if err := json.Unmarshal(r.ReturnMetadata, &b); err == nil {
		if b {
			return "all", nil
		}
		return "none", nil
	}
	return "", fmt.Errorf("%w: returnMetadata must be \"none\", \"indexed\" or \"all\"", data.ErrInvalid)
}

type matchJSON struct {
	ID        string         `json:"id"`
	Score     float64        `json:"score"`
	Values    []float32      `json:"values,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Namespace string         `json:"namespace,omitempty"`
}

type queryJSON struct {
	Count   int         `json:"count"`
	Matches []matchJSON `json:"matches"`
}

func (h *handler) query(c echo.Context) error {
	name := c.Param("index")
	ctx := c.Request().Context()
	var req queryRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	mode, err := req.returnMetadata()
	if err != nil {
		return err
	}
	topK := DefaultTopK
	if req.TopK != nil {
		topK = *req.TopK
	}
	limit := MaxTopK
	if req.ReturnValues || mode == "all" {
		limit = MaxTopKWithData
	}
	if topK < 1 || topK > limit {
		return fmt.Errorf("%w: topK %d out of range 1..%d (the limit is %d with returnValues or returnMetadata=all)", data.ErrInvalid, topK, limit, MaxTopKWithData)
	}
	if req.Vector == nil {
		return fmt.Errorf("%w: vector is required", data.ErrInvalid)
	}
	filter, err := data.ParseFilterJSON(req.Filter)
	if err != nil {
		return err
	}
	if len(req.Namespace) > MaxNamespaceBytes {
		return fmt.Errorf("%w: namespace longer than %d bytes", data.ErrInvalid, MaxNamespaceBytes)
	}
	info, err := h.cfg.Engine.Index(ctx, name)
	if err != nil {
		return err
	}
	if info.Dims == 0 {
		return fmt.Errorf("index %q has no vector dimensions yet: %w", name, data.ErrUnsupported)
	}
	if len(req.Vector) != info.Dims {
		return fmt.Errorf("%w: query vector has %d dimensions, the index has %d", data.ErrDimension, len(req.Vector), info.Dims)
	}
	if info.Metric == data.Cosine && isZero(req.Vector) {
		return fmt.Errorf("%w: zero vector under cosine", data.ErrInvalid)
	}
	out := queryJSON{Matches: []matchJSON{}}
	if info.Stats.Vectors == 0 {
		return ok(c, out)
	}
	var hits []data.Hit
	err = rag.Schedule(ctx, h.cfg.Scheduler, 1, func(ctx context.Context) (err error) {
		hits, err = h.cfg.Engine.Search(ctx, name, data.Query{Vector: req.Vector, TopK: topK, Mode: data.ModeVector, Filter: filter, Namespace: req.Namespace})
		return err
	})
	if err != nil {
		return err
	}
	var indexed map[string]bool
	if mode == "indexed" {
		indexed = map[string]bool{}
		for _, m := range h.state.get(name).MetadataIndexes {
			indexed[m.PropertyName] = true
		}
	}
	for _, hit := range hits {
		meta, ns := splitNamespace(hit.Metadata)
		m := matchJSON{ID: hit.DocID, Score: hit.Score, Namespace: ns}
		if info.Metric == data.L2 {
			m.Score = -hit.Score // ragd ranks by negated distance; Vectorize reports the distance
		}
		switch mode {
		case "all":
			m.Metadata = meta
		case "indexed":
			for k, v := range meta {
				if indexed[k] {
					if m.Metadata == nil {
						m.Metadata = map[string]any{}
					}
					m.Metadata[k] = v
				}
			}
		}
		if req.ReturnValues {
			doc, err := h.cfg.Engine.DocumentVectors(ctx, name, hit.DocID)
			if err != nil && !isNotFound(err) {
				return err
			}
			m.Values = storedValues(doc)
		}
		out.Matches = append(out.Matches, m)
	}
	out.Count = len(out.Matches)
	return ok(c, out)
}

type idsRequest struct {
	IDs []string `json:"ids"`
}

func (h *handler) readIDs(c echo.Context) ([]string, error) {
	var req idsRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return nil, err
	}
	if len(req.IDs) == 0 {
		return nil, fmt.Errorf("%w: ids must be a non-empty array", data.ErrInvalid)
	}
	if len(req.IDs) > MaxIDsPerRequest {
		return nil, fmt.Errorf("%w: more than %d ids in one request", data.ErrTooLarge, MaxIDsPerRequest)
	}
	seen := make(map[string]bool, len(req.IDs))
	ids := req.IDs[:0]
	for _, id := range req.IDs {
		if id == "" {
			return nil, fmt.Errorf("%w: empty id", data.ErrInvalid)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

type vectorJSON struct {
	ID        string         `json:"id"`
	Values    []float32      `json:"values"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Namespace string         `json:"namespace,omitempty"`
}

// getByIDs returns the stored vectors for ids, in request order; unknown
// ids are left out.
func (h *handler) getByIDs(c echo.Context) error {
	name := c.Param("index")
	ctx := c.Request().Context()
	ids, err := h.readIDs(c)
	if err != nil {
		return err
	}
	if _, err := h.cfg.Engine.Index(ctx, name); err != nil {
		return err
	}
	out := make([]vectorJSON, 0, len(ids))
	for _, id := range ids {
		doc, err := h.cfg.Engine.DocumentVectors(ctx, name, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		meta, ns := splitNamespace(doc.Metadata)
		out = append(out, vectorJSON{ID: doc.ID, Values: storedValues(doc), Metadata: meta, Namespace: ns})
	}
	return ok(c, out)
}

// deleteByIDs deletes vectors by id; unknown ids are ignored.
func (h *handler) deleteByIDs(c echo.Context) error {
	name := c.Param("index")
	ids, err := h.readIDs(c)
	if err != nil {
		return err
	}
	l := h.writeLock(name)
	l.Lock()
	defer l.Unlock()
	if _, _, err := h.cfg.Engine.DeleteDocuments(c.Request().Context(), name, ids); err != nil {
		return err
	}
	return ok(c, mutationJSON{MutationID: h.state.mutation(name)})
}

type listJSON struct {
	Count                     int      `json:"count"`
	TotalCount                int      `json:"totalCount"`
	IsTruncated               bool     `json:"isTruncated"`
	NextCursor                *string  `json:"nextCursor"`
	CursorExpirationTimestamp *string  `json:"cursorExpirationTimestamp"`
	Vectors                   []idJSON `json:"vectors"`
}

type idJSON struct {
	ID string `json:"id"`
}

// listVectors pages through vector ids in id order. The cursor is the last
// id of the previous page (opaque, base64url); it does not expire.
func (h *handler) listVectors(c echo.Context) error {
	name := c.Param("index")
	ctx := c.Request().Context()
	count := DefaultListCount
	if s := c.QueryParam("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxListCount {
			return fmt.Errorf("%w: count %q: want an integer in 1..%d", data.ErrInvalid, s, MaxListCount)
		}
		count = n
	}
	after := ""
	if s := c.QueryParam("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			return fmt.Errorf("%w: malformed cursor", data.ErrInvalid)
		}
		after = string(b)
	}
	info, err := h.cfg.Engine.Index(ctx, name)
	if err != nil {
		return err
	}
	docs, err := h.cfg.Engine.Documents(ctx, name, after, count)
	if err != nil {
		return err
	}
	out := listJSON{TotalCount: info.Stats.Documents, Vectors: make([]idJSON, 0, len(docs))}
	for _, d := range docs {
		out.Vectors = append(out.Vectors, idJSON{ID: d.ID})
	}
	out.Count = len(out.Vectors)
	if len(docs) == count {
		more, err := h.cfg.Engine.Documents(ctx, name, docs[len(docs)-1].ID, 1)
		if err != nil {
			return err
		}
		if len(more) > 0 {
			cur := base64.RawURLEncoding.EncodeToString([]byte(docs[len(docs)-1].ID))
			out.IsTruncated, out.NextCursor = true, &cur
		}
	}
	return ok(c, out)
}

func isZero(v []float32) bool {
	for _, f := range v {
		if f != 0 {
			return false
		}
	}
	return true
}
