// Package ann is ragd's vector index: an HNSW graph (Malkov & Yashunin,
// 2016) and an exact flat scan behind one API.
//
// Index stores vectors under string ids with a namespace and metadata,
// and answers k-nearest-neighbour queries filtered by namespace and
// data.Filter. Result scores are higher-is-better: cosine similarity,
// dot product, or the negated Euclidean distance.
//
// Design:
//   - Memory is contiguous: all vectors in one []float32 slab, layer-0
//     neighbour lists in one []uint32 slab (stride 2M+1, count first),
//     upper layers in a second slab addressed by one offset per node.
//     Nodes are dense uint32 ids; one map translates string ids.
//   - Inserts use heuristic neighbour selection (Algorithm 4) with a
//     separate efConstruction; one Upsert batch is linked by Config.Workers
//     goroutines. Neighbour lists are read with atomic loads, so searches
//     never wait for inserts; writers lock a node's list with a striped
//     mutex. The index lock is write-held only while slabs grow.
//   - A re-added id gets a new node and the old one becomes a tombstone;
//     Delete makes tombstones. Tombstones still route searches but are
//     never returned; past Config.CompactRatio the graph is rebuilt from
//     the live vectors while searches keep using the old one.
//   - Filters are applied during the graph search (filtered nodes are
//     expanded but not returned). An inverted index of (field, scalar) and
//     namespace lists, plus sampling for ranges, estimates how many nodes
//     a filter keeps; selective filters and small indexes scan exactly.
//   - Config.Quantize adds an int8 code per vector (one scale per vector).
//     Graph traversal reads only the codes (a quarter of the float bytes);
//     the ef best candidates are re-scored with the float32 vectors. The
//     float slab stays in memory (Get, re-scoring, compaction need it) but
//     is only touched ef times per query; the file keeps it as a separate
//     section so it could be memory-mapped.
//   - Save writes a versioned, CRC-32C-checked file crash-safely; Load
//     reads the slabs straight into memory and reports any damage as
//     ErrCorrupt so the caller can rebuild from its store of record.
//
// Flat is the exact index with the same API, and the ground truth for
// recall. Package annbench measures both against github.com/coder/hnsw.
package ann
