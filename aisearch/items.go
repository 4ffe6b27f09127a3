package aisearch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"path"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
)

// Upload is one file uploaded to an instance.
type Upload struct {
	// Key names the item (the file name); an upload of a key the
	// instance holds replaces that item's content.
	Key string
	// ContentType is the part's Content-Type (picks the loader when the
	// key has no known extension).
	ContentType string
	Body        []byte
	// Metadata is added to every document of the item (see ParseMetadata).
	Metadata map[string]any
	// Wait indexes the item before Upload returns, on the caller's
	// context; otherwise the background worker does.
	Wait bool
}

// ParseMetadata parses an item's metadata: a JSON object of strings,
// numbers and booleans (empty: none).
func ParseMetadata(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("metadata: %w: invalid JSON: %w", data.ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("metadata: %w: trailing data after the JSON body", data.ErrInvalid)
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

// CheckKey validates an item key.
func CheckKey(key string) error {
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
func itemFormat(u Upload) (string, error) {
	byExt := map[string]string{".txt": ingest.FormatText, ".text": ingest.FormatText, ".md": ingest.FormatMarkdown,
		".markdown": ingest.FormatMarkdown, ".html": ingest.FormatHTML, ".htm": ingest.FormatHTML, ".xhtml": ingest.FormatHTML,
		".pdf": ingest.FormatPDF, ".jsonl": ingest.FormatJSONL, ".ndjson": ingest.FormatJSONL}
	byType := map[string]string{"text/plain": ingest.FormatText, "text/markdown": ingest.FormatMarkdown, "text/html": ingest.FormatHTML,
		"application/pdf": ingest.FormatPDF, "application/x-ndjson": ingest.FormatJSONL, "application/jsonl": ingest.FormatJSONL}
	// Content that is neither text nor a PDF ("%PDF-") is a 400, whatever
	// the name or type says, and nothing is stored.
	if _, err := ingest.DetectFormat("", u.Body[:min(len(u.Body), 4096)]); errors.Is(err, ingest.ErrBinary) {
		return "", fmt.Errorf("file %q: %w (ragd reads txt, md, html, pdf and jsonl)", u.Key, err)
	}
	if fm, ok := byExt[strings.ToLower(path.Ext(u.Key))]; ok {
		return fm, nil
	}
	mt, _, _ := mime.ParseMediaType(u.ContentType)
	if fm, ok := byType[mt]; ok {
		return fm, nil
	}
	fm, err := ingest.DetectFormat("", u.Body[:min(len(u.Body), 4096)])
	if err != nil {
		return "", fmt.Errorf("file %q: %w (ragd reads txt, md, html, pdf and jsonl)", u.Key, err)
	}
	return fm, nil
}

// Upload stores a file as an item of instance id in namespace ns and
// queues it for indexing (or indexes it first, with u.Wait). It returns
// the item as it stands.
func (s *Service) Upload(ctx context.Context, ns, id string, u Upload) (Item, error) {
	inst, err := s.Instance(ns, id)
	if err != nil {
		return Item{}, err
	}
	if err := CheckKey(u.Key); err != nil {
		return Item{}, err
	}
	if len(bytes.TrimSpace(u.Body)) == 0 {
		return Item{}, invalid("file %q is empty", u.Key)
	}
	if int64(len(u.Body)) > s.cfg.MaxItemBytes {
		return Item{}, fmt.Errorf("%w: file over %d bytes", data.ErrTooLarge, s.cfg.MaxItemBytes)
	}
	format, err := itemFormat(u)
	if err != nil {
		return Item{}, err
	}
	sum := sha256.Sum256(u.Body)
	now := time.Now().UTC()
	// The write lock orders uploads of one key; the bytes go to disk
	// before the state names them.
	l := s.WriteLock(inst.Index)
	l.Lock()
	itemID := newID()
	s.ais.read(func(d *aisData) {
		if r, ok := d.Instances[instKey(ns, id)]; ok {
			for _, p := range r.Items {
				if p.Key == u.Key {
					itemID = p.ID
				}
			}
		}
	})
	var gen int
	err = s.ais.putBlob(itemID, u.Body)
	if err == nil {
		err = s.ais.update(func(d *aisData) error {
			r, ok := d.Instances[instKey(ns, id)]
			if !ok {
				return fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
			}
			it, ok := r.Items[itemID]
			if !ok {
				it = &Item{ID: itemID, Key: u.Key, CreatedAt: now}
			}
			it.Checksum, it.FileSize, it.Format, it.Metadata = hex.EncodeToString(sum[:]), int64(len(u.Body)), format, u.Metadata
			it.Status, it.Error, it.Chunks, it.LastSeenAt = ItemQueued, "", nil, now
			it.Owner = s.ais.owner
			it.Generation++
			if r.Items == nil {
				r.Items = map[string]*Item{}
			}
			r.Items[it.ID] = it
			r.LastActivity = now
			gen = it.Generation
			return nil
		})
		if err != nil {
			s.ais.dropBlob(itemID)
		}
	}
	l.Unlock()
	if err != nil {
		return Item{}, err
	}
	j := itemJob{ns: ns, inst: id, item: itemID, gen: gen}
	if u.Wait {
		s.processItem(ctx, j)
	}
	it, err := s.Item(ns, id, itemID)
	if err != nil {
		return Item{}, err
	}
	if it.Status == ItemQueued && it.Generation == gen {
		s.worker.push(j)
	}
	return it, nil
}

// Item returns a copy of one item.
func (s *Service) Item(ns, id, itemID string) (Item, error) {
	var out Item
	var err error
	s.ais.read(func(d *aisData) {
		var r *Instance
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

// ItemFilter selects and orders the items Items lists.
type ItemFilter struct {
	// Status, Key and ItemID match exactly when set; Search is a
	// substring of the key.
	Status, Key, ItemID, Search string
	// SortBy is "" (by key), "status" or "modified_at" (newest first);
	// ties go by key.
	SortBy string
}

// Validate checks the status and the sort order.
func (f ItemFilter) Validate() error {
	switch f.Status {
	case "", ItemQueued, ItemRunning, ItemCompleted, ItemError, "skipped", "outdated":
	default:
		return invalid("status %q: want queued, running, completed, error, skipped or outdated", f.Status)
	}
	if f.SortBy != "" && f.SortBy != "status" && f.SortBy != "modified_at" {
		return invalid("sort_by %q: want status or modified_at", f.SortBy)
	}
	return nil
}

// Items lists an instance's items.
func (s *Service) Items(ns, id string, f ItemFilter) ([]Item, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var items []Item
	var err error
	s.ais.read(func(d *aisData) {
		var r *Instance
		if r, err = findInstance(d, ns, id); err != nil {
			return
		}
		for _, p := range r.Items {
			if (f.Status == "" || p.Status == f.Status) && (f.Key == "" || p.Key == f.Key) &&
				(f.ItemID == "" || p.ID == f.ItemID) && strings.Contains(p.Key, f.Search) {
				items = append(items, *p)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		switch {
		case f.SortBy == "status" && a.Status != b.Status:
			return a.Status < b.Status
		case f.SortBy == "modified_at" && !a.LastSeenAt.Equal(b.LastSeenAt):
			return a.LastSeenAt.After(b.LastSeenAt)
		}
		return a.Key < b.Key
	})
	return items, nil
}

// DeleteItem removes an item's documents from the index, the item and its
// upload, and returns the item as it was.
func (s *Service) DeleteItem(ctx context.Context, ns, id, itemID string) (Item, error) {
	inst, err := s.Instance(ns, id)
	if err != nil {
		return Item{}, err
	}
	l := s.WriteLock(inst.Index)
	l.Lock()
	defer l.Unlock()
	it, err := s.Item(ns, id, itemID)
	if err != nil {
		return Item{}, err
	}
	if len(it.DocIDs) > 0 {
		if _, _, err := s.cfg.Indexes.DeleteDocuments(ctx, inst.Index, it.DocIDs); err != nil {
			return Item{}, err
		}
	}
	if err := s.ais.update(func(d *aisData) error {
		if r, ok := d.Instances[instKey(ns, id)]; ok {
			delete(r.Items, itemID)
			r.LastActivity = time.Now().UTC()
		}
		return nil
	}); err != nil {
		return Item{}, err
	}
	s.ais.dropBlob(itemID)
	return it, nil
}

// ItemChunk is one chunk of an item's documents.
type ItemChunk struct {
	ID         string
	Text       string
	Start, End int // byte offsets in the document's text
	Key        string
	Metadata   map[string]any // the document's
	SeenAt     time.Time      // the item's last upload
}

// ItemChunks returns up to limit chunks of an item's documents after
// skipping offset, in document and chunk order.
func (s *Service) ItemChunks(ctx context.Context, ns, id, itemID string, offset, limit int) ([]ItemChunk, error) {
	inst, err := s.Instance(ns, id)
	if err != nil {
		return nil, err
	}
	it, err := s.Item(ns, id, itemID)
	if err != nil {
		return nil, err
	}
	out := []ItemChunk{}
	skipped := 0
	for _, docID := range it.DocIDs {
		doc, err := s.cfg.Indexes.Document(ctx, inst.Index, docID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, ch := range doc.Chunks {
			if skipped < offset {
				skipped++
				continue
			}
			if len(out) == limit {
				return out, nil
			}
			out = append(out, ItemChunk{ID: ch.ID, Text: ch.Text, Start: ch.Start, End: ch.End,
				Key: it.Key, Metadata: doc.Metadata, SeenAt: it.LastSeenAt})
		}
	}
	return out, nil
}
