package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// decode reads a JSON body strictly: unknown fields, trailing data and
// malformed JSON are 400s.
func decode(c echo.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return DecodeJSON(body, v)
}

// readBody reads the whole request body (see ReadBody).
func readBody(c echo.Context) ([]byte, error) { return ReadBody(c.Request().Body) }

// ReadBody reads a whole request body. A body over the limit is
// data.ErrTooLarge (413) whether the limit shows in Content-Length or is
// only found while reading a chunked upload (echo's BodyLimit reader or an
// http.MaxBytesReader); other read errors are data.ErrInvalid.
func ReadBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, fmt.Errorf("%w: request body over %d bytes", data.ErrTooLarge, mbe.Limit)
		case errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
			return nil, fmt.Errorf("%w: request body over the size limit", data.ErrTooLarge)
		}
		return nil, fmt.Errorf("%w: reading body: %v", data.ErrInvalid, err) //nolint:errorlint // cause kept as text: an echo.HTTPError inside would override this 400 in StatusFor
	}
	return body, nil
}

// DecodeJSON decodes one strict JSON value from body: empty bodies,
// malformed JSON, unknown fields and trailing data are errors wrapping
// data.ErrInvalid. The Cloudflare-compatible routes use it too.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%w: empty request body (want JSON)", data.ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: invalid JSON: %w", data.ErrInvalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON body", data.ErrInvalid)
	}
	return nil
}

type createIndexRequest struct {
	Name         string  `json:"name"`
	Description  string  `json:"description,omitempty"`
	Model        *string `json:"model,omitempty"`
	Dims         int     `json:"dims,omitempty"`
	Metric       string  `json:"metric,omitempty"`
	ChunkSize    int     `json:"chunk_size,omitempty"`
	ChunkOverlap int     `json:"chunk_overlap,omitempty"`
}

func (s *Server) createIndex(c echo.Context) error {
	var req createIndexRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	model := s.cfg.DefaultModel
	if req.Model != nil {
		model = *req.Model
	}
	cfg := data.IndexConfig{Name: req.Name, Description: req.Description, Dims: req.Dims, Metric: data.Metric(req.Metric),
		ChunkSize: req.ChunkSize, ChunkOverlap: req.ChunkOverlap}
	// dims without a model is a bring-your-own-vectors index; a model named
	// explicitly is kept, and dims given with it must match it.
	if model != "" && model != "none" && (req.Model != nil || req.Dims == 0) {
		if s.cfg.Models == nil {
			return fmt.Errorf("model %q: %w: no models configured", model, data.ErrUnavailable)
		}
		cfg.Model = model
	}
	info, err := s.cfg.Service.CreateIndex(c.Request().Context(), cfg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, info)
}

func (s *Server) listIndexes(c echo.Context) error {
	infos, err := s.cfg.Engine.Indexes(c.Request().Context())
	if err != nil {
		return err
	}
	if infos == nil {
		infos = []index.IndexInfo{}
	}
	return c.JSON(http.StatusOK, map[string]any{"indexes": infos})
}

