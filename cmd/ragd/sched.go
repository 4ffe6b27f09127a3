package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/rag/sched"
)

// searchScheduler builds the CPU scheduler that searches run on, from
// SearchWorkers and SearchQueue; it is nil (searches run on their own
// goroutines) when SearchWorkers is negative. close is never nil.
func searchScheduler(cfg Config, reg prometheus.Registerer) (s *sched.Scheduler, close func(), err error) {
	if cfg.SearchWorkers < 0 {
		return nil, func() {}, nil
	}
	s, err = sched.New(sched.Config{Name: "search", Workers: cfg.SearchWorkers, Queue: cfg.SearchQueue, Registry: reg})
	if err != nil {
		return nil, func() {}, err
	}
	return s, s.Close, nil
}

// asScheduler is s as the API's interface: a nil *sched.Scheduler must be
// a nil interface, not a non-nil one holding a nil pointer.
func asScheduler(s *sched.Scheduler) api.Scheduler {
	if s == nil {
		return nil
	}
	return s
}
