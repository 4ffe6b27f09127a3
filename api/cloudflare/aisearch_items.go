package cloudflare

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/ingest"
)

// Limits on AI Search items.
const (
	// DefaultMaxItemBytes bounds one uploaded file (Config.MaxItemBytes).
	DefaultMaxItemBytes = 32 << 20
	MaxItemKeyBytes     = 512
	MaxItemMetadata     = 10 << 10
	MaxItemMetadataKey  = 128
	DefaultChunksLimit  = 100
	MaxChunksLimit      = 1000
)

// itemJSON is the SDK's ItemGetResponse (and ItemUploadResponse).
type itemJSON struct {
	ID          string         `json:"id"`
	Checksum    string         `json:"checksum"`
	ChunksCount *int           `json:"chunks_count"`
	CreatedAt   string         `json:"created_at"`
	FileSize    int64          `json:"file_size"`
	Key         string         `json:"key"`
	LastSeenAt  string         `json:"last_seen_at"`
	Metadata    map[string]any `json:"metadata"`
	Namespace   string         `json:"namespace"`
	NextAction  *string        `json:"next_action"`
	SourceID    *string        `json:"source_id"`
	Status      string         `json:"status"`
	Error       string         `json:"error,omitempty"`
}

func describeItem(ns string, it *itemRecord) itemJSON {
	return itemJSON{ID: it.ID, Checksum: it.Checksum, ChunksCount: it.Chunks, CreatedAt: *isoTime(it.CreatedAt), FileSize: it.FileSize,
		Key: it.Key, LastSeenAt: *isoTime(it.LastSeenAt), Metadata: it.Metadata, Namespace: ns, Status: it.Status, Error: it.Error}
}

// uploadForm is the SDK's ItemUploadParams.File, sent as multipart/form-data.
type uploadForm struct {
	key, contentType string
	body             []byte
	metadata         map[string]any
	wait             bool
}

// tooLarge turns a body-limit error met while reading multipart parts into
// data.ErrTooLarge.
func tooLarge(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
		return fmt.Errorf("%w: request body over the size limit", data.ErrTooLarge)
	}
	return invalid("multipart body: %v", err)
}

func (h *handler) readUpload(c echo.Context) (uploadForm, error) {
	var f uploadForm
	req := c.Request()
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mt != "multipart/form-data" {
		return f, invalid("upload items as multipart/form-data with a file field (got Content-Type %q)", req.Header.Get(echo.HeaderContentType))
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, h.cfg.MaxBodyBytes)
	mr, err := req.MultipartReader()
	if err != nil {
		return f, invalid("multipart body: %v", err)
	}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, tooLarge(err)
		}
		name := part.FormName()
		if seen[name] {
			return f, invalid("form field %q given twice", name)
		}
		seen[name] = true
		switch name {
		case "file":
			_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			f.key = params["filename"]
			f.contentType = part.Header.Get(echo.HeaderContentType)
			b, err := io.ReadAll(io.LimitReader(part, h.cfg.MaxItemBytes+1))
			if err != nil {
				return f, tooLarge(err)
			}
			if int64(len(b)) > h.cfg.MaxItemBytes {
				return f, fmt.Errorf("%w: file over %d bytes", data.ErrTooLarge, h.cfg.MaxItemBytes)
			}
			f.body = b
		case "metadata", "wait_for_completion":
			b, err := api.ReadBody(io.LimitReader(part, MaxItemMetadata+1))
			if err != nil {
				return f, tooLarge(err)
			}
			if len(b) > MaxItemMetadata {
				return f, invalid("%s over %d bytes", name, MaxItemMetadata)
			}
			if name == "wait_for_completion" {
				if f.wait, err = strconv.ParseBool(strings.TrimSpace(string(b))); err != nil {
					return f, invalid("wait_for_completion %q: want true or false", b)
				}
				continue
			}
			if f.metadata, err = itemMetadata(b); err != nil {
				return f, err
			}
		default:
			return f, invalid("unknown form field %q (want file, metadata, wait_for_completion)", name)
		}
	}
	if !seen["file"] {
		return f, invalid("the form has no file field")
	}
	if err := checkKey(f.key); err != nil {
		return f, err
	}
	if len(bytes.TrimSpace(f.body)) == 0 {
		return f, invalid("file %q is empty", f.key)
	}
	return f, nil
}

// itemMetadata parses the metadata form field: a JSON object of strings,
// numbers and booleans.
func itemMetadata(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := api.DecodeJSON(b, &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxItemMetadataKey || strings.HasPrefix(k, "$") || strings.ContainsAny(k, ".\"") {
			return nil, invalid("metadata key %q: 1..%d bytes, not starting with '$', without '.' or '\"'", k, MaxItemMetadataKey)
		}
		switch v.(type) {
		case string, float64, bool:
		default:
			return nil, invalid("metadata %q: values must be strings, numbers or booleans", k)
		}
	}
	return m, nil
}

