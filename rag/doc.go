// Package rag is ragd's retrieval service: the one place that turns
// documents into stored, embedded chunks and questions into hits and cited
// answers. Every front end (the /v1 API, the OpenAI-compatible routes, the
// Cloudflare-compatible routes, AI Search, the CLI and eval) calls it.
//
// For each index the Service owns what the storage backend does not: the
// embedding model (resolved by name through a model registry), the chunk
// settings stored with the index and the embedding cache. Its three
// operations are
//
//   - Ingest: hash check (once, before any chunking or embedding) → chunk →
//     embed (through the cache) → write;
//   - Search: normalize → embed the query → retrieve (keyword, vector, or
//     the backend's own hybrid with fusion) → rerank → finish;
//   - Ask: Search → Answer: pack the passages → generate → one stream of
//     Events that each front end adapts to its wire format. Answer alone
//     serves callers that bring their own hits (AI Search's namespace
//     chat, which merges several instances' passages); no other package
//     calls the generator's answer loop.
//
// Storage backends (package index) know nothing of models; the service
// discovers their optional capabilities (an embedding cache, a cheap
// hash lookup) by interface assertion, in the manner of database/sql.
package rag
