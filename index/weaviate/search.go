package weaviate

import (
	"context"
	"encoding/json"
	"math"

	"github.com/go-openapi/strfmt"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// Search runs a BM25, vector or hybrid query in Weaviate.
func (b *Backend) Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	cfg, err := b.config(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := index.NormalizeQuery(&q, cfg, false, b.cfg.MaxTopK); err != nil {
		return nil, err
	}
	vec, err := index.CheckRetrieval(cfg, q)
	if err != nil {
		return nil, err
	}
	filter := q.Filter
	if q.Namespace != "" {
		filter.Conds = append(append([]data.Cond(nil), filter.Conds...), data.Cond{Field: "namespace", Op: data.OpEq, Value: q.Namespace})
	}
	types, err := b.propTypes(ctx, chunkClass(name), false)
	if err != nil {
		return nil, err
	}
	where, none := whereFor(filter, types)
	if none {
		// A field no chunk has: refresh once (another replica may have
		// added it), then answer from the translation.
		if types, err = b.propTypes(ctx, chunkClass(name), true); err != nil {
			return nil, err
		}
		if where, none = whereFor(filter, types); none {
			return []data.Hit{}, nil
		}
	}
	s := b.c.Experimental().Search().WithCollection(chunkClass(name)).WithConsistencyLevel(b.cl).WithLimit(q.TopK).
		WithProperties("doc_id", "chunk_id", "ordinal", "text", "title", "source", "start", "end", "headings_json", "meta_json").
		WithMetadata(&graphql.Metadata{ID: true, Score: true, Distance: true})
	if where != nil {
		s = s.WithWhere(where)
	}
	gq := b.c.GraphQL()
	switch q.Mode {
	case data.ModeBM25:
		s = s.WithBM25(gq.Bm25ArgBuilder().WithQuery(q.Text).WithProperties("text", "title^2"))
	case data.ModeVector:
		s = s.WithNearVector(gq.NearVectorArgBuilder().WithVector(vec))
	default:
		h := gq.HybridArgumentBuilder().WithQuery(q.Text).WithVector(vec).WithProperties([]string{"text", "title^2"})
		if q.Fusion == data.FusionConvex {
			h = h.WithFusionType(graphql.RelativeScore).WithAlpha(float32(q.Alpha))
		} else {
			h = h.WithFusionType(graphql.Ranked).WithAlpha(0.5)
		}
		s = s.WithHybrid(h)
	}
	res, err := s.Do(ctx)
	if err != nil {
		return nil, wrap("search", err)
	}
	hits := make([]data.Hit, 0, len(res))
	for i, r := range res {
		c := chunkFromProps(r.Properties)
		p := r.Properties
		title, _ := p["title"].(string)
		source, _ := p["source"].(string)
		h := data.Hit{DocID: c.DocID, ChunkID: c.ID, Source: source, Title: title, Text: c.Text,
			Start: c.Start, End: c.End, Headings: c.Headings}
		if mj, _ := p["meta_json"].(string); mj != "" && mj != "null" {
			_ = json.Unmarshal([]byte(mj), &h.Metadata)
		}
		rs := &data.RankScore{Rank: i + 1}
		switch q.Mode {
		case data.ModeVector:
			h.Score = vectorScore(cfg.Metric, float64(r.Metadata.Distance))
			rs.Score = h.Score
			h.Explain = &data.Explain{Vector: rs, Fused: h.Score}
		case data.ModeBM25:
			h.Score = float64(r.Metadata.Score)
			rs.Score = h.Score
			h.Explain = &data.Explain{BM25: rs, Fused: h.Score}
		default:
			h.Score = float64(r.Metadata.Score)
			h.Explain = &data.Explain{Fused: h.Score}
		}
		hits = append(hits, h)
	}
	return index.FinishHits(hits, q), nil
}

// vectorScore turns a Weaviate distance into ragd's score (higher is
// closer): cosine similarity, dot product, or negative Euclidean distance.
func vectorScore(m data.Metric, d float64) float64 {
	switch m {
	case data.Dot:
		return -d
	case data.L2:
		return -math.Sqrt(max(d, 0))
	default:
		return 1 - d
	}
}

func strfmtUUID(s string) strfmt.UUID { return strfmt.UUID(s) }
