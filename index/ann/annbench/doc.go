// Package annbench measures ragd's vector indexes: the HNSW index of
// package ann (float32 and int8 traversal), its exact flat scan, and
// github.com/coder/hnsw v0.6.1 as the outside peer, on the same data.
//
// Run builds every index, then for each efSearch measures recall@k against
// the exact scan, single- and two-goroutine queries per second, build
// throughput, memory per vector and load time. Extra rows measure recall
// after deleting 30% of the vectors and under metadata filters keeping 1%
// and 10% of them. cmd/ragd's "bench ann" subcommand maps its flags onto
// Config and prints Report as a table or as JSON.
package annbench
