package aisearch

import (
	"context"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
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

// Chat retrieves passages for req.Question from instance id of namespace
// ns (id "": from the namespace's instances, as SearchNamespace does) and
// answers from them with ragd's grounded-answer prompt, streaming the
// answer's events to emit. It returns the passages it answered from.
func (s *Service) Chat(ctx context.Context, ns, id string, req ChatRequest, emit func(generate.AnswerEvent) error) ([]Result, error) {
	var res []Result
	var err error
	if id == "" {
		res, _, err = s.SearchNamespace(ctx, ns, req.Question, req.Options)
	} else {
		if o := req.Options; o != nil && o.InstanceIDs != nil {
			return nil, invalid("ai_search_options.instance_ids belongs to namespace chat completions")
		}
		var t searchTarget
		if t, err = s.target(ns, id); err == nil {
			res, err = s.retrieve(ctx, t, req.Question, req.Options)
		}
	}
	if err != nil {
		return nil, err
	}
	hits := make([]data.Hit, len(res))
	for i, r := range res {
		hits[i] = r.Hit
	}
	opts := generate.AnswerOptions{MaxTokens: req.MaxTokens}
	if len(req.Instructions) > 0 {
		opts.SystemPrompt = generate.DefaultSystemPrompt + "\n\n" + strings.Join(req.Instructions, "\n\n")
	}
	if _, err := s.cfg.Retrieval.Answer(ctx, req.Question, hits, opts, emit); err != nil {
		return nil, err
	}
	return res, nil
}
