package cloudflare

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
)

// MaxNamespaceDescription bounds a namespace's description (characters).
const MaxNamespaceDescription = 256

// namespaceJSON is the SDK's NamespaceReadResponse.
type namespaceJSON struct {
	CreatedAt            *string         `json:"created_at"`
	Name                 string          `json:"name"`
	Description          *string         `json:"description"`
	PublicEndpointID     *string         `json:"public_endpoint_id"`
	PublicEndpointParams json.RawMessage `json:"public_endpoint_params"`
}

func describeNamespace(r namespaceRecord) namespaceJSON {
	out := namespaceJSON{CreatedAt: isoTime(r.CreatedAt), Name: r.Name, Description: r.Description, PublicEndpointParams: r.PublicEndpointParams}
	if len(out.PublicEndpointParams) == 0 {
		out.PublicEndpointParams = json.RawMessage("null")
	}
	return out
}

type namespaceRequest struct {
	Name                 *string         `json:"name"`
	Description          *string         `json:"description"`
	PublicEndpointParams json.RawMessage `json:"public_endpoint_params"`
}

func (r namespaceRequest) validate() error {
	if d := r.Description; d != nil && (utf8.RuneCountInString(*d) > MaxNamespaceDescription || !utf8.ValidString(*d)) {
		return invalid("description must be valid UTF-8 of at most %d characters", MaxNamespaceDescription)
	}
	if p := r.PublicEndpointParams; len(p) > 0 && string(p) != "null" {
		var v map[string]any
		if err := json.Unmarshal(p, &v); err != nil {
			return invalid("public_endpoint_params must be an object")
		}
		if on, _ := v["enabled"].(bool); on {
			return unsupported("public endpoints are not served by ragd (public_endpoint_params.enabled)")
		}
	}
	return nil
}

func (h *handler) createNamespace(c echo.Context) error {
	var req namespaceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	if req.Name == nil || !namespaceNameRE.MatchString(*req.Name) {
		name := ""
		if req.Name != nil {
			name = *req.Name
		}
		return h.fail(c, invalid("name %q: use 1-28 lowercase letters, digits, '-' and '_', starting with a letter or digit", name))
	}
	if err := req.validate(); err != nil {
		return h.fail(c, err)
	}
	rec := namespaceRecord{Name: *req.Name, Description: req.Description, PublicEndpointParams: req.PublicEndpointParams, CreatedAt: time.Now().UTC()}
	err := h.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[rec.Name]; ok {
			return fmt.Errorf("namespace %q: %w", rec.Name, data.ErrExists)
		}
		cp := rec
		d.Namespaces[rec.Name] = &cp
		return nil
	})
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, describeNamespace(rec))
}

func (h *handler) listNamespaces(c echo.Context) error {
	page, perPage, err := paging(c)
	if err != nil {
		return h.fail(c, err)
	}
	search := c.QueryParam("search")
	var recs []namespaceRecord
	h.ais.read(func(d *aisData) {
		for _, r := range d.Namespaces {
			if strings.Contains(r.Name, search) {
				recs = append(recs, *r)
			}
		}
	})
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	lo, hi, info := pageOf(len(recs), page, perPage)
	out := make([]namespaceJSON, 0, hi-lo)
	for _, r := range recs[lo:hi] {
		out = append(out, describeNamespace(r))
	}
	return okPage(c, out, info)
}

func (h *handler) namespace(name string) (namespaceRecord, error) {
	var out namespaceRecord
	var err error
	h.ais.read(func(d *aisData) {
		r, ok := d.Namespaces[name]
		if !ok {
			err = fmt.Errorf("namespace %q: %w", name, data.ErrNotFound)
			return
		}
		out = *r
	})
	return out, err
}

func (h *handler) getNamespace(c echo.Context) error {
	r, err := h.namespace(c.Param("namespace"))
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, describeNamespace(r))
}

func (h *handler) updateNamespace(c echo.Context) error {
	name := c.Param("namespace")
	var req namespaceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	if req.Name != nil && *req.Name != name {
		return h.fail(c, invalid("name %q differs from the namespace in the path (%q); namespaces cannot be renamed", *req.Name, name))
	}
	if err := req.validate(); err != nil {
		return h.fail(c, err)
	}
	var out namespaceRecord
	err := h.ais.update(func(d *aisData) error {
		r, ok := d.Namespaces[name]
		if !ok {
			return fmt.Errorf("namespace %q: %w", name, data.ErrNotFound)
		}
		if req.Description != nil {
			r.Description = req.Description
		}
		if req.PublicEndpointParams != nil {
			r.PublicEndpointParams = req.PublicEndpointParams
		}
		out = *r
		return nil
	})
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, describeNamespace(out))
}

