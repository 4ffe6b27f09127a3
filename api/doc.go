// Package api is ragd's REST API on echo v4: index and document management,
// search, retrieval-augmented answers streamed over SSE, and
// OpenAI-compatible chat completions (plain, or with ragd's "index"
// extension grounded in an index through the retrieval service's Ask),
// embeddings and model listing, with
// health checks, Prometheus metrics and JSON errors
// ({"error":{"code","message"}}) mapped from the shared sentinel errors by
// data's one error table (ErrorClass; StatusFor). ErrorHandler is the
// writer of that body; api/cloudflare renders the same classes in
// Cloudflare's envelope on /client/v4.
package api
