package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/internal/retry"
	"github.com/ragd/ragd/openaiwire"
)

// Sentinel errors. Errors also wrap the matching data error
// (data.ErrUnauthorized, data.ErrDimension, data.ErrUnavailable,
// data.ErrInvalid) so the API can map them to statuses.
var (
	// ErrUpstream: the server answered with an error status.
	ErrUpstream = errors.New("remote: upstream error")
	// ErrBadResponse: the server's answer is malformed or has the wrong
	// shape (count, indexes, dimensions).
	ErrBadResponse = errors.New("remote: bad response")
)

// Config configures an Embedder. Zero fields take the documented default.
type Config struct {
	// BaseURL is the server root, e.g. "http://gpu-box:8080"; requests go
	// to BaseURL + "/v1/embeddings" (a BaseURL ending in "/v1" is also
	// accepted). Required.
	BaseURL string
	// APIKey, when set, is sent as "Authorization: Bearer <key>".
	APIKey string
	// Model is the "model" field of each request and the Info ID. Required.
	Model string
	// Dims is the vector length; 0 discovers it from the first response.
	// Every later response must match.
	Dims int
	// MaxTokens is reported in Info (the server truncates). Default 512.
	MaxTokens int
	// Normalized is reported in Info: whether the server returns unit
	// vectors.
	Normalized bool
	// BatchSize is the number of texts per request. Default 64.
	BatchSize int
	// Concurrency is the number of requests in flight. Default 4.
	Concurrency int
	// Timeout bounds each HTTP attempt. Default 60s.
	Timeout time.Duration
	// MaxRetries is how often a failed request is retried after 429, 5xx,
	// timeouts and network errors. Default 3; negative disables retries.
	MaxRetries int
	// MinBackoff is the first retry delay, doubled on each retry and
	// jittered. Default 250ms.
	MinBackoff time.Duration
	// MaxBackoff caps the retry delay, including a server's Retry-After.
	// Default 30s.
	MaxBackoff time.Duration
	// QueryPrefix and PassagePrefix are prepended to texts of each kind
	// (BGE: "Represent this sentence for searching relevant passages: ";
	// E5: "query: " and "passage: ").
	QueryPrefix, PassagePrefix string
	// HTTPClient sends the requests. Default: a client without timeout
	// (Timeout applies per attempt).
	HTTPClient *http.Client
	// Logger receives retry warnings. Default: discard.
	Logger *slog.Logger
}

// Embedder embeds texts on a remote OpenAI-compatible server. It is safe
// for concurrent use.
type Embedder struct {
	cfg  Config
	url  string
	dims atomic.Int64
	log  *slog.Logger
}

var _ embed.Embedder = (*Embedder)(nil)

// New checks cfg and returns an Embedder. It does not contact the server.
func New(cfg Config) (*Embedder, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("remote: base URL required: %w", data.ErrInvalid)
	}
	if cfg.Model == "" {
		return nil, fmt.Errorf("remote: model required: %w", data.ErrInvalid)
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, fmt.Errorf("remote: base URL %q is not http(s): %w", cfg.BaseURL, data.ErrInvalid)
	}
	if cfg.Dims < 0 {
		return nil, fmt.Errorf("remote: dims %d: %w", cfg.Dims, data.ErrInvalid)
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 512
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	base = strings.TrimSuffix(base, "/v1")
	e := &Embedder{cfg: cfg, url: base + "/v1/embeddings", log: log}
	e.dims.Store(int64(cfg.Dims))
	return e, nil
}

// Info describes the model. Dims is 0 until known.
func (e *Embedder) Info() embed.Info {
	return embed.Info{
		ID:            e.cfg.Model,
		Dims:          int(e.dims.Load()),
		MaxTokens:     e.cfg.MaxTokens,
		Normalized:    e.cfg.Normalized,
		QueryPrefix:   e.cfg.QueryPrefix,
		PassagePrefix: e.cfg.PassagePrefix,
	}
}

// Dims returns the vector length, asking the server with a one-word
// request when neither Config.Dims nor an earlier response told it.
func (e *Embedder) Dims(ctx context.Context) (int, error) {
	if d := e.dims.Load(); d > 0 {
		return int(d), nil
	}
	if _, err := e.Embed(ctx, embed.Passage, []string{"dimension probe"}); err != nil {
		return 0, err
	}
	return int(e.dims.Load()), nil
}

