package aisearch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/rag"
)

func hitsOf(prefix string, scores ...float64) []data.Hit {
	out := make([]data.Hit, len(scores))
	for i, s := range scores {
		id := fmt.Sprintf("%s#%d", prefix, i)
		out[i] = data.Hit{DocID: prefix, ChunkID: id, Score: s, Text: "passage " + id}
	}
	return out
}

func chunkIDs(res []aisearch.Result) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.ChunkID)
	}
	return out
}

// TestSearchAppliesInstanceDefaults: an instance's max_num_results,
// score_threshold and retrieval type shape the query; options override
// them; a keyword-only instance refuses vector search; an unknown id in
// the default namespace searches the plain index of that name.
func TestSearchAppliesInstanceDefaults(t *testing.T) {
	f := newFixture(t)
	thr := 0.5
	f.instance(aisearch.DefaultNamespace, "kw", aisearch.Settings{IndexMethod: &aisearch.IndexMethod{Keyword: true}, MaxNumResults: intp(3), ScoreThreshold: &thr})
	f.ret.hits = map[string][]data.Hit{"kw": hitsOf("kw", 0.9, 0.6, 0.4, 0.3), "plain": hitsOf("plain", 0.1)}
	ctx := context.Background()
	res, err := f.svc.Search(ctx, aisearch.DefaultNamespace, "kw", "bread", nil)
	if err != nil || !slices.Equal(chunkIDs(res), []string{"kw#0", "kw#1"}) || res[0].Mode != data.ModeBM25 {
		t.Fatalf("defaults: %v %v", chunkIDs(res), err)
	}
	if q := f.ret.queries["kw"][0]; q.TopK != 3 || q.Mode != data.ModeBM25 || q.Text != "bread" || !q.Explain || q.Fusion != data.FusionRRF {
		t.Fatalf("query: %+v", q)
	}
	var opts aisearch.Options
	if err := jsonInto(`{"retrieval":{"max_num_results":4,"match_threshold":0.35}}`, &opts); err != nil {
		t.Fatal(err)
	}
	if res, err = f.svc.Search(ctx, aisearch.DefaultNamespace, "kw", "bread", &opts); err != nil || len(res) != 3 {
		t.Fatalf("options override: %v %v", chunkIDs(res), err)
	}
	for _, tc := range []struct {
		opts string
		want error
	}{
		{`{"retrieval":{"retrieval_type":"vector"}}`, data.ErrInvalid},
		{`{"retrieval":{"retrieval_type":"fuzzy"}}`, data.ErrInvalid},
		{`{"retrieval":{"fusion_method":"max"}}`, data.ErrUnsupported},
		{`{"query_rewrite":{"enabled":true}}`, data.ErrUnsupported},
		{`{"retrieval":{"max_num_results":51}}`, data.ErrInvalid},
		{`{"instance_ids":["kw"]}`, data.ErrInvalid},
	} {
		var o aisearch.Options
		if err := jsonInto(tc.opts, &o); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Search(ctx, aisearch.DefaultNamespace, "kw", "bread", &o); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.opts, err, tc.want)
		}
	}
	if res, err := f.svc.Search(ctx, aisearch.DefaultNamespace, "plain", "bread", nil); err != nil || len(res) != 1 {
		t.Fatalf("plain index: %v %v", res, err)
	}
	if _, err := f.svc.Search(ctx, "nowhere", "kw", "bread", nil); !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("unknown namespace: %v", err)
	}
}