func checkKey(key string) error {
	if key == "" {
		return invalid("the file part has no filename (it becomes the item key)")
	}
	if len(key) > MaxItemKeyBytes || !utf8.ValidString(key) || strings.IndexFunc(key, unicode.IsControl) >= 0 {
		return invalid("item key %q: want 1..%d bytes of UTF-8 without control characters", key, MaxItemKeyBytes)
	}
	return nil
}

// itemFormat picks the loader: the file extension, else the part's
// Content-Type, else the content.
func itemFormat(f uploadForm) (string, error) {
	byExt := map[string]string{".txt": ingest.FormatText, ".text": ingest.FormatText, ".md": ingest.FormatMarkdown,
		".markdown": ingest.FormatMarkdown, ".html": ingest.FormatHTML, ".htm": ingest.FormatHTML, ".xhtml": ingest.FormatHTML,
		".pdf": ingest.FormatPDF, ".jsonl": ingest.FormatJSONL, ".ndjson": ingest.FormatJSONL}
	byType := map[string]string{"text/plain": ingest.FormatText, "text/markdown": ingest.FormatMarkdown, "text/html": ingest.FormatHTML,
		"application/pdf": ingest.FormatPDF, "application/x-ndjson": ingest.FormatJSONL, "application/jsonl": ingest.FormatJSONL}
	// Content that is neither text nor a PDF ("%PDF-") is a 400, whatever
	// the name or type says, and nothing is stored.
	if _, err := ingest.DetectFormat("", f.body[:min(len(f.body), 4096)]); errors.Is(err, ingest.ErrBinary) {
		return "", fmt.Errorf("file %q: %w (ragd reads txt, md, html, pdf and jsonl)", f.key, err)
	}
	if fm, ok := byExt[strings.ToLower(path.Ext(f.key))]; ok {
		return fm, nil
	}
	mt, _, _ := mime.ParseMediaType(f.contentType)
	if fm, ok := byType[mt]; ok {
		return fm, nil
	}
	fm, err := ingest.DetectFormat("", f.body[:min(len(f.body), 4096)])
	if err != nil {
		return "", fmt.Errorf("file %q: %w (ragd reads txt, md, html, pdf and jsonl)", f.key, err)
	}
	return fm, nil
}

func (h *handler) uploadItem(c echo.Context) error {
	ns, id := namespaceParam(c), c.Param("index")
	inst, err := h.instance(ns, id)
	if err != nil {
		return h.fail(c, err)
	}
	f, err := h.readUpload(c)
	if err != nil {
		return h.fail(c, err)
	}
	format, err := itemFormat(f)
	if err != nil {
		return h.fail(c, err)
	}
	sum := sha256.Sum256(f.body)
	now := time.Now().UTC()
	// The write lock orders uploads of one key; the bytes go to disk
	// before the state names them.
	l := h.writeLock(inst.Index)
	l.Lock()
	itemID := newMutationID()
	h.ais.read(func(d *aisData) {
		if r, ok := d.Instances[instKey(ns, id)]; ok {
			for _, p := range r.Items {
				if p.Key == f.key {
					itemID = p.ID
				}
			}
		}
	})
	var gen int
	err = h.ais.putBlob(itemID, f.body)
	if err == nil {
		err = h.ais.update(func(d *aisData) error {
			r, ok := d.Instances[instKey(ns, id)]
			if !ok {
				return fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
			}
			it, ok := r.Items[itemID]
			if !ok {
				it = &itemRecord{ID: itemID, Key: f.key, CreatedAt: now}
			}
			it.Checksum, it.FileSize, it.Format, it.Metadata = hex.EncodeToString(sum[:]), int64(len(f.body)), format, f.metadata
			it.Status, it.Error, it.Chunks, it.LastSeenAt = itemQueued, "", nil, now
			it.Owner = h.ais.owner
			it.Generation++
			if r.Items == nil {
				r.Items = map[string]*itemRecord{}
			}
			r.Items[it.ID] = it
			r.LastActivity = now
			gen = it.Generation
			return nil
		})
		if err != nil {
			h.ais.dropBlob(itemID)
		}
	}
	l.Unlock()
	if err != nil {
		return h.fail(c, err)
	}
	j := itemJob{ns: ns, inst: id, item: itemID, gen: gen}
	if f.wait {
		h.processItem(c.Request().Context(), j)
	}
	it, err := h.item(ns, id, itemID)
	if err != nil {
		return h.fail(c, err)
	}
	if it.Status == itemQueued && it.Generation == gen {
		h.worker.push(j)
	}
	return ok(c, describeItem(ns, &it))
}

// item returns a copy of one item.
func (h *handler) item(ns, id, itemID string) (itemRecord, error) {
	var out itemRecord
	var err error
	h.ais.read(func(d *aisData) {
		var r *instanceRecord
		if r, err = findInstance(d, ns, id); err != nil {
			return
		}
		p, ok := r.Items[itemID]
		if !ok {
			err = fmt.Errorf("item %q in instance %q: %w", itemID, id, data.ErrNotFound)
			return
		}
		out = *p
	})
	return out, err
}

