// Package cloudflare serves a Cloudflare-compatible slice of the REST API
// (base path /client/v4) on top of ragd's engine, so that code written for
// Cloudflare Vectorize and Workers AI — the official SDKs or plain HTTP —
// can point at a ragd server instead:
//
//   - Vectorize v2 under /accounts/:account_id/vectorize/v2/indexes: index
//     create, list, get, delete and info; NDJSON insert and upsert; query
//     with metadata filters and namespaces; get_by_ids, delete_by_ids,
//     cursor-paged list of vector ids; metadata indexes.
//   - Workers AI POST /accounts/:account_id/ai/run/<model>: text embeddings
//     through a catalog that maps Cloudflare model names (@cf/baai/...) to
//     installed ragd models, and text generation (prompt or messages,
//     optionally streamed as server-sent events) through the configured
//     generate.Generator.
//   - AI Search under /accounts/:account_id/ai-search, served by package
//     aisearch: namespaces (a "default" one always exists), instances
//     (each one ragd index with its chunking, embedding model and
//     retrieval defaults), items (files uploaded as multipart/form-data,
//     indexed in the request or by aisearch's background worker, which
//     Service.Close stops), item chunks, instance stats, and search and
//     chat completions at instance and namespace level: search returns
//     chunks with scoring details, chat answers the last user message from
//     them with ragd's grounded-answer prompt.
//
// This package is the wire adapter: it decodes requests, calls the
// engine, the generator or aisearch, and encodes the results.
//
// Every response, success or failure, is Cloudflare's envelope
// {"result", "success", "errors": [{"code", "message"}], "messages"}.
// A Vectorize index is a ragd index; a vector is a ragd document with one
// chunk that carries the vector. The account id in the path is accepted and
// ignored: ragd has one tenant.
//
// Register mounts the routes on an existing echo router; cmd/ragd calls it
// on the main server and closes the returned Service before the engine.
// See docs/cloudflare.md for the limits and the
// differences from Cloudflare.
package cloudflare
