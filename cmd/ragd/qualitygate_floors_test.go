//go:build qualitygate

package main

// Floors for the Cranfield quality gate, from the values measured on
// 2026-11-27 (docs/benchmarks.md). BM25 is deterministic, so its floors sit
// just under the measurement; hybrid depends on an HNSW graph built by two
// goroutines, whose order of inserts varies, so it has more room.
const (
	qgBM25NDCG   = 0.374 // measured 0.3747
	qgBM25MAP    = 0.309 // measured 0.3092
	qgHybridNDCG = 0.300 // measured 0.3105
	qgHybridMAP  = 0.235 // measured 0.2449
)
