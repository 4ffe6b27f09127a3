package generate

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ragd/ragd/data"
)

// fakeGen streams fixed deltas and records the request it got.
type fakeGen struct {
	info    Info
	deltas  []string
	finish  string
	usage   *Usage
	err     error // returned after streaming the deltas
	mu      sync.Mutex
	got     Request
	emitErr error // what emit returned, if anything
}

func (f *fakeGen) Info() Info { return f.info }

func (f *fakeGen) Generate(ctx context.Context, req Request, emit func(Event) error) error {
	f.mu.Lock()
	f.got = req
	f.mu.Unlock()
	for _, d := range f.deltas {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(Event{Type: EventToken, Delta: d}); err != nil {
			f.emitErr = err
			return err
		}
	}
	if f.err != nil {
		return f.err
	}
	return emit(Event{Type: EventDone, FinishReason: f.finish, Usage: f.usage})
}

// countingGen adds the TokenCounter capability.
type countingGen struct {
	*fakeGen
	wordCounter
}

// passageGen has the PassageAnswerer capability.
type passageGen struct {
	fakeGen
	question string
	passages []Passage
}

func (p *passageGen) AnswerPassages(ctx context.Context, q string, ps []Passage, req Request, emit func(Event) error) error {
	p.question, p.passages = q, ps
	return p.Generate(ctx, req, emit)
}

func sampleHits() []data.Hit {
	return []data.Hit{
		{DocID: "paris", ChunkID: "paris#0", Source: "paris.md", Title: "Paris", Text: "Paris is the capital of France.", Start: 0, End: 30},
		{DocID: "lyon", ChunkID: "lyon#2", Source: "lyon.md", Text: "Lyon is known for its cuisine.", Start: 100, End: 130},
		{DocID: "nice", ChunkID: "nice#1", Source: "nice.md", Text: "Nice lies on the Riviera.", Start: 7, End: 32},
	}
}

func collect(evs *[]AnswerEvent) func(AnswerEvent) error {
	return func(e AnswerEvent) error { *evs = append(*evs, e); return nil }
}

func TestAnswerEventsAndCitations(t *testing.T) {
	g := &fakeGen{
		info:   Info{ID: "fake", Backend: "fake", ContextSize: 2048},
		deltas: []string{"Paris is", " the capital [1].", " Lyon has food [2][9]", "."},
		finish: "stop", usage: &Usage{PromptTokens: 99, CompletionTokens: 4},
	}
	var evs []AnswerEvent
	ans, err := Answer(context.Background(), g, "  What is the capital of France? ", sampleHits(), AnswerOptions{MaxTokens: 64, Temperature: 0.2}, collect(&evs))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	want := []string{"retrieval", "token", "token", "token", "token", "done"}
	if !reflect.DeepEqual(types, want) {
		t.Fatalf("event order %v, want %v", types, want)
	}
	if n := len(evs[0].Passages); n != 3 || evs[0].Passages[0].N != 1 || evs[0].Passages[2].DocID != "nice" {
		t.Errorf("retrieval event passages = %+v", evs[0].Passages)
	}
	if ans.Text != "Paris is the capital [1]. Lyon has food [2][9]." {
		t.Errorf("text = %q", ans.Text)
	}
	wantCites := []Citation{
		{N: 1, DocID: "paris", ChunkID: "paris#0", Source: "paris.md", Title: "Paris", Start: 0, End: 30},
		{N: 2, DocID: "lyon", ChunkID: "lyon#2", Source: "lyon.md", Start: 100, End: 130},
	}
	if !reflect.DeepEqual(ans.Citations, wantCites) {
		t.Errorf("citations = %+v", ans.Citations)
	}
	done := evs[len(evs)-1]
	if !reflect.DeepEqual(done.Citations, wantCites) || done.FinishReason != "stop" || *done.Usage != (Usage{99, 4}) {
		t.Errorf("done event = %+v", done)
	}
	if ans.Generator.ID != "fake" || ans.Usage != (Usage{99, 4}) {
		t.Errorf("answer = %+v", ans)
	}
	// The request carries the default system prompt, the passages and the options.
	req := g.got
	if len(req.Messages) != 2 || req.Messages[0].Content != DefaultSystemPrompt || req.Prompt != "" {
		t.Fatalf("request messages = %+v", req.Messages)
	}
	if !strings.Contains(req.Messages[1].Content, "[3] (nice.md) Nice lies on the Riviera.") ||
		!strings.HasSuffix(req.Messages[1].Content, "Question: What is the capital of France?") {
		t.Errorf("user message = %q", req.Messages[1].Content)
	}
	if req.MaxTokens != 64 || req.Temperature != 0.2 {
		t.Errorf("request options = %+v", req)
	}
}

