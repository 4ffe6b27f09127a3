// Package auth is ragd's API-key authentication: a key store and an echo
// middleware.
//
// Keys are random 32-byte secrets, shown once as "ragd_" + base64url
// (43 characters). The Store keeps only their SHA-256 hashes, with a public
// ID (the first 8 characters after "ragd_"), a name, a scope (read ⊆ write ⊆
// admin), an optional per-key rate limit and a revoked flag, in a JSON file
// (keys.json in the data directory, mode 0600, replaced atomically). A
// running server rereads the file when it changes, so keys created or
// revoked by `ragd keys` in another process take effect within a second.
//
// Middleware enforces the keys: while the store has no active keys it
// serves loopback clients only (or everyone with Config.Open); once a key
// exists every non-public route needs "Authorization: Bearer <key>" or
// "X-API-Key: <key>" with a sufficient scope, within the key's rate limit.
// Refusals are returned as errors, which the route's error writer renders
// (ragd's {"error":{"code","message"}} on /v1, Cloudflare's envelope on
// /client/v4): 401 unauthorized, 403 forbidden, 429 rate_limited with
// Retry-After. Secrets are never logged;
// the authenticated key's ID is put in the echo context under ContextKey.
package auth
