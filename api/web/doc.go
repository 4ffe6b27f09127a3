// Package web serves ragd's browser interface: one page, embedded in the
// binary, that talks to the REST API under /v1. It searches an index (BM25,
// vector or hybrid, with per-hit explanations), streams answers with
// clickable citations that open the cited chunk inside its document,
// uploads and lists documents, and renders a saved `ragd eval` report.
//
// Mount it on the API's router:
//
//	srv := api.New(cfg)
//	web.Register(srv.Echo())
//
// The page is served at "/" and its assets under "/ui/". The HTML is
// rewritten at start-up so each asset URL carries a hash of its content:
// assets requested with the current hash are cached for a year
// (immutable); the page itself and anything else revalidate every time
// (ETag, If-None-Match). Every response sets nosniff, and the page sets a
// Content-Security-Policy that allows scripts, styles and requests from the
// same origin only.
package web
