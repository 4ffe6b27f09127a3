// Package unitvec makes deterministic pseudo-random unit vectors: from a
// seed, or from text (its FNV-1a hash). `ragd bench --vectors N` embeds
// with its Embedder to measure an index tier without a model, and tests
// use the same functions for stored and query vectors (index/backendtest,
// internal/reliability, embed/embedtest).
package unitvec
