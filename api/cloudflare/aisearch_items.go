package cloudflare

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
)

// Limits on listing an item's chunks.
const (
	DefaultChunksLimit = 100
	MaxChunksLimit     = 1000
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

func describeItem(ns string, it *aisearch.Item) itemJSON {
	return itemJSON{ID: it.ID, Checksum: it.Checksum, ChunksCount: it.Chunks, CreatedAt: *isoTime(it.CreatedAt), FileSize: it.FileSize,
		Key: it.Key, LastSeenAt: *isoTime(it.LastSeenAt), Metadata: it.Metadata, Namespace: ns, Status: it.Status, Error: it.Error}
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

// readUpload reads the SDK's ItemUploadParams, sent as
// multipart/form-data: file, and optionally metadata and
// wait_for_completion.
func (h *handler) readUpload(c echo.Context) (aisearch.Upload, error) {
	var f aisearch.Upload
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
			f.Key = params["filename"]
			f.ContentType = part.Header.Get(echo.HeaderContentType)
			b, err := io.ReadAll(io.LimitReader(part, h.cfg.MaxItemBytes+1))
			if err != nil {
				return f, tooLarge(err)
			}
			if int64(len(b)) > h.cfg.MaxItemBytes {
				return f, fmt.Errorf("%w: file over %d bytes", data.ErrTooLarge, h.cfg.MaxItemBytes)
			}
			f.Body = b
		case "metadata", "wait_for_completion":
			b, err := api.ReadBody(io.LimitReader(part, aisearch.MaxItemMetadata+1))
			if err != nil {
				return f, tooLarge(err)
			}
			if len(b) > aisearch.MaxItemMetadata {
				return f, invalid("%s over %d bytes", name, aisearch.MaxItemMetadata)
			}
			if name == "wait_for_completion" {
				if f.Wait, err = strconv.ParseBool(strings.TrimSpace(string(b))); err != nil {
					return f, invalid("wait_for_completion %q: want true or false", b)
				}
				continue
			}
			if f.Metadata, err = aisearch.ParseMetadata(b); err != nil {
				return f, err
			}
		default:
			return f, invalid("unknown form field %q (want file, metadata, wait_for_completion)", name)
		}
	}
	if !seen["file"] {
		return f, invalid("the form has no file field")
	}
	if err := aisearch.CheckKey(f.Key); err != nil {
		return f, err
	}
	if len(bytes.TrimSpace(f.Body)) == 0 {
		return f, invalid("file %q is empty", f.Key)
	}
	return f, nil
}

func (h *handler) uploadItem(c echo.Context) error {
	ns, id := namespaceParam(c), c.Param("index")
	if _, err := h.ais.Instance(ns, id); err != nil {
		return err
	}
	f, err := h.readUpload(c)
	if err != nil {
		return err
	}
	it, err := h.ais.Upload(c.Request().Context(), ns, id, f)
	if err != nil {
		return err
	}
	return ok(c, describeItem(ns, &it))
}

func (h *handler) listItems(c echo.Context) error {
	ns, id := namespaceParam(c), c.Param("index")
	page, perPage, err := paging(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	f := aisearch.ItemFilter{Status: q.Get("status"), SortBy: q.Get("sort_by"), Key: q.Get("key"), ItemID: q.Get("item_id"), Search: q.Get("search")}
	if err := f.Validate(); err != nil {
		return err
	}
	for k := range q {
		switch k {
		case "page", "per_page", "status", "sort_by", "key", "search", "item_id":
		default:
			return unsupported("query parameter %q is not supported by ragd", k)
		}
	}
	items, err := h.ais.Items(ns, id, f)
	if err != nil {
		return err
	}
	lo, hi, info := pageOf(len(items), page, perPage)
	out := make([]itemJSON, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, describeItem(ns, &items[i]))
	}
	return okPage(c, out, info)
}

func (h *handler) getItem(c echo.Context) error {
	ns := namespaceParam(c)
	it, err := h.ais.Item(ns, c.Param("index"), c.Param("item"))
	if err != nil {
		return err
	}
	return ok(c, describeItem(ns, &it))
}

func (h *handler) deleteItem(c echo.Context) error {
	it, err := h.ais.DeleteItem(c.Request().Context(), namespaceParam(c), c.Param("index"), c.Param("item"))
	if err != nil {
		return err
	}
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
	limit, offset := DefaultChunksLimit, 0
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &limit, 1, MaxChunksLimit}, {"offset", &offset, 0, 1 << 30}} {
		if v := c.QueryParam(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return invalid("%s %q: want an integer in %d..%d", p.name, v, p.min, p.max)
			}
			*p.dst = n
		}
	}
	chunks, err := h.ais.ItemChunks(c.Request().Context(), namespaceParam(c), c.Param("index"), c.Param("item"), offset, limit)
	if err != nil {
		return err
	}
	out := make([]chunkJSON, 0, len(chunks))
	for _, ch := range chunks {
		out = append(out, chunkJSON{ID: ch.ID, Text: ch.Text, StartByte: ch.Start, EndByte: ch.End,
			Item: chunkItem{Key: ch.Key, Metadata: ch.Metadata, Timestamp: ch.SeenAt.Unix()}})
	}
	return ok(c, out)
}
