package aisearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

func jsonInto(s string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func strp(s string) *string { return &s }

// TestInstanceSettings: what creation and update accept and refuse, and
// what an instance reads back.
func TestInstanceSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  string
		want error
	}{
		{"bad id", `{"id":"Bad"}`, data.ErrInvalid},
		{"chunk size", `{"id":"x","chunk_size":8}`, data.ErrInvalid},
		{"overlap over half", `{"id":"x","chunk_size":64,"chunk_overlap":40}`, data.ErrInvalid},
		{"no chunking", `{"id":"x","chunk":false}`, data.ErrUnsupported},
		{"fusion max", `{"id":"x","fusion_method":"max"}`, data.ErrUnsupported},
		{"nothing indexed", `{"id":"x","index_method":{"keyword":false,"vector":false}}`, data.ErrInvalid},
		{"source", `{"id":"x","source":"r2"}`, data.ErrUnsupported},
		{"unknown model", `{"id":"x","embedding_model":"missing"}`, embed.ErrModelNotFound},
	} {
		var req aisearch.CreateInstanceRequest
		if err := jsonInto(tc.req, &req); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateInstance(ctx, aisearch.DefaultNamespace, req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	var req aisearch.CreateInstanceRequest
	if err := jsonInto(`{"id":"vec","embedding_model":"m8","chunk_size":128,"score_threshold":0.2}`, &req); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.CreateInstance(ctx, aisearch.DefaultNamespace, req)
	if err != nil || r.Model != "m8" || r.Index != "vec" || r.DefaultMode() != data.ModeHybrid {
		t.Fatalf("create: %+v %v", r, err)
	}
	if info, err := f.ix.Index(ctx, "vec"); err != nil || info.Dims != 8 || info.Model != "m8" {
		t.Fatalf("index: %+v %v", info, err)
	}
	eff := r.Effective()
	if *eff.ChunkSize != 128 || *eff.ChunkOverlap != aisearch.DefaultChunkOverlap || *eff.MaxNumResults != aisearch.DefaultSearchResults ||
		!eff.IndexMethod.Vector || !eff.IndexMethod.Keyword {
		t.Fatalf("effective: %+v", eff)
	}
	if _, err := f.svc.CreateInstance(ctx, aisearch.DefaultNamespace, req); !errors.Is(err, data.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	var upd aisearch.UpdateInstanceRequest
	if err := jsonInto(`{"max_num_results":5}`, &upd); err != nil {
		t.Fatal(err)
	}
	r, err = f.svc.UpdateInstance(aisearch.DefaultNamespace, "vec", upd)
	if err != nil || *r.Settings.MaxNumResults != 5 || *r.Settings.ChunkSize != 128 || *r.Settings.ScoreThreshold != 0.2 {
		t.Fatalf("update merges: %+v %v", r.Settings, err)
	}
	for _, body := range []string{`{"embedding_model":"other"}`, `{"index_method":{"keyword":true,"vector":false}}`} {
		var u aisearch.UpdateInstanceRequest
		if err := jsonInto(body, &u); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateInstance(aisearch.DefaultNamespace, "vec", u); !errors.Is(err, data.ErrUnsupported) {
			t.Errorf("update %s: %v", body, err)
		}
	}
	if _, err := f.svc.UpdateInstance(aisearch.DefaultNamespace, "vec", aisearch.UpdateInstanceRequest{ID: strp("other")}); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("renaming: %v", err)
	}
	name := "team"
	if _, err := f.svc.CreateNamespace(aisearch.NamespaceRequest{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if r, err := f.svc.CreateInstance(ctx, name, aisearch.CreateInstanceRequest{ID: "vec"}); err != nil || r.Index != "team.vec" || r.Model != "" {
		t.Fatalf("instance in a namespace: %+v %v", r, err)
	}
	if _, err := f.svc.DeleteInstance(ctx, aisearch.DefaultNamespace, "vec"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ix.Index(ctx, "vec"); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("index after delete: %v", err)
	}
	list, err := f.svc.Instances(name, "", false)
	if err != nil || len(list) != 1 || list[0].ID != "vec" {
		t.Fatalf("list: %+v %v", list, err)
	}
}