// Embed returns one vector per text, in order. It sends BatchSize texts
// per request, Concurrency requests at a time, and stops at the first
// error or when ctx is done.
func (e *Embedder) Embed(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	prefix := e.cfg.PassagePrefix
	if kind == embed.Query {
		prefix = e.cfg.QueryPrefix
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Concurrency)
	for start := 0; start < len(texts); start += e.cfg.BatchSize {
		end := min(start+e.cfg.BatchSize, len(texts))
		batch := texts[start:end]
		if prefix != "" {
			p := make([]string, len(batch))
			for i, s := range batch {
				p[i] = prefix + s
			}
			batch = p
		}
		n := start / e.cfg.BatchSize
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			vecs, err := e.embedBatch(gctx, batch)
			if err != nil {
				return fmt.Errorf("remote: batch %d: %w", n, err)
			}
			copy(out[start:end], vecs)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("remote: %w", ctx.Err())
		}
		return nil, err
	}
	return out, nil
}

// embedBatch sends one batch, retrying transient failures.
func (e *Embedder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(openaiwire.EmbeddingsRequest{Model: e.cfg.Model, Input: texts})
	if err != nil {
		return nil, fmt.Errorf("%w: encode request: %w", data.ErrInvalid, err)
	}
	policy := retry.Policy{MaxRetries: e.cfg.MaxRetries, Base: e.cfg.MinBackoff, Max: e.cfg.MaxBackoff}
	onRetry := func(attempt int, wait time.Duration, err error) {
		e.log.Warn("remote embedding retry", "url", e.url, "attempt", attempt+1, "wait", wait, "err", err)
	}
	var vecs [][]float32
	err = retry.Do(ctx, policy, onRetry, func() error {
		var err error
		vecs, err = e.attempt(ctx, body, len(texts))
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	})
	var ex *retry.Exhausted
	if errors.As(err, &ex) {
		return nil, fmt.Errorf("%w: %d attempts: %w", data.ErrUnavailable, ex.Attempts, ex.Err)
	}
	if err != nil {
		return nil, err
	}
	return vecs, nil
}

// attempt sends one request. Transient failures come back wrapped by
// retry.Retryable, with the server's Retry-After when it sent one.
func (e *Embedder) attempt(ctx context.Context, body []byte, n int) ([][]float32, error) {
	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", data.ErrInvalid, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.cfg.APIKey)
	}
	resp, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, retry.Retryable(fmt.Errorf("%w: %w", ErrUpstream, err), 0)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("%w: %s: %s", ErrUpstream, resp.Status, strings.TrimSpace(string(snippet)))
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout ||
			resp.StatusCode >= 500:
			return nil, retry.Retryable(err, retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
		case resp.StatusCode == http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: %w", data.ErrUnauthorized, err)
		case resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("%w: %w", data.ErrForbidden, err)
		case resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("%w: %w", data.ErrNotFound, err)
		case resp.StatusCode == http.StatusRequestEntityTooLarge:
			return nil, fmt.Errorf("%w: %w", data.ErrTooLarge, err)
		default:
			return nil, fmt.Errorf("%w: %w", data.ErrInvalid, err)
		}
	}
	var r openaiwire.EmbeddingsResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&r); err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return nil, retry.Retryable(fmt.Errorf("%w: read body: %w", ErrUpstream, err), 0)
		}
		return nil, fmt.Errorf("%w: decode: %w", ErrBadResponse, err)
	}
	return e.assemble(r, n)
}

// assemble orders the response by index and checks its shape.
func (e *Embedder) assemble(r openaiwire.EmbeddingsResponse, n int) ([][]float32, error) {
	if len(r.Data) != n {
		return nil, fmt.Errorf("%w: %d embeddings for %d inputs", ErrBadResponse, len(r.Data), n)
	}
	out := make([][]float32, n)
	for i, d := range r.Data {
		idx := i
		if d.Index != nil {
			idx = *d.Index
		}
		if idx < 0 || idx >= n || out[idx] != nil {
			return nil, fmt.Errorf("%w: bad or repeated index %d", ErrBadResponse, idx)
		}
		if len(d.Embedding.Values) == 0 {
			return nil, fmt.Errorf("%w: empty embedding at index %d", ErrBadResponse, idx)
		}
		want := e.dims.Load()
		if want == 0 && e.dims.CompareAndSwap(0, int64(len(d.Embedding.Values))) {
			want = int64(len(d.Embedding.Values))
		} else if want == 0 {
			want = e.dims.Load()
		}
		if int64(len(d.Embedding.Values)) != want {
			return nil, fmt.Errorf("%w: %w: index %d has %d dims, want %d", ErrBadResponse, data.ErrDimension, idx, len(d.Embedding.Values), want)
		}
		out[idx] = d.Embedding.Values
	}
	return out, nil
}