func TestAnswerDropsWhatDoesNotFit(t *testing.T) {
	hits := sampleHits()
	hits[1].Text = strings.Repeat("filler words here ", 200)
	g := &countingGen{fakeGen: &fakeGen{info: Info{ContextSize: 100000}, deltas: []string{"ok"}}}
	var evs []AnswerEvent
	ans, err := Answer(context.Background(), g, "capital?", hits, AnswerOptions{ContextBudget: 300, MaxTokens: 50, SystemPrompt: "Be brief."}, collect(&evs))
	if err != nil {
		t.Fatal(err)
	}
	if g.calls == 0 {
		t.Error("the generator's TokenCounter was not used")
	}
	if len(ans.Dropped) != 1 || ans.Dropped[0].DocID != "lyon" || ans.Dropped[0].Rank != 1 {
		t.Fatalf("dropped = %+v", ans.Dropped)
	}
	if got := evs[len(evs)-1].Dropped; !reflect.DeepEqual(got, ans.Dropped) {
		t.Errorf("done event dropped = %+v", got)
	}
	if len(ans.Passages) != 2 || ans.Passages[1].DocID != "nice" || ans.Passages[1].N != 2 {
		t.Errorf("kept = %+v", ans.Passages)
	}
	if g.got.Messages[0].Content != "Be brief." {
		t.Errorf("system prompt = %q", g.got.Messages[0].Content)
	}
	// No usage from the generator: estimated.
	if ans.Usage.PromptTokens == 0 || ans.Usage.CompletionTokens == 0 {
		t.Errorf("usage not estimated: %+v", ans.Usage)
	}
}

func TestAnswerWithTemplateSendsPrompt(t *testing.T) {
	g := &fakeGen{info: Info{ContextSize: 4096}, deltas: []string{"x"}}
	tmpl, _ := LookupTemplate("llama2")
	if _, err := Answer(context.Background(), g, "q?", sampleHits(), AnswerOptions{Template: tmpl, Stop: []string{"END"}}, nil); err != nil {
		t.Fatal(err)
	}
	if g.got.Messages != nil || !strings.HasPrefix(g.got.Prompt, "[INST] <<SYS>>\n"+DefaultSystemPrompt) || !strings.HasSuffix(g.got.Prompt, "Question: q? [/INST]") {
		t.Errorf("prompt = %q", g.got.Prompt)
	}
	if !reflect.DeepEqual(g.got.Stop, []string{"END", "</s>", "[INST]"}) {
		t.Errorf("stop = %v", g.got.Stop)
	}
	if g.got.MaxTokens != DefaultMaxTokens {
		t.Errorf("max tokens = %d, want default %d", g.got.MaxTokens, DefaultMaxTokens)
	}
}

