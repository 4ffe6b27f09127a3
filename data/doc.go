// Package data is ragd's shared vocabulary: documents, chunks, hits,
// queries, filters, index configuration and the sentinel errors that every
// other package wraps. It imports only the standard library, so any package
// may depend on it and it depends on none of ours.
package data
