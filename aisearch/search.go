package aisearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/ragd/ragd/data"
)

// Search limits.
const (
	DefaultSearchResults = 10
	MaxSearchResults     = 50
)

// Options are a search's or chat's ai_search_options.
type Options struct {
	Cache *struct {
		CacheThreshold string `json:"cache_threshold"`
		Enabled        bool   `json:"enabled"`
	} `json:"cache"`
	CustomMetadata map[string]any `json:"custom_metadata"`
	InstanceIDs    []string       `json:"instance_ids"`
	QueryRewrite   *struct {
		Enabled       bool   `json:"enabled"`
		Model         string `json:"model"`
		RewritePrompt string `json:"rewrite_prompt"`
	} `json:"query_rewrite"`
	Reranking *struct {
		Enabled        bool     `json:"enabled"`
		MatchThreshold *float64 `json:"match_threshold"`
		Model          string   `json:"model"`
	} `json:"reranking"`
	Retrieval *struct {
		BoostBy          []json.RawMessage `json:"boost_by"`
		ContextExpansion int               `json:"context_expansion"`
		Filters          json.RawMessage   `json:"filters"`
		FusionMethod     string            `json:"fusion_method"`
		KeywordMatchMode string            `json:"keyword_match_mode"`
		MatchThreshold   *float64          `json:"match_threshold"`
		MaxNumResults    *int              `json:"max_num_results"`
		RetrievalType    string            `json:"retrieval_type"`
		ReturnOnFailure  bool              `json:"return_on_failure"`
	} `json:"retrieval"`
}

// query builds the ragd query for text and the score thresholds to apply,
// starting from the target's defaults.
func (o *Options) query(text string, t searchTarget) (q data.Query, minScore *float64, err error) {
	q = data.Query{Text: text, TopK: DefaultSearchResults, Explain: true, Fusion: data.FusionRRF, Mode: t.mode}
	if t.topK > 0 {
		q.TopK = t.topK
	}
	minScore = t.minScore
	if o == nil {
		return q, minScore, nil
	}
	notSupported := func(what string) error {
		return fmt.Errorf("%w: %s is not supported by ragd", data.ErrUnsupported, what)
	}
	if len(o.CustomMetadata) > 0 {
		return q, nil, notSupported("custom_metadata")
	}
	if o.QueryRewrite != nil && o.QueryRewrite.Enabled {
		return q, nil, notSupported("query_rewrite")
	}
	if r := o.Reranking; r != nil && r.Enabled {
		q.Rerank = true
		minScore = r.MatchThreshold
	}
	if r := o.Retrieval; r != nil {
		switch {
		case len(r.BoostBy) > 0:
			return q, nil, notSupported("retrieval.boost_by")
		case r.ContextExpansion != 0:
			return q, nil, notSupported("retrieval.context_expansion")
		case r.KeywordMatchMode != "" && r.KeywordMatchMode != "or":
			return q, nil, notSupported("keyword_match_mode " + r.KeywordMatchMode + " (ragd's BM25 matches any term)")
		}
		switch r.RetrievalType {
		case "":
		case "vector":
			q.Mode = data.ModeVector
		case "keyword":
			q.Mode = data.ModeBM25
		case "hybrid":
			q.Mode = data.ModeHybrid
		default:
			return q, nil, fmt.Errorf("%w: retrieval_type %q: want vector, keyword or hybrid", data.ErrInvalid, r.RetrievalType)
		}
		switch r.FusionMethod {
		case "", "rrf":
		case "max":
			return q, nil, notSupported("fusion_method max (ragd fuses by rrf)")
		default:
			return q, nil, fmt.Errorf("%w: fusion_method %q: want rrf", data.ErrInvalid, r.FusionMethod)
		}
		if r.MaxNumResults != nil {
			if *r.MaxNumResults < 1 || *r.MaxNumResults > MaxSearchResults {
				return q, nil, fmt.Errorf("%w: max_num_results %d out of range 1..%d", data.ErrInvalid, *r.MaxNumResults, MaxSearchResults)
			}
			q.TopK = *r.MaxNumResults
		}
		if q.Filter, err = data.ParseFilterJSON(r.Filters); err != nil {
			return q, nil, err
		}
		if r.MatchThreshold != nil && !q.Rerank {
			minScore = r.MatchThreshold
		}
	}
	if minScore != nil && (math.IsNaN(*minScore) || *minScore < 0 || *minScore > 1) {
		return q, nil, fmt.Errorf("%w: match_threshold must be in [0, 1]", data.ErrInvalid)
	}
	return q, minScore, nil
}

// Result is one retrieved chunk.
type Result struct {
	// Instance is the instance id the chunk came from.
	Instance string
	data.Hit
	// Mode is the retrieval type that found it.
	Mode data.Mode
}

// InstanceError is a namespace search's failure on one instance.
type InstanceError struct {
	InstanceID string `json:"instance_id"`
	Message    string `json:"message"`
}

// searchTarget is what a search runs on: an instance's index and its
// defaults, or (in the default namespace) a plain ragd index.
type searchTarget struct {
	id, index, model string
	instance         bool
	mode             data.Mode
	topK             int
	minScore         *float64
}

func targetOf(r Instance) searchTarget {
	return searchTarget{id: r.ID, index: r.Index, model: r.Model, instance: true, mode: r.DefaultMode(), minScore: r.Settings.ScoreThreshold}
}

