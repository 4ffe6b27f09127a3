package sched_test

import (
	"context"
	"testing"

	"github.com/ragd/ragd/rag/sched"
)

// BenchmarkDoUncontended is the scheduler's cost on a job that finds a
// free slot (the 1-client case): go test -bench Do ./rag/sched/
func BenchmarkDoUncontended(b *testing.B) {
	s, err := sched.New(sched.Config{Workers: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	for b.Loop() {
		if err := s.Do(ctx, 1, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDoContended runs more clients than workers: each job waits and
// is handed its slot by the one before.
func BenchmarkDoContended(b *testing.B) {
	s, err := sched.New(sched.Config{Workers: 2, Queue: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fn := func(context.Context) error { return nil }
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := s.Do(ctx, 1, fn); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
