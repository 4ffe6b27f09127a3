package data

// Mode selects the retrieval path.
type Mode string

// Retrieval modes.
const (
	ModeBM25   Mode = "bm25"
	ModeVector Mode = "vector"
	ModeHybrid Mode = "hybrid"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeBM25 || m == ModeVector || m == ModeHybrid }

// Fusion selects how hybrid retrieval merges the keyword and vector lists.
type Fusion string

// Fusion methods.
const (
	// FusionRRF is reciprocal-rank fusion: sum of 1/(k + rank).
	FusionRRF Fusion = "rrf"
	// FusionConvex is alpha*vector + (1-alpha)*bm25 over min-max normalised scores.
	FusionConvex Fusion = "convex"
)

// Query is one retrieval request.
type Query struct {
	Text   string    `json:"query"`
	Vector []float32 `json:"vector,omitempty"`
	TopK   int       `json:"top_k"`
	Mode   Mode      `json:"mode"`
	Filter Filter    `json:"filter,omitzero"`
	// Namespace restricts the search to one namespace ("" = all).
	Namespace string `json:"namespace,omitempty"`
	// Fusion, Alpha and RRFK tune hybrid mode (defaults: rrf, 60). Alpha is
	// the vector weight of convex fusion, used as given (0 = BM25 only);
	// front ends default it to 0.5 when the caller leaves it out.
	Fusion Fusion  `json:"fusion,omitempty"`
	Alpha  float64 `json:"alpha,omitempty"`
	RRFK   int     `json:"rrf_k,omitempty"`
	// Explain asks each hit to carry its per-retriever scores and ranks.
	Explain bool `json:"explain,omitempty"`
	// Rerank asks for the optional cross-encoder stage (when configured).
	Rerank bool `json:"rerank,omitempty"`
	// Ef overrides the HNSW search breadth (0 = index default).
	Ef int `json:"ef,omitempty"`
	// Model, when set, must equal the embedding model the index was built
	// with; a query embedded by another model is refused (ErrModelMismatch).
	Model string `json:"model,omitempty"`
}

// Hit is one retrieved chunk.
type Hit struct {
	DocID    string         `json:"doc_id"`
	ChunkID  string         `json:"chunk_id"`
	Score    float64        `json:"score"`
	Source   string         `json:"source"`
	Title    string         `json:"title"`
	Text     string         `json:"text"`
	Start    int            `json:"start"`
	End      int            `json:"end"`
	Headings []string       `json:"headings,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Explain  *Explain       `json:"explain,omitempty"`
}

// Explain says how a hit's score was made.
type Explain struct {
	BM25   *RankScore `json:"bm25,omitempty"`
	Vector *RankScore `json:"vector,omitempty"`
	Fused  float64    `json:"fused"`
	Rerank *float64   `json:"rerank,omitempty"`
}

// RankScore is one retriever's score and 1-based rank for a hit.
type RankScore struct {
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
}

// Metric is a vector similarity measure.
type Metric string

// Metrics.
const (
	Cosine Metric = "cosine"
	Dot    Metric = "dot"
	L2     Metric = "euclidean"
)

// ParseMetric accepts cosine, dot/dot-product, l2/euclidean.
func ParseMetric(s string) (Metric, bool) {
	switch s {
	case "cosine", "":
		return Cosine, true
	case "dot", "dot-product", "dotproduct", "ip":
		return Dot, true
	case "l2", "euclidean":
		return L2, true
	}
	return "", false
}

// IndexConfig describes a named index; dims, metric and model are fixed at creation.
type IndexConfig struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Model is the embedding model id ("" = keyword only until vectors are written).
	Model string `json:"model,omitempty"`
	// Dims is the vector length (0 = no vectors yet; fixed by the first write).
	Dims   int    `json:"dims,omitempty"`
	Metric Metric `json:"metric,omitempty"`
	// ChunkSize and ChunkOverlap are in tokens.
	ChunkSize    int `json:"chunk_size,omitempty"`
	ChunkOverlap int `json:"chunk_overlap,omitempty"`
}

// IndexStats are live counts for an index.
type IndexStats struct {
	Documents int    `json:"documents"`
	Chunks    int    `json:"chunks"`
	Vectors   int    `json:"vectors"`
	SizeBytes int64  `json:"size_bytes"`
	Version   uint64 `json:"version"`
}
