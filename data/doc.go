// Package data is ragd's shared vocabulary: documents, chunks, hits,
// queries, filters, index configuration and the sentinel errors that every
// other package wraps, with the one table that maps them to HTTP statuses
// and stable codes for every front end (ClassOf, errtable.go) and the input
// limits every front end applies (limits.go). It imports only the standard
// library, so any package may depend on it and it depends on none of ours.
package data
