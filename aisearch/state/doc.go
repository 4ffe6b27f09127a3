// Package state keeps the bookkeeping that ragd's indexes do not: small,
// named JSON documents such as the Vectorize creation times, metadata
// indexes and last mutation ids of the Cloudflare-compatible API, and the
// AI Search namespaces, instances and items of package aisearch.
//
// A Store holds the documents with versioned writes: FileStore keeps them
// in files of one process (or in memory); the Weaviate backend
// (index/weaviate, build tag weaviate) keeps them in the cluster, shared by
// every replica. Doc wraps one document with a decoded copy that it
// reloads when another replica changed it and saves with a retried,
// versioned write. Package statetest is the conformance suite for stores.
package state