func (h *handler) listItems(c echo.Context) error {
	ns, id := namespaceParam(c), c.Param("index")
	page, perPage, err := paging(c)
	if err != nil {
		return h.fail(c, err)
	}
	q := c.QueryParams()
	status := q.Get("status")
	switch status {
	case "", itemQueued, itemRunning, itemCompleted, itemError, "skipped", "outdated":
	default:
		return h.fail(c, invalid("status %q: want queued, running, completed, error, skipped or outdated", status))
	}
	sortBy := q.Get("sort_by")
	if sortBy != "" && sortBy != "status" && sortBy != "modified_at" {
		return h.fail(c, invalid("sort_by %q: want status or modified_at", sortBy))
	}
	for k := range q {
		switch k {
		case "page", "per_page", "status", "sort_by", "key", "search", "item_id":
		default:
			return h.fail(c, unsupported("query parameter %q is not supported by ragd", k))
		}
	}
	var items []itemRecord
	h.ais.read(func(d *aisData) {
		var r *instanceRecord
		if r, err = findInstance(d, ns, id); err != nil {
			return
		}
		for _, p := range r.Items {
			if (status == "" || p.Status == status) && (q.Get("key") == "" || p.Key == q.Get("key")) &&
				(q.Get("item_id") == "" || p.ID == q.Get("item_id")) && strings.Contains(p.Key, q.Get("search")) {
				items = append(items, *p)
			}
		}
	})
	if err != nil {
		return h.fail(c, err)
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		switch {
		case sortBy == "status" && a.Status != b.Status:
			return a.Status < b.Status
		case sortBy == "modified_at" && !a.LastSeenAt.Equal(b.LastSeenAt):
			return a.LastSeenAt.After(b.LastSeenAt)
		}
		return a.Key < b.Key
	})
	lo, hi, info := pageOf(len(items), page, perPage)
	out := make([]itemJSON, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, describeItem(ns, &items[i]))
	}
	return okPage(c, out, info)
}

func (h *handler) getItem(c echo.Context) error {
	ns := namespaceParam(c)
	it, err := h.item(ns, c.Param("index"), c.Param("item"))
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, describeItem(ns, &it))
}

func (h *handler) deleteItem(c echo.Context) error {
	ns, id, itemID := namespaceParam(c), c.Param("index"), c.Param("item")
	inst, err := h.instance(ns, id)
	if err != nil {
		return h.fail(c, err)
	}
	l := h.writeLock(inst.Index)
	l.Lock()
	defer l.Unlock()
	it, err := h.item(ns, id, itemID)
	if err != nil {
		return h.fail(c, err)
	}
	if len(it.DocIDs) > 0 {
		if _, _, err := h.cfg.Engine.DeleteDocuments(c.Request().Context(), inst.Index, it.DocIDs); err != nil {
			return h.fail(c, err)
		}
	}
	if err := h.ais.update(func(d *aisData) error {
		if r, ok := d.Instances[instKey(ns, id)]; ok {
			delete(r.Items, itemID)
			r.LastActivity = time.Now().UTC()
		}
		return nil
	}); err != nil {
		return h.fail(c, err)
	}
	h.ais.dropBlob(itemID)
	return ok(c, map[string]string{"key": it.Key})
}

// chunkJSON is one entry of the SDK's ItemChunksResponse.
type chunkJSON struct {
	ID        string    `json:"id"`
	Item      chunkItem `json:"item"`
	Text      string    `json:"text"`
	StartByte int       `json:"start_byte"`
	EndByte   int       `json:"end_byte"`
}

func (h *handler) itemChunks(c echo.Context) error {
	ns, id, itemID := namespaceParam(c), c.Param("index"), c.Param("item")
	limit, offset := DefaultChunksLimit, 0
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &limit, 1, MaxChunksLimit}, {"offset", &offset, 0, 1 << 30}} {
		if v := c.QueryParam(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return h.fail(c, invalid("%s %q: want an integer in %d..%d", p.name, v, p.min, p.max))
			}
			*p.dst = n
		}
	}
	inst, err := h.instance(ns, id)
	if err != nil {
		return h.fail(c, err)
	}
	it, err := h.item(ns, id, itemID)
	if err != nil {
		return h.fail(c, err)
	}
	out := []chunkJSON{}
	skipped := 0
	for _, docID := range it.DocIDs {
		doc, err := h.cfg.Engine.Document(c.Request().Context(), inst.Index, docID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return h.fail(c, err)
		}
		for _, ch := range doc.Chunks {
			if skipped < offset {
				skipped++
				continue
			}
			if len(out) == limit {
				return ok(c, out)
			}
			out = append(out, chunkJSON{ID: ch.ID, Text: ch.Text, StartByte: ch.Start, EndByte: ch.End,
				Item: chunkItem{Key: it.Key, Metadata: doc.Metadata, Timestamp: it.LastSeenAt.Unix()}})
		}
	}
	return ok(c, out)
}