// target resolves an instance id. An id that names no instance in the
// default namespace falls back to the ragd index of that name, so indexes
// filled with ragd ingest are searchable as they always were.
func (s *Service) target(ns, id string) (searchTarget, error) {
	r, err := s.Instance(ns, id)
	if err != nil {
		if ns == DefaultNamespace && isNotFound(err) {
			return searchTarget{id: id, index: id}, nil
		}
		return searchTarget{}, err
	}
	t := targetOf(r)
	if r.Settings.MaxNumResults != nil {
		t.topK = *r.Settings.MaxNumResults
	}
	return t, nil
}

// prepare builds the query for text on t and the score threshold to
// apply to its hits.
func prepare(t searchTarget, text string, opts *Options) (data.Query, *float64, error) {
	q, minScore, err := opts.query(text, t)
	if err != nil {
		return q, nil, err
	}
	if t.instance && q.Mode != data.ModeBM25 && t.model == "" {
		return q, nil, invalid("instance %q has no embedding model: use retrieval_type keyword", t.id)
	}
	return q, minScore, nil
}

// results tags the hits of a query on t that score at least minScore.
func results(t searchTarget, q data.Query, hits []data.Hit, minScore *float64) []Result {
	out := make([]Result, 0, len(hits))
	for _, hit := range hits {
		if minScore == nil || hit.Score >= *minScore {
			out = append(out, Result{Instance: t.id, Hit: hit, Mode: q.Mode})
		}
	}
	return out
}

// retrieve runs the search for text on t and returns the kept hits.
func (s *Service) retrieve(ctx context.Context, t searchTarget, text string, opts *Options) ([]Result, error) {
	q, minScore, err := prepare(t, text, opts)
	if err != nil {
		return nil, err
	}
	hits, err := s.cfg.Retrieval.Search(ctx, t.index, q)
	if err != nil {
		return nil, err
	}
	return results(t, q, hits, minScore), nil
}

// Search runs text on instance id of namespace ns with the instance's
// retrieval defaults and opts. In the default namespace an id that names
// no instance searches the ragd index of that name.
func (s *Service) Search(ctx context.Context, ns, id, text string, opts *Options) ([]Result, error) {
	if opts != nil && opts.InstanceIDs != nil {
		return nil, invalid("ai_search_options.instance_ids belongs to namespace search (POST .../namespaces/{name}/search)")
	}
	t, err := s.target(ns, id)
	if err != nil {
		return nil, err
	}
	return s.retrieve(ctx, t, text, opts)
}

// namespaceTargets resolves ai_search_options.instance_ids (all of the
// namespace's instances when it is absent or empty).
func (s *Service) namespaceTargets(ns string, opts *Options) ([]searchTarget, error) {
	if _, err := s.Namespace(ns); err != nil {
		return nil, err
	}
	var ids []string
	if opts != nil {
		ids = opts.InstanceIDs
	}
	if len(ids) == 0 {
		s.ais.read(func(d *aisData) {
			for _, r := range d.Instances {
				if r.Namespace == ns {
					ids = append(ids, r.ID)
				}
			}
		})
		sort.Strings(ids)
		if len(ids) == 0 {
			return nil, invalid("namespace %q has no instances to search", ns)
		}
	}
	if len(ids) > MaxSearchResults {
		return nil, invalid("at most %d instance_ids", MaxSearchResults)
	}
	seen := map[string]bool{}
	out := make([]searchTarget, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := s.Instance(ns, id)
		if err != nil {
			return nil, err
		}
		out = append(out, targetOf(r))
	}
	return out, nil
}

// SearchNamespace runs text on every instance of namespace ns (or those
// in opts.InstanceIDs) and merges the chunks by rank: every instance's
// first chunk, then every second one, and so on, by score within a rank.
// (Scores of instances with different retrieval types are not comparable:
// BM25, cosine and RRF sums.) A request error (bad options) fails the
// whole search; an instance's own failure is reported in the errors
// unless every instance failed.
func (s *Service) SearchNamespace(ctx context.Context, ns, text string, opts *Options) ([]Result, []InstanceError, error) {
	targets, err := s.namespaceTargets(ns, opts)
	if err != nil {
		return nil, nil, err
	}
	type tagged struct {
		rank int
		res  Result
	}
	var all []tagged
	var errs []InstanceError
	var firstErr error
	topK := DefaultSearchResults
	if opts != nil && opts.Retrieval != nil && opts.Retrieval.MaxNumResults != nil {
		topK = *opts.Retrieval.MaxNumResults
	}
	for _, t := range targets {
		res, err := s.retrieve(ctx, t, text, opts)
		if err != nil {
			if errors.Is(err, data.ErrInvalid) || errors.Is(err, data.ErrUnsupported) {
				return nil, nil, fmt.Errorf("instance %q: %w", t.id, err)
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("instance %q: %w", t.id, err)
			}
			errs = append(errs, InstanceError{InstanceID: t.id, Message: err.Error()})
			continue
		}
		for i, r := range res {
			all = append(all, tagged{rank: i, res: r})
		}
	}
	if len(errs) == len(targets) {
		return nil, nil, firstErr
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].rank != all[j].rank {
			return all[i].rank < all[j].rank
		}
		return all[i].res.Score > all[j].res.Score
	})
	if len(all) > topK {
		all = all[:topK]
	}
	out := make([]Result, len(all))
	for i, a := range all {
		out[i] = a.res
	}
	return out, errs, nil
}
