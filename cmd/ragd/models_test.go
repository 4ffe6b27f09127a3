package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/embed/batch"
	"github.com/ragd/ragd/embed/use"
)

// A loaded use-lite reports its load time and resident memory (its
// weights: about 28 MB) on /v1/models and as Prometheus gauges.
func TestServeReportsModelLoadAndMemory(t *testing.T) {
	nodeDir := useLiteNodeDir(t)
	pool := newModelPool(Config{NodeDir: nodeDir, DataDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(api.New(api.Config{Models: poolAdapter{pool}, DefaultModel: use.ModelID}).Handler())
	defer srv.Close()
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s %v", path, resp.StatusCode, b, err)
		}
		return b
	}
	type entry struct {
		ID          string  `json:"id"`
		Loaded      bool    `json:"loaded"`
		SizeBytes   int64   `json:"size_bytes"`
		LoadMS      float64 `json:"load_ms"`
		MemoryBytes *int64  `json:"memory_bytes"`
		Estimated   bool    `json:"memory_estimated"`
	}
	find := func() entry {
		t.Helper()
		var ml struct{ Data []entry }
		if err := json.Unmarshal(get("/v1/models"), &ml); err != nil {
			t.Fatal(err)
		}
		for _, m := range ml.Data {
			if m.ID == use.ModelID {
				return m
			}
		}
		t.Fatalf("no %s in /v1/models: %+v", use.ModelID, ml.Data)
		return entry{}
	}

	// Before loading: listed, no load time, no memory.
	if m := find(); m.Loaded || m.MemoryBytes != nil || m.SizeBytes <= 0 {
		t.Fatalf("before loading: %+v", m)
	}
	if _, err := pool.Embedder(context.Background(), use.ModelID); err != nil {
		t.Fatal(err)
	}
	m := find()
	if !m.Loaded || m.LoadMS <= 0 || m.MemoryBytes == nil || m.Estimated {
		t.Fatalf("after loading: %+v", m)
	}
	// The weights alone are ~28 MB of float32s; the files on disk (JSON
	// vocabulary, graph) are of the same order.
	if *m.MemoryBytes < 20<<20 || *m.MemoryBytes > 64<<20 {
		t.Fatalf("use-lite memory_bytes = %d, want the ~28 MB of its weights", *m.MemoryBytes)
	}

	metrics := string(get("/metrics"))
	for name, want := range map[string]float64{
		"ragd_model_memory_bytes":     float64(*m.MemoryBytes),
		"ragd_model_load_seconds":     m.LoadMS / 1000,
		"ragd_model_memory_estimated": 0,
	} {
		re := regexp.MustCompile(`(?m)^` + name + `\{model="use-lite"\} (\S+)$`)
		sm := re.FindStringSubmatch(metrics)
		if sm == nil {
			t.Errorf("metrics lack %s for use-lite", name)
			continue
		}
		got, err := strconv.ParseFloat(sm[1], 64)
		if err != nil || got != want {
			t.Errorf("%s = %s, want %g", name, sm[1], want)
		}
	}
}

// The batch_* settings reach the batcher in front of each loaded model;
// zero values mean the package defaults.
func TestPoolBatchSettings(t *testing.T) {
	nodeDir := useLiteNodeDir(t)
	for _, tc := range []struct {
		cfg  Config
		want batch.Config
	}{
		{Config{}, batch.Config{MaxBatch: batch.DefaultMaxBatch, MaxWait: batch.DefaultMaxWait, MaxLinger: batch.DefaultMaxLinger}},
		{Config{BatchMax: 32, BatchWait: 5 * time.Millisecond, BatchLinger: -1}, batch.Config{MaxBatch: 32, MaxWait: 5 * time.Millisecond}},
		{Config{NoBatching: true}, batch.Config{Disabled: true, MaxBatch: batch.DefaultMaxBatch, MaxWait: batch.DefaultMaxWait, MaxLinger: batch.DefaultMaxLinger}},
	} {
		tc.cfg.NodeDir, tc.cfg.DataDir = nodeDir, t.TempDir()
		pool := newModelPool(tc.cfg, slog.New(slog.DiscardHandler))
		emb, err := pool.Embedder(context.Background(), use.ModelID)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := emb.(*batch.Batcher)
		if !ok {
			t.Fatalf("model is a %T, not behind a batcher", emb)
		}
		got := b.Config()
		if got.MaxBatch != tc.want.MaxBatch || got.MaxWait != tc.want.MaxWait || got.MaxLinger != tc.want.MaxLinger || got.Disabled != tc.want.Disabled {
			t.Errorf("config %+v: batcher %+v, want %+v", tc.cfg, got, tc.want)
		}
		b.Close()
	}
}
