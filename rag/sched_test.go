package rag_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/rag"
)

// slotScheduler runs each job inline and says whether one is running.
type slotScheduler struct{ inside atomic.Bool }

func (s *slotScheduler) Do(ctx context.Context, _ int, fn func(context.Context) error) error {
	s.inside.Store(true)
	defer s.inside.Store(false)
	return fn(ctx)
}

// The query embedding runs before the search takes a scheduler slot (the
// embedder's batcher coalesces concurrent queries; inside a slot it would
// see at most Workers of them), and retrieval runs inside one.
func TestQueryEmbeddingRunsOutsideTheSlot(t *testing.T) {
	sch := &slotScheduler{}
	svc, emb, _ := newService(t, rag.Config{Scheduler: sch})
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, "kb", clone(corpus), rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	var queries, inSlot atomic.Int32
	emb.mu.Lock()
	emb.onQuery = func() {
		queries.Add(1)
		if sch.inside.Load() {
			inSlot.Add(1)
		}
	}
	emb.mu.Unlock()
	ctx, tm := rag.WithTiming(ctx)
	hits, err := svc.Search(ctx, "kb", data.Query{Text: "sourdough bread", Mode: data.ModeHybrid, TopK: 2})
	if err != nil || len(hits) == 0 || hits[0].DocID != "bread" {
		t.Fatalf("hits %+v, err %v", hits, err)
	}
	if queries.Load() != 1 || inSlot.Load() != 0 {
		t.Fatalf("%d query embeddings, %d of them inside a scheduler slot; want 1 and 0", queries.Load(), inSlot.Load())
	}
	if tm.Service <= 0 {
		t.Fatalf("timing not recorded: %+v", *tm)
	}
}