// TestSearchNamespace: results merge by rank across instances; one
// instance's failure is reported beside the others' results; a failure
// of every instance fails the search.
func TestSearchNamespace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	name := "kitchen"
	if _, err := f.svc.CreateNamespace(aisearch.NamespaceRequest{Name: &name}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		f.instance(name, id, aisearch.Settings{IndexMethod: &aisearch.IndexMethod{Keyword: true}})
	}
	f.ret.hits = map[string][]data.Hit{"kitchen.a": hitsOf("a", 9, 8), "kitchen.b": hitsOf("b", 10, 1)}
	f.ret.fail = map[string]error{"kitchen.c": fmt.Errorf("cluster down: %w", data.ErrUnavailable)}
	res, errs, err := f.svc.SearchNamespace(ctx, name, "bread", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := chunkIDs(res); !slices.Equal(got, []string{"b#0", "a#0", "a#1", "b#1"}) {
		t.Fatalf("merged: %v", got)
	}
	if res[1].Instance != "a" || len(errs) != 1 || errs[0].InstanceID != "c" || !strings.Contains(errs[0].Message, "cluster down") {
		t.Fatalf("instances and errors: %+v %+v", res[1], errs)
	}
	var only aisearch.Options
	if err := jsonInto(`{"instance_ids":["c"]}`, &only); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.SearchNamespace(ctx, name, "bread", &only); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("every instance failed: %v", err)
	}
	if err := f.svc.DeleteNamespace(name); !errors.Is(err, data.ErrExists) {
		t.Fatalf("deleting a namespace with instances: %v", err)
	}
}

// TestChat: an instance's answer comes from the retrieval service's Ask
// over the instance's index, with the request's instructions added to the
// system prompt and the instance's score threshold applied; a namespace's
// answer is generated from the merged passages of its instances.
func TestChat(t *testing.T) {
	f := newFixture(t)
	thr := 0.5
	f.instance(aisearch.DefaultNamespace, "kw", aisearch.Settings{IndexMethod: &aisearch.IndexMethod{Keyword: true}, ScoreThreshold: &thr})
	f.ret.hits = map[string][]data.Hit{"kw": hitsOf("kw", 0.9, 0.3)}
	var text strings.Builder
	var types []string
	emit := func(ev rag.Event) error {
		types = append(types, ev.Type)
		text.WriteString(ev.Delta)
		return nil
	}
	res, err := f.svc.Chat(context.Background(), aisearch.DefaultNamespace, "kw",
		aisearch.ChatRequest{Question: "how?", Instructions: []string{"Be brief."}, MaxTokens: 16}, emit)
	if err != nil || !slices.Equal(chunkIDs(res), []string{"kw#0"}) || text.String() != "answer" || types[len(types)-1] != rag.EventDone {
		t.Fatalf("chat: %v %q %v %v", chunkIDs(res), text.String(), types, err)
	}
	a := f.ret.asked[0]
	if !strings.HasPrefix(a.system, generate.DefaultSystemPrompt) || !strings.HasSuffix(a.system, "\n\nBe brief.") ||
		!strings.Contains(a.prompt, "how?") || !strings.Contains(a.prompt, "passage kw#0") || strings.Contains(a.prompt, "passage kw#1") {
		t.Fatalf("generation: %+v", a)
	}
	var o aisearch.Options
	if err := jsonInto(`{"instance_ids":["kw"]}`, &o); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Chat(context.Background(), aisearch.DefaultNamespace, "kw", aisearch.ChatRequest{Question: "q", Options: &o}, nil); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("instance_ids on an instance: %v", err)
	}
	f.instance(aisearch.DefaultNamespace, "other", aisearch.Settings{IndexMethod: &aisearch.IndexMethod{Keyword: true}})
	f.ret.hits["other"] = hitsOf("other", 0.8)
	text.Reset()
	res, err = f.svc.Chat(context.Background(), aisearch.DefaultNamespace, "", aisearch.ChatRequest{Question: "why?"}, emit)
	if err != nil || !slices.Equal(chunkIDs(res), []string{"kw#0", "other#0"}) || text.String() != "answer" {
		t.Fatalf("namespace chat: %v %q %v", chunkIDs(res), text.String(), err)
	}
	if p := f.ret.asked[1].prompt; !strings.Contains(p, "passage other#0") || !strings.Contains(p, "passage kw#0") {
		t.Fatalf("namespace chat prompt: %q", p)
	}
}
