package rag

import (
	"context"
	"fmt"
	"sort"

	"github.com/ragd/ragd/data"
)

// rerank re-scores hits with the cross-encoder and sorts them by the new
// score (ties by chunk id), keeping the retrieval score in Explain.Fused.
func rerank(ctx context.Context, r Reranker, query string, hits []data.Hit) ([]data.Hit, error) {
	if r == nil {
		return nil, fmt.Errorf("rerank requested but no reranker model is configured: %w", data.ErrUnavailable)
	}
	if len(hits) == 0 {
		return hits, nil
	}
	passages := make([]string, len(hits))
	for i, h := range hits {
		passages[i] = h.Text
	}
	scores, err := r.Rerank(ctx, query, passages)
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	if len(scores) != len(hits) {
		return nil, fmt.Errorf("rerank: %d scores for %d passages", len(scores), len(hits))
	}
	for i := range hits {
		s := float64(scores[i])
		if hits[i].Explain == nil {
			hits[i].Explain = &data.Explain{Fused: hits[i].Score}
		}
		hits[i].Explain.Rerank = &s
		hits[i].Score = s
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ChunkID < hits[j].ChunkID
	})
	return hits, nil
}
