package rag

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
)

// Event types of an Ask stream, in the order they come.
const (
	// EventRetrieval: Hits (what the search found) and Passages (what was
	// packed into the prompt, numbered as the answer cites them).
	EventRetrieval = "retrieval"
	// EventToken: Delta, a piece of the answer.
	EventToken = "token"
	// EventDone: Citations, Usage, FinishReason, Dropped and Generator.
	EventDone = "done"
	// EventError: Error, a generation failure after the stream started
	// (Ask also returns it). Failures before the retrieval event are only
	// returned.
	EventError = "error"
)

// Event is one piece of an Ask stream. Type says which fields are set.
type Event struct {
	Type         string
	Hits         []data.Hit
	Passages     []generate.Passage
	Delta        string
	Citations    []generate.Citation
	Usage        *generate.Usage
	FinishReason string
	Dropped      []generate.DroppedPassage
	Generator    generate.Info
	Error        string
	// ToolCalls, on EventDone, are the tool calls the model made
	// (AnswerOptions.Tools).
	ToolCalls []openaiwire.ToolCall
}

// AskRequest is a question over an index.
type AskRequest struct {
	// Query is the retrieval query; Query.Text is the question unless
	// Question is set. TopK 0 means 5.
	Query data.Query
	// Question is what the generator is asked, when it differs from the
	// retrieval text (a chat's last message after query rewriting).
	Question string
	// MinScore, when set, drops hits scoring below it before generation.
	MinScore *float64
	// Answer configures packing and generation.
	Answer generate.AnswerOptions
}

// AskResult is a finished answer with the hits it was grounded on.
type AskResult struct {
	Hits   []data.Hit
	Answer *generate.AnswerResult
}

// DefaultAskTopK is the passages retrieved for a question when the query
// sets no TopK.
const DefaultAskTopK = 5

// Ask answers a question from an index: Search, then Answer (pack the
// hits into the generator's context, generate, and stream the answer as
// Events to emit, which may be nil). An error from emit stops generation and is
// returned as is. A failure before the retrieval event (a bad query, a
// missing index, no generator) is returned with no event sent; a
// generation failure after it is sent as an EventError and returned.
func (s *Service) Ask(ctx context.Context, name string, req AskRequest, emit func(Event) error) (*AskResult, error) {
	if s.cfg.Generator == nil {
		return nil, fmt.Errorf("%w: %w", errNoGenerator, data.ErrUnavailable)
	}
	question := req.Question
	if strings.TrimSpace(question) == "" {
		question = req.Query.Text
	}
	if strings.TrimSpace(question) == "" {
		return nil, fmt.Errorf("%w: empty query", data.ErrInvalid)
	}
	q := req.Query
	if q.TopK == 0 {
		q.TopK = DefaultAskTopK
	}
	hits, err := s.Search(ctx, name, q)
	if err != nil {
		return nil, err
	}
	if req.MinScore != nil {
		kept := hits[:0]
		for _, h := range hits {
			if h.Score >= *req.MinScore {
				kept = append(kept, h)
			}
		}
		hits = kept
	}
	return s.Answer(ctx, question, hits, req.Answer, emit)
}

// Answer answers a question from hits the caller already has (Ask's
// after its Search; AI Search's namespace chat after merging several
// instances' passages): pack them into the generator's context, generate,
// and stream the answer as Events to emit (which may be nil), exactly as
// Ask does. An error from emit stops generation and is returned as is; a
// generation failure after the retrieval event is sent as an EventError
// and returned. The hits are answered from in the order given.
func (s *Service) Answer(ctx context.Context, question string, hits []data.Hit, opts generate.AnswerOptions, emit func(Event) error) (*AskResult, error) {
	if s.cfg.Generator == nil {
		return nil, fmt.Errorf("%w: %w", errNoGenerator, data.ErrUnavailable)
	}
	if strings.TrimSpace(question) == "" {
		return nil, fmt.Errorf("%w: empty question", data.ErrInvalid)
	}
	if hits == nil {
		hits = []data.Hit{}
	}
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	info := s.cfg.Generator.Info()
	var emitErr error
	ans, err := generate.Answer(ctx, s.cfg.Generator, question, hits, opts, func(ev generate.AnswerEvent) error {
		var out Event
		switch ev.Type {
		case generate.AnswerRetrieval:
			out = Event{Type: EventRetrieval, Hits: hits, Passages: ev.Passages}
		case generate.AnswerToken:
			out = Event{Type: EventToken, Delta: ev.Delta}
		case generate.AnswerDone:
			out = Event{Type: EventDone, Citations: ev.Citations, Usage: ev.Usage, FinishReason: ev.FinishReason,
				Dropped: ev.Dropped, Generator: info, ToolCalls: ev.ToolCalls}
		case generate.AnswerError:
			out = Event{Type: EventError, Error: ev.Error}
		default:
			return nil
		}
		if err := emit(out); err != nil {
			emitErr = err
			return err
		}
		return nil
	})
	if err != nil {
		if emitErr != nil && errors.Is(err, emitErr) {
			return nil, emitErr
		}
		return nil, err
	}
	return &AskResult{Hits: hits, Answer: ans}, nil
}
