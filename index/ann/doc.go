// Package ann is ragd's vector index: an HNSW graph (Malkov & Yashunin,
// 2016) and an exact flat scan behind one API.
//
// Index stores vectors under string ids with a namespace and metadata,
// and answers k-nearest-neighbour queries filtered by namespace and
// data.Filter. Result scores are higher-is-better: cosine similarity,
// dot product, or the negated Euclidean distance.
//
// Design:
//   - Memory is contiguous: vectors in a []float32 slab and layer-0
//     neighbour lists in a []uint32 slab (stride 2M+1, count first), each
//     kept in pages of 4,096 nodes so growth never copies or over-allocates
//     much; upper layers in one more slab addressed by an offset per node.
//     Nodes are dense uint32 ids; one map translates string ids.
//     Distances use AVX2 kernels (viterin/vek for float32, our own for
//     int8); the search prefetches the next candidate's neighbour list
//     and the vectors of the next two neighbours it scores.
//   - Inserts use heuristic neighbour selection (Algorithm 4) with a
//     separate efConstruction; one Upsert batch is linked by Config.Workers
//     goroutines. Neighbour lists are read with atomic loads, so searches
//     run while nodes are linked; writers lock a node's list with a striped
//     mutex. The index lock is write-held only while a step of 1,024 items
//     is copied in (no graph work) and while a compacted graph is swapped
//     in. Writers (Upsert, Delete, Compact, Save) are serialised.
//   - Every node stays reachable on layer 0: a node merges its own
//     selection with back links added concurrently instead of overwriting
//     them, layer-0 in-degrees are counted, and each batch (and Load) ends
//     by relinking any node left without an in-link (repair.go).
//   - A re-added id gets a new node and the old one becomes a tombstone;
//     Delete makes tombstones. Tombstones still route searches but are
//     never returned; past Config.CompactRatio the graph is rebuilt from
//     the live vectors while searches keep using the old one.
//   - Filters are applied during the graph search (filtered nodes are
//     expanded but not returned). An inverted index of (field, scalar) and
//     namespace lists, and a []float64 column per numeric field for
//     ranges, give a candidate list; its size (refined by sampling when
//     other conditions apply) estimates how many nodes a filter keeps.
//     Filters keeping fewer than max(ExactBelow, 1/8) of the nodes, and
//     small indexes, are scanned exactly over the candidates only; wider
//     ones search the graph with a bitmap of the candidates checked first.
//   - Config.Quantize adds an int8 code per vector (one scale per vector).
//     Graph traversal reads only the codes (a quarter of the float bytes);
//     the ef best candidates are re-scored with the float32 vectors. The
//     file keeps the floats in a separate, aligned and checksummed
//     section that Load and Save memory-map read-only, so resident vector
//     memory is the codes; vectors written since the last save (or a
//     compaction) are held as floats in memory until the next save.
//   - Save writes a versioned, CRC-32C-checked file crash-safely; Load
//     reads the slabs straight into memory (maps the int8 index's floats)
//     and reports any damage, or an older version, as ErrCorrupt so the
//     caller can rebuild from its store of record.
//
// Flat is the exact index with the same API, and the ground truth for
// recall. Package annbench measures both against github.com/coder/hnsw.
package ann
