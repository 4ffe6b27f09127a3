package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// bench search takes lists of modes and client counts, runs each on one
// index with and without the scheduler (--unscheduled), and splits each
// latency into the wait for a worker and the search itself.
func TestBenchSearchReportsWaitAndService(t *testing.T) {
	cliEnv(t)
	out := ragdOK(t, "bench", "search", "--n", "300", "--vectors", "16", "--mode", "vector,bm25", "--clients", "1,3",
		"--unscheduled", "--search-workers", "1", "--queries", "60", "--json")
	type report struct {
		Mode      string   `json:"mode"`
		Clients   int      `json:"clients"`
		Queries   int      `json:"queries"`
		Scheduler string   `json:"scheduler"`
		P50       *float64 `json:"p50_ms"`
		P99       *float64 `json:"p99_ms"`
		QPS       *float64 `json:"qps"`
		Wait50    *float64 `json:"wait_p50_ms"`
		Wait99    *float64 `json:"wait_p99_ms"`
		Svc50     *float64 `json:"service_p50_ms"`
		Svc99     *float64 `json:"service_p99_ms"`
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r report
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if r.P50 == nil || r.P99 == nil || r.QPS == nil || r.Wait50 == nil || r.Wait99 == nil || r.Svc50 == nil || r.Svc99 == nil {
			t.Fatalf("report lacks a latency field: %s", sc.Text())
		}
		// Each query's latency covers its wait and its search, so every
		// percentile of latency is at least that of the service time.
		if *r.Svc50 <= 0 || *r.P50 < *r.Svc50 || *r.P99 < *r.Svc99 || *r.Wait99 > *r.P99 {
			t.Fatalf("inconsistent split: %s", sc.Text())
		}
		if r.Scheduler == "none" && (*r.Wait50 != 0 || *r.Wait99 != 0) {
			t.Fatalf("unscheduled run reports a wait: %s", sc.Text())
		}
		if r.Queries != 60 {
			t.Fatalf("%d queries, want 60", r.Queries)
		}
		got = append(got, r.Mode+"/"+string(rune('0'+r.Clients))+"/"+r.Scheduler)
	}
	want := "vector/1/none,vector/1/fifo 1 workers, queue 128,vector/3/none,vector/3/fifo 1 workers, queue 128," +
		"bm25/1/none,bm25/1/fifo 1 workers, queue 128,bm25/3/none,bm25/3/fifo 1 workers, queue 128"
	if strings.Join(got, ",") != want {
		t.Fatalf("runs %v\nwant %s", got, want)
	}
}

func TestBenchSearchBadLists(t *testing.T) {
	cliEnv(t)
	for _, clients := range []string{"0", "2,", "x", "-1"} {
		code, _, errOut := ragd(t, "", "bench", "search", "--n", "10", "--clients", clients)
		if code != 2 || !strings.Contains(errOut, "--clients") {
			t.Fatalf("--clients %q: exit %d, stderr %q", clients, code, errOut)
		}
	}
}
