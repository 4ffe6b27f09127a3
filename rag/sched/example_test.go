package sched_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/rag/sched"
)

func Example() {
	s, err := sched.New(sched.Config{Name: "search", Workers: 2, Queue: 64})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	var hits int
	err = s.Do(context.Background(), 1, func(ctx context.Context) error {
		hits = 10 // a search would run here, on one of the two slots
		return nil
	})
	switch {
	case errors.Is(err, data.ErrOverloaded):
		fmt.Println("busy; retry later")
	case err != nil:
		fmt.Println("failed:", err)
	default:
		fmt.Println(hits, "hits")
	}
	// Output: 10 hits
}
