// Package aisearch is ragd's AI Search: the product Cloudflare calls AI
// Search (formerly AutoRAG), built on ragd's retrieval service.
//
//   - Namespaces group instances; "default" always exists.
//   - An instance is one ragd index ("<id>" in the default namespace,
//     "<namespace>.<id>" elsewhere) with its chunking, embedding model and
//     retrieval defaults (Settings). Settings ragd cannot honour are
//     refused; the others read back as written, with Effective filling in
//     what ragd decided.
//   - Items are files uploaded to an instance. Service.Upload keeps the
//     bytes (in Config.Dir, or memory) and records the item as queued; one
//     background worker per Service loads the file with ingest's loaders
//     and hands its documents to the retrieval service, which chunks,
//     embeds and writes them. An upload of a key that exists replaces the
//     item's documents. Close cancels the running item and leaves it
//     queued; the next Service of the same replica indexes it.
//   - Search runs a query on one instance (or, in the default namespace,
//     on a plain ragd index of that name), SearchNamespace on several and
//     merges their results by rank; Chat answers a question from what
//     they retrieve as one event stream.
//
// The bookkeeping (namespaces, instances, items) is one JSON document of
// a state.Store: files of this process, or the Weaviate cluster shared by
// every replica (package aisearch/state).
//
// The package declares what it needs from the rest of ragd: Indexes (an
// instance's index and its documents), Models (a new instance's
// dimensions) and Retrieval (ingest, search and answer). It speaks no
// wire format: package api/cloudflare serves it under /client/v4 in
// Cloudflare's shapes.
package aisearch