// deleteNamespace removes an empty namespace; the default one stays.
func (h *handler) deleteNamespace(c echo.Context) error {
	name := c.Param("namespace")
	if name == defaultNamespace {
		return h.fail(c, invalid("the default namespace cannot be deleted"))
	}
	err := h.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[name]; !ok {
			return fmt.Errorf("namespace %q: %w", name, data.ErrNotFound)
		}
		var ids []string
		for _, r := range d.Instances {
			if r.Namespace == name {
				ids = append(ids, r.ID)
			}
		}
		if len(ids) > 0 {
			sort.Strings(ids)
			return fmt.Errorf("namespace %q still holds instances %s; delete them first: %w", name, strings.Join(ids, ", "), data.ErrExists)
		}
		delete(d.Namespaces, name)
		return nil
	})
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, nil)
}

// namespaceTargets resolves ai_search_options.instance_ids (all of the
// namespace's instances when it is absent or empty).
func (h *handler) namespaceTargets(ns string, opts *aiSearchOptions) ([]searchTarget, error) {
	if _, err := h.namespace(ns); err != nil {
		return nil, err
	}
	var ids []string
	if opts != nil {
		ids = opts.InstanceIDs
	}
	if len(ids) == 0 {
		h.ais.read(func(d *aisData) {
			for _, r := range d.Instances {
				if r.Namespace == ns {
					ids = append(ids, r.ID)
				}
			}
		})
		sort.Strings(ids)
		if len(ids) == 0 {
			return nil, invalid("namespace %q has no instances to search", ns)
		}
	}
	if len(ids) > MaxSearchResults {
		return nil, invalid("at most %d instance_ids", MaxSearchResults)
	}
	seen := map[string]bool{}
	out := make([]searchTarget, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := h.instance(ns, id)
		if err != nil {
			return nil, err
		}
		t := searchTarget{id: id, index: r.Index, model: r.Model, instance: true, mode: r.defaultMode(), minScore: r.Settings.ScoreThreshold}
		out = append(out, t)
	}
	return out, nil
}

// searchNamespace runs text on every target and merges the chunks by
// rank: every instance's first chunk, then every second one, and so on,
// by score within a rank. (Scores of instances with different retrieval
// types are not comparable: BM25, cosine and RRF sums.) A request error (bad options) fails the whole search; an
// instance's own failure is reported in errors unless every instance
// failed.
func (h *handler) searchNamespace(c echo.Context, ns, text string, opts *aiSearchOptions) ([]data.Hit, []searchChunk, []instanceError, error) {
	targets, err := h.namespaceTargets(ns, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	type tagged struct {
		rank  int
		hit   data.Hit
		chunk searchChunk
	}
	var all []tagged
	var errs []instanceError
	var firstErr error
	topK := DefaultSearchResults
	if opts != nil && opts.Retrieval != nil && opts.Retrieval.MaxNumResults != nil {
		topK = *opts.Retrieval.MaxNumResults
	}
	for _, t := range targets {
		hits, q, err := h.retrieve(c.Request().Context(), t, text, opts)
		if err != nil {
			if errors.Is(err, data.ErrInvalid) || errors.Is(err, data.ErrUnsupported) {
				return nil, nil, nil, fmt.Errorf("instance %q: %w", t.id, err)
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("instance %q: %w", t.id, err)
			}
			errs = append(errs, instanceError{InstanceID: t.id, Message: err.Error()})
			continue
		}
		for i, ch := range chunksOf(hits, q) {
			ch.InstanceID = t.id
			all = append(all, tagged{rank: i, hit: hits[i], chunk: ch})
		}
	}
	if len(errs) == len(targets) {
		return nil, nil, nil, firstErr
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].rank != all[j].rank {
			return all[i].rank < all[j].rank
		}
		return all[i].hit.Score > all[j].hit.Score
	})
	if len(all) > topK {
		all = all[:topK]
	}
	hits := make([]data.Hit, len(all))
	chunks := make([]searchChunk, len(all))
	for i, a := range all {
		hits[i], chunks[i] = a.hit, a.chunk
	}
	return hits, chunks, errs, nil
}

func (h *handler) namespaceSearch(c echo.Context) error {
	var req aiSearchRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	text, err := req.searchText()
	if err != nil {
		return h.fail(c, err)
	}
	_, chunks, errs, err := h.searchNamespace(c, c.Param("namespace"), text, req.AISearchOptions)
	if err != nil {
		return h.fail(c, err)
	}
	return ok(c, searchResult{Chunks: chunks, QueryKind: "text", SearchQuery: text, Errors: errs})
}

func (h *handler) namespaceChat(c echo.Context) error {
	var req aiChatRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return h.fail(c, err)
	}
	return h.chat(c, req, func(question string) ([]data.Hit, []searchChunk, error) {
		hits, chunks, _, err := h.searchNamespace(c, c.Param("namespace"), question, req.AISearchOptions)
		return hits, chunks, err
	})
}