func (s *Server) getIndex(c echo.Context) error {
	info, err := s.cfg.Engine.Index(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

func (s *Server) deleteIndex(c echo.Context) error {
	if err := s.cfg.Engine.DropIndex(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// docInput is a document as clients send it (the JSONL/BEIR shape).
type docInput struct {
	ID       string         `json:"id"`
	AltID    string         `json:"_id"`
	Title    string         `json:"title"`
	Text     string         `json:"text"`
	Source   string         `json:"source"`
	Metadata map[string]any `json:"metadata"`
}

type putDocumentsRequest struct {
	Documents []docInput `json:"documents"`
	Force     bool       `json:"force"`
}

// MaxDocumentsPerRequest bounds one documents request.
const MaxDocumentsPerRequest = 10000

func (s *Server) putDocuments(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req putDocumentsRequest
	trim := bytes.TrimSpace(body)
	switch {
	case len(trim) > 0 && trim[0] == '[':
		err = DecodeJSON(body, &req.Documents)
	case hasTopLevelKey(trim, "documents"):
		err = DecodeJSON(body, &req)
	default:
		var one docInput
		err = DecodeJSON(body, &one)
		req.Documents = []docInput{one}
	}
	if err != nil {
		return err
	}
	if len(req.Documents) == 0 {
		return fmt.Errorf("%w: no documents", data.ErrInvalid)
	}
	if len(req.Documents) > MaxDocumentsPerRequest {
		return fmt.Errorf("%w: %d documents in one request (limit %d)", data.ErrTooLarge, len(req.Documents), MaxDocumentsPerRequest)
	}
	docs := make([]data.Document, len(req.Documents))
	for i, d := range req.Documents {
		id := d.ID
		if id == "" {
			id = d.AltID
		}
		if id == "" {
			return fmt.Errorf("%w: documents[%d] has no id", data.ErrInvalid, i)
		}
		if err := data.CheckID(fmt.Sprintf("documents[%d].id", i), id, 0); err != nil {
			return err
		}
		if err := data.CheckMetadata(d.Metadata); err != nil {
			return fmt.Errorf("documents[%d] (%q): %w", i, id, err)
		}
		if strings.TrimSpace(d.Text) == "" && strings.TrimSpace(d.Title) == "" {
			return fmt.Errorf("%w: documents[%d] (%q) has no text", data.ErrInvalid, i, id)
		}
		src := d.Source
		if src == "" {
			src = "api"
		}
		docs[i] = data.Document{ID: id, Title: d.Title, Text: d.Text, Source: src, Metadata: d.Metadata}
	}
	sum, err := s.cfg.Service.Ingest(ctx, name, docs, rag.IngestOptions{Force: req.Force})
	if err != nil {
		return err
	}
	s.m.ingestDocs.Add(float64(sum.Docs))
	s.m.ingestChunks.Add(float64(sum.Chunks))
	return c.JSON(http.StatusOK, map[string]any{"written": sum.Docs, "skipped": sum.Skipped, "chunks": sum.Chunks,
		"embedded": sum.Embedded, "cache_hits": sum.CacheHits, "took_ms": sum.Elapsed.Milliseconds()})
}

// hasTopLevelKey reports whether body is a JSON object with key at its top
// level (a document whose title, text or metadata mentions the key is not
// the wrapper shape).
func hasTopLevelKey(body []byte, key string) bool {
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	// Only the first value counts: trailing data after it is reported by
	// the decode that follows, not mistaken for a single document.
	var probe map[string]json.RawMessage
	if json.NewDecoder(bytes.NewReader(body)).Decode(&probe) != nil {
		return false
	}
	_, ok := probe[key]
	return ok
}

func (s *Server) listDocuments(c echo.Context) error {
	limit := 100
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 || n > 1000 {
			return fmt.Errorf("%w: limit must be 1..1000", data.ErrInvalid)
		}
		limit = n
	}
	// One more than asked tells whether another page follows.
	docs, err := s.cfg.Engine.Documents(c.Request().Context(), c.Param("name"), c.QueryParam("after"), limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		next = docs[limit-1].ID
	}
	if docs == nil {
		docs = []index.DocumentSummary{}
	}
	return c.JSON(http.StatusOK, map[string]any{"documents": docs, "next": next})
}

// docID reads the document id from the wildcard; ids may contain slashes
// (file paths), sent raw or percent-encoded. echo routes on the escaped
// path only when it differs from the decoded one (URL.RawPath set), so the
// wildcard is unescaped exactly then: "50%25off" is "50%off", not an error.
func docID(c echo.Context) (string, error) {
	raw := c.Param("*")
	id := raw
	if c.Request().URL.RawPath != "" {
		var err error
		if id, err = url.PathUnescape(raw); err != nil {
			return "", fmt.Errorf("%w: bad document id %q", data.ErrInvalid, raw)
		}
	}
	if id == "" {
		return "", fmt.Errorf("%w: empty document id", data.ErrInvalid)
	}
	return id, nil
}

func (s *Server) getDocument(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	d, err := s.cfg.Engine.Document(c.Request().Context(), c.Param("name"), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) deleteDocument(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	n, _, err := s.cfg.Engine.DeleteDocuments(c.Request().Context(), c.Param("name"), []string{id})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("document %q: %w", id, data.ErrNotFound)
	}
	return c.NoContent(http.StatusNoContent)
}

// searchRequest is the body of POST /v1/indexes/{name}/search.
type searchRequest struct {
	Query     string          `json:"query"`
	TopK      int             `json:"top_k"`
	Mode      string          `json:"mode"`
	Filter    json.RawMessage `json:"filter"`
	Vector    []float32       `json:"vector"`
	Namespace string          `json:"namespace"`
	Fusion    string          `json:"fusion"`
	Alpha     *float64        `json:"alpha"`
	RRFK      int             `json:"rrf_k"`
	Explain   bool            `json:"explain"`
	Rerank    bool            `json:"rerank"`
	Ef        int             `json:"ef"`
	Model     string          `json:"model"`
}

func (r searchRequest) toQuery() (data.Query, error) {
	q := data.Query{Text: r.Query, TopK: r.TopK, Mode: data.Mode(r.Mode), Vector: r.Vector, Namespace: r.Namespace,
		Fusion: data.Fusion(r.Fusion), RRFK: r.RRFK, Explain: r.Explain, Rerank: r.Rerank, Ef: r.Ef, Model: r.Model, Alpha: 0.5}
	if r.Alpha != nil {
		q.Alpha = *r.Alpha
	}
	if len(r.Filter) > 0 {
		f, err := data.ParseFilterJSON(r.Filter)
		if err != nil {
			return q, err
		}
		q.Filter = f
	}
	return q, nil
}

func (s *Server) search(c echo.Context) error {
	reqStart := time.Now()
	var req searchRequest
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := decodeWithVector(body, &req, "vector", &req.Vector); err != nil {
		return err
	}
	q, err := req.toQuery()
	if err != nil {
		return err
	}
	name := c.Param("name")
	cached, cr := s.cacheLookup(c, "search", name, cacheKeyQuery(q))
	if cached != nil {
		// took_ms is this request's own server time, not the cached one's.
		took := time.Since(reqStart)
		return c.JSON(http.StatusOK, map[string]any{"hits": json.RawMessage(cached), "took_ms": float64(took.Microseconds()) / 1000})
	}
	ctx, tm := rag.WithTiming(c.Request().Context())
	hits, err := s.cfg.Service.Search(ctx, name, q)
	c.Response().Header().Set("Server-Timing", serverTiming(*tm))
	if err != nil {
		return err
	}
	took := tm.Wait + tm.Service
	mode := q.Mode
	if mode == "" {
		mode = "auto"
	}
	s.m.searchSeconds.WithLabelValues(string(mode)).Observe(took.Seconds())
	if hits == nil {
		hits = []data.Hit{}
	}
	if cr != nil {
		if b, err := json.Marshal(hits); err == nil {
			cr.put(c.Request().Context(), s, b)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"hits": hits, "took_ms": float64(took.Microseconds()) / 1000})
}
