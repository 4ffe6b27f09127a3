package aisearch

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/rag"
)

// ChatRequest asks a question of an instance or a namespace.
type ChatRequest struct {
	// Question is what to answer (the last user message).
	Question string
	// Instructions are added to ragd's grounded-answer prompt (the
	// system and developer messages).
	Instructions []string
	// Options tune retrieval as they do for Search.
	Options *Options
	// MaxTokens bounds the answer (0: the generator's default).
	MaxTokens int
}

func (r ChatRequest) answerOptions() generate.AnswerOptions {
	opts := generate.AnswerOptions{MaxTokens: r.MaxTokens}
	if len(r.Instructions) > 0 {
		opts.SystemPrompt = generate.DefaultSystemPrompt + "\n\n" + strings.Join(r.Instructions, "\n\n")
	}
	return opts
}

// Chat answers req.Question from instance id of namespace ns (id "": from
// the namespace's instances, as SearchNamespace retrieves) with ragd's
// grounded-answer prompt, streaming the retrieval service's answer events
// to emit. It returns the passages it answered from.
func (s *Service) Chat(ctx context.Context, ns, id string, req ChatRequest, emit func(rag.Event) error) ([]Result, error) {
	if id == "" {
		return s.chatNamespace(ctx, ns, req, emit)
	}
	if o := req.Options; o != nil && o.InstanceIDs != nil {
		return nil, invalid("ai_search_options.instance_ids belongs to namespace chat completions")
	}
	t, err := s.target(ns, id)
	if err != nil {
		return nil, err
	}
	q, minScore, err := prepare(t, req.Question, req.Options)
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.Retrieval.Ask(ctx, t.index, rag.AskRequest{Query: q, MinScore: minScore, Answer: req.answerOptions()}, emit)
	if err != nil {
		return nil, err
	}
	return results(t, q, res.Hits, nil), nil
}

// chatNamespace answers from the passages SearchNamespace merges from
// several instances, through the retrieval service's Answer (Ask's own
// second half), so the answer stream is Ask's.
func (s *Service) chatNamespace(ctx context.Context, ns string, req ChatRequest, emit func(rag.Event) error) ([]Result, error) {
	if s.cfg.Retrieval.Generator() == nil {
		return nil, fmt.Errorf("no text generator configured: %w", data.ErrUnavailable)
	}
	res, _, err := s.SearchNamespace(ctx, ns, req.Question, req.Options)
	if err != nil {
		return nil, err
	}
	hits := make([]data.Hit, len(res))
	for i, r := range res {
		hits[i] = r.Hit
	}
	if _, err := s.cfg.Retrieval.Answer(ctx, req.Question, hits, req.answerOptions(), emit); err != nil {
		return nil, err
	}
	return res, nil
}
