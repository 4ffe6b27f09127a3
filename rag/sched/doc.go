// Package sched runs CPU-bound work (searches, fusion, reranking, model
// calls) on a bounded set of worker slots, sized to the cores, fed by one
// FIFO queue.
//
// Why: on a machine with two cores, eight goroutines that each run a
// half-millisecond search share the cores by Go's preemptive time slices
// (about 10 ms), so a search that is preempted waits behind every other
// one and the 99th percentile grows tens of times while throughput stays
// the same. With at most Workers searches running and the rest waiting
// in arrival order, each search runs to completion once started and
// waits only for those that came before it.
//
// Do(ctx, weight, fn) waits for weight free slots (at most Workers) and
// then runs fn on the caller's goroutine, so a panic reaches the caller's
// recover and a profile shows the request's stack. The queue is strictly
// FIFO: a wide job at the head holds back the narrow ones behind it until
// it fits, so wide jobs are never starved. Past Queue waiting jobs Do fails
// at once with an *OverloadedError (errors.Is data.ErrOverloaded) whose
// RetryAfter is the time the queue ahead should take to drain. A job whose
// context ends while it waits is dropped without running.
//
// Metrics (registered on Config.Registry, labelled pool=Config.Name):
// ragd_sched_wait_seconds and ragd_sched_service_seconds (histograms),
// ragd_sched_queue_depth and ragd_sched_busy_workers (gauges),
// ragd_sched_rejected_total and ragd_sched_cancelled_total (counters).
package sched
