package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/api/rcache"
	"github.com/ragd/ragd/data"
)

// HeaderCache reports how the result cache treated a request: "hit",
// "miss" or "bypass" (the request asked for Cache-Control: no-cache or
// no-store, or its options could not be keyed). It is absent when the
// server has no result cache.
const HeaderCache = "X-Ragd-Cache"

// cacheReq is one request's dealings with Config.ResultCache.
type cacheReq struct {
	c       *rcache.Cache
	route   string // metric label: search | ask
	index   string
	key     string
	version uint64
	store   bool // store a fresh result
}

// cacheDirectives reads the request's Cache-Control: no-cache skips the
// lookup but stores the fresh result; no-store skips both.
func cacheDirectives(r *http.Request) (lookup, store bool) {
	lookup, store = true, true
	for _, v := range r.Header.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(d)) {
			case "no-store":
				lookup, store = false, false
			case "no-cache":
				lookup = false
			}
		}
	}
	return lookup, store
}

// cacheLookup looks a request up in the result cache. It returns the
// cached body on a hit; on a miss (or bypass) it returns a cacheReq whose
// put stores the fresh result, or nil when nothing is to be stored.
//
// The key holds the index's version, read here, before the search runs:
// every write to the index bumps it (and a re-created index starts from a
// fresh version), so entries made before a write are never served after
// it.
// keyQuery is a query as it enters a cache key: the vector by digest.
type keyQuery struct {
	Query  data.Query `json:"query"`
	Vector string     `json:"vector,omitempty"`
}

func cacheKeyQuery(q data.Query) keyQuery {
	d := rcache.VectorDigest(q.Vector)
	q.Vector = nil
	return keyQuery{Query: q, Vector: d}
}

func (s *Server) cacheLookup(c echo.Context, route, index string, opts any) ([]byte, *cacheReq) {
	rc := s.cfg.ResultCache
	if rc == nil {
		return nil, nil
	}
	h := c.Response().Header()
	lookup, store := cacheDirectives(c.Request())
	version := s.cfg.Engine.Version(c.Request().Context(), index)
	if version == 0 { // no such index: let the handler report it
		return nil, nil
	}
	key, err := rcache.Key(route, index, version, opts)
	if err != nil {
		h.Set(HeaderCache, "bypass")
		return nil, nil
	}
	if !lookup {
		h.Set(HeaderCache, "bypass")
	} else if body, ok := rc.Get(key); ok {
		h.Set(HeaderCache, "hit")
		s.m.cacheHits.WithLabelValues(route).Inc()
		return body, nil
	} else {
		h.Set(HeaderCache, "miss")
		s.m.cacheMisses.WithLabelValues(route).Inc()
	}
	if !store {
		return nil, nil
	}
	return nil, &cacheReq{c: rc, route: route, index: index, key: key, version: version, store: true}
}

// put stores body unless the index changed while the result was being
// made (a write that landed mid-search may or may not be in it).
func (cr *cacheReq) put(ctx context.Context, s *Server, body []byte) {
	if cr == nil || !cr.store {
		return
	}
	if s.cfg.Engine.Version(ctx, cr.index) != cr.version {
		return
	}
	cr.c.Put(cr.key, body)
}
