package generate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/openaiwire"
)

// callGen answers with tool calls on its done event.
type callGen struct {
	fakeGen
	calls []openaiwire.ToolCall
}

func (c *callGen) Generate(ctx context.Context, req Request, emit func(Event) error) error {
	c.mu.Lock()
	c.got = req
	c.mu.Unlock()
	return emit(Event{Type: EventDone, FinishReason: "tool_calls", ToolCalls: c.calls})
}

var lookupTools = []openaiwire.Tool{{Type: "function", Function: openaiwire.FunctionDef{Name: "lookup", Parameters: json.RawMessage(`{"type":"object"}`)}}}

func TestAnswerToolCalls(t *testing.T) {
	g := &callGen{fakeGen: fakeGen{info: Info{ContextSize: 4096}},
		calls: []openaiwire.ToolCall{{ID: "c1", Type: "function", Function: openaiwire.FunctionCall{Name: "lookup", Arguments: `{"city":"Lyon [2]"}`}}}}
	var evs []AnswerEvent
	ans, err := Answer(context.Background(), g, "food?", sampleHits(), AnswerOptions{Tools: lookupTools, ToolChoice: &openaiwire.ToolChoice{Mode: "required"}}, collect(&evs))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.got.Tools) != 1 || g.got.ToolChoice == nil || g.got.ToolChoice.Mode != "required" {
		t.Fatalf("generator got tools %+v %+v", g.got.Tools, g.got.ToolChoice)
	}
	if len(ans.ToolCalls) != 1 || ans.ToolCalls[0].Function.Name != "lookup" || ans.FinishReason != "tool_calls" {
		t.Fatalf("answer %+v", ans)
	}
	if len(ans.Citations) != 1 || ans.Citations[0].DocID != "lyon" {
		t.Fatalf("citations from the arguments: %+v", ans.Citations)
	}
	last := evs[len(evs)-1]
	b, _ := json.Marshal(last)
	if last.Type != AnswerDone || len(last.ToolCalls) != 1 || !json.Valid(b) || !strings.Contains(string(b), `"tool_calls":[{"id":"c1"`) {
		t.Fatalf("done event %s", b)
	}
}

func TestAnswerToolsRefusedByPassageAnswerer(t *testing.T) {
	g := &passageGen{fakeGen: fakeGen{info: Info{Backend: "extractive", ContextSize: 4096}, deltas: []string{"x"}}}
	var evs []AnswerEvent
	_, err := Answer(context.Background(), g, "q", sampleHits(), AnswerOptions{Tools: lookupTools}, collect(&evs))
	if !errors.Is(err, ErrNoTools) || !errors.Is(err, data.ErrUnsupported) || len(evs) != 0 {
		t.Fatalf("err %v, %d events before it", err, len(evs))
	}
	// tool_choice none: tools are inactive, a text answer.
	if _, err := Answer(context.Background(), g, "q", sampleHits(), AnswerOptions{Tools: lookupTools, ToolChoice: &openaiwire.ToolChoice{Mode: "none"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Answer(context.Background(), g, "q", sampleHits(), AnswerOptions{ToolChoice: &openaiwire.ToolChoice{Mode: "required"}}, nil); !errors.Is(err, data.ErrInvalid) {
		t.Fatalf("a choice without tools: %v", err)
	}
}