func TestAnswerUsesPassageAnswerer(t *testing.T) {
	g := &passageGen{fakeGen: fakeGen{info: Info{ContextSize: 4096}, deltas: []string{"Nice [3]"}}}
	ans, err := Answer(context.Background(), g, "Where is Nice?", sampleHits(), AnswerOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.question != "Where is Nice?" || len(g.passages) != 3 || g.passages[2].N != 3 {
		t.Errorf("AnswerPassages got %q %+v", g.question, g.passages)
	}
	if len(ans.Citations) != 1 || ans.Citations[0].ChunkID != "nice#1" {
		t.Errorf("citations = %+v", ans.Citations)
	}
}

func TestAnswerErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("generator fails", func(t *testing.T) {
		g := &fakeGen{info: Info{Backend: "fake", ContextSize: 4096}, deltas: []string{"partial"}, err: boom}
		var evs []AnswerEvent
		_, err := Answer(context.Background(), g, "q", sampleHits(), AnswerOptions{}, collect(&evs))
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		last := evs[len(evs)-1]
		if last.Type != AnswerError || !strings.Contains(last.Error, "boom") {
			t.Errorf("last event = %+v", last)
		}
	})
	t.Run("emit stops generation", func(t *testing.T) {
		stop := errors.New("client went away")
		g := &fakeGen{info: Info{ContextSize: 4096}, deltas: []string{"a", "b", "c"}}
		n := 0
		_, err := Answer(context.Background(), g, "q", sampleHits(), AnswerOptions{}, func(e AnswerEvent) error {
			if e.Type == AnswerToken {
				n++
				return stop
			}
			if e.Type == AnswerError {
				t.Error("error event sent for the caller's own error")
			}
			return nil
		})
		if err != stop || n != 1 || !errors.Is(g.emitErr, stop) {
			t.Errorf("err = %v, tokens = %d, generator saw %v", err, n, g.emitErr)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		g := &fakeGen{info: Info{ContextSize: 4096}, deltas: []string{"a"}}
		if _, err := Answer(ctx, g, "q", sampleHits(), AnswerOptions{}, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
	bad := []struct {
		name string
		g    Generator
		q    string
		opts AnswerOptions
		want error
	}{
		{"nil generator", nil, "q", AnswerOptions{}, ErrUnavailable},
		{"empty question", &fakeGen{}, "  ", AnswerOptions{}, data.ErrInvalid},
		{"negative max", &fakeGen{}, "q", AnswerOptions{MaxTokens: -1}, data.ErrInvalid},
		{"budget too small", &fakeGen{}, "q", AnswerOptions{ContextBudget: 50}, ErrContextFull},
	}
	for _, tt := range bad {
		if _, err := Answer(context.Background(), tt.g, tt.q, nil, tt.opts, nil); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestAnswerEventJSON(t *testing.T) {
	tests := []struct {
		ev   AnswerEvent
		want string
	}{
		{AnswerEvent{Type: AnswerRetrieval}, `{"type":"retrieval","passages":[]}`},
		{AnswerEvent{Type: AnswerRetrieval, Passages: []Passage{{N: 1, DocID: "d", Text: "t"}}},
			`{"type":"retrieval","passages":[{"n":1,"rank":0,"doc_id":"d","text":"t","start":0,"end":0}]}`},
		{AnswerEvent{Type: AnswerToken, Delta: "hi", Usage: &Usage{1, 2}}, `{"type":"token","delta":"hi"}`},
		{AnswerEvent{Type: AnswerDone, FinishReason: "stop", Usage: &Usage{3, 4}},
			`{"type":"done","citations":[],"usage":{"prompt_tokens":3,"completion_tokens":4},"finish_reason":"stop","dropped":[]}`},
		{AnswerEvent{Type: AnswerDone, Citations: []Citation{{N: 2, DocID: "d", ChunkID: "d#0"}}, Dropped: []DroppedPassage{{Rank: 3, Tokens: 9, Reason: "context budget"}}},
			`{"type":"done","citations":[{"n":2,"doc_id":"d","chunk_id":"d#0","start":0,"end":0}],"usage":{"prompt_tokens":0,"completion_tokens":0},"finish_reason":"","dropped":[{"rank":3,"tokens":9,"reason":"context budget"}]}`},
		{AnswerEvent{Type: AnswerError, Error: "boom"}, `{"type":"error","error":"boom"}`},
		{AnswerEvent{Type: "custom", Delta: "x"}, `{"type":"custom","delta":"x"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.ev.Type, b, tt.want)
		}
	}
}

func TestAnswerDefaultMaxTokensFitsSmallContexts(t *testing.T) {
	tests := []struct {
		ctx, want int
	}{
		{4096, DefaultMaxTokens},
		{1024, 256},
	}
	for _, tt := range tests {
		g := &fakeGen{info: Info{ContextSize: tt.ctx}, deltas: []string{"x"}}
		if _, err := Answer(context.Background(), g, "q", sampleHits(), AnswerOptions{SystemPrompt: "s"}, nil); err != nil {
			t.Fatalf("context %d: %v", tt.ctx, err)
		}
		if g.got.MaxTokens != tt.want {
			t.Errorf("context %d: max tokens %d, want %d", tt.ctx, g.got.MaxTokens, tt.want)
		}
	}
}
