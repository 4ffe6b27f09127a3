package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/internal/retry"
	"github.com/ragd/ragd/openaiwire"
)

// Defaults for Config.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultIdleTimeout  = 30 * time.Second
	DefaultMaxRetries   = 2
	DefaultRetryBackoff = 500 * time.Millisecond
	DefaultMaxRetryWait = 30 * time.Second
	DefaultContextSize  = 4096
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL is the server root, with or without a trailing "/v1":
	// "http://localhost:11434" (Ollama), "http://localhost:8000" (vLLM),
	// "https://api.openai.com/v1". Required.
	BaseURL string
	// APIKey, when set, is sent as "Authorization: Bearer <key>".
	APIKey string
	// Model is the model name sent with each request (some servers, such as
	// llama.cpp server, ignore it).
	Model string
	// Timeout bounds the wait for the response headers (default 60s).
	Timeout time.Duration
	// IdleTimeout bounds the silence between stream chunks (default 30s).
	IdleTimeout time.Duration
	// MaxRetries is how often a request is retried before its first token
	// (default 2; negative: never).
	MaxRetries int
	// RetryBackoff is the first retry's base wait, doubled on each retry and
	// jittered (default 500ms).
	RetryBackoff time.Duration
	// MaxRetryWait caps one wait, Retry-After included (default 30s).
	MaxRetryWait time.Duration
	// ContextSize is the model's context length reported in Info, which
	// sizes context packing (default 4096).
	ContextSize int
	// Headers are added to every request (e.g. an organisation header).
	Headers map[string]string
	// DisableStreamUsage leaves out stream_options.include_usage, for
	// servers that reject it.
	DisableStreamUsage bool
	// HTTPClient sends the requests (default: a client without an overall
	// timeout, which would cut long streams).
	HTTPClient *http.Client
	// Logger receives retry warnings (default: discard).
	Logger *slog.Logger
}

// Client is a generate.Generator for an OpenAI-compatible server. It is
// safe for concurrent use.
type Client struct {
	cfg     Config
	chatURL string
	compURL string
	http    *http.Client
	log     *slog.Logger
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: %w: base URL %q must be an http(s) URL", data.ErrInvalid, cfg.BaseURL)
	}
	base := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.ContextSize <= 0 {
		cfg.ContextSize = DefaultContextSize
	}
	c := &Client{cfg: cfg, chatURL: base + "/chat/completions", compURL: base + "/completions", http: cfg.HTTPClient, log: cfg.Logger}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Info describes the client's model.
func (c *Client) Info() generate.Info {
	id := c.cfg.Model
	if id == "" {
		id = "openai"
	}
	return generate.Info{ID: id, Backend: "openai", ContextSize: c.cfg.ContextSize}
}

// Generate streams a completion. Messages go to the chat endpoint, a raw
// Prompt to the completions endpoint. Errors wrap generate.ErrUpstream
// (and data.ErrUnauthorized, data.ErrInvalid, generate.ErrOverloaded,
// generate.ErrUnavailable or generate.ErrContextFull where they apply); a
// cancelled ctx returns ctx.Err(); an error from emit is returned as is.
func (c *Client) Generate(ctx context.Context, req generate.Request, emit func(generate.Event) error) error {
	if len(req.Messages) == 0 && req.Prompt == "" {
		return fmt.Errorf("openai: %w: request has neither messages nor prompt", data.ErrInvalid)
	}
	if req.MaxTokens < 0 {
		return fmt.Errorf("openai: %w: max tokens %d", data.ErrInvalid, req.MaxTokens)
	}
	if len(req.Tools) > 0 && len(req.Messages) == 0 {
		return fmt.Errorf("openai: %w: tools need messages (the chat endpoint)", data.ErrUnsupported)
	}
	endpoint, body, err := c.encode(req)
	if err != nil {
		return fmt.Errorf("openai: encode request: %w", err)
	}
	st := &stream{emit: emit}
	policy := retry.Policy{MaxRetries: c.cfg.MaxRetries, Base: c.cfg.RetryBackoff, Max: c.cfg.MaxRetryWait}
	onRetry := func(attempt int, wait time.Duration, err error) {
		c.log.Warn("openai: retrying", "url", endpoint, "attempt", attempt+1, "wait", wait, "err", err)
	}
	err = retry.Do(ctx, policy, onRetry, func() error {
		err := c.attempt(ctx, endpoint, body, st)
		if err == nil {
			return nil
		}
		var ee emitError
		if errors.As(err, &ee) {
			return ee
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var re *retry.Error
		if errors.As(err, &re) && st.emitted {
			return re.Err // nothing is retried once a token went out
		}
		return err
	})
	var ee emitError
	var ex *retry.Exhausted
	switch {
	case errors.As(err, &ee):
		return ee.err
	case errors.As(err, &ex):
		return ex.Err
	}
	return err
}

// emitError carries an error returned by the caller's emit.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }
func (e emitError) Unwrap() error { return e.err }

// encode builds the request body: a chat completion for messages, a legacy
// completion for a raw prompt. The temperature is always sent (0 is a
// choice, not an absence); other zero settings are left to the server.
func (c *Client) encode(req generate.Request) (endpoint string, body []byte, err error) {
	var (
		maxTokens, topK *int
		topP            *float64
		seed            *int64
		opts            *openaiwire.StreamOptions
	)
	if req.MaxTokens > 0 {
		maxTokens = &req.MaxTokens
	}
	if req.TopK != 0 {
		topK = &req.TopK
	}
	if req.TopP != 0 {
		topP = &req.TopP
	}
	if req.Seed != nil {
		s := int64(*req.Seed)
		seed = &s
	}
	if !c.cfg.DisableStreamUsage {
		opts = &openaiwire.StreamOptions{IncludeUsage: true}
	}
	temp := req.Temperature
	if len(req.Messages) > 0 {
		msgs := make([]openaiwire.ChatMessage, len(req.Messages))
		for i, m := range req.Messages {
			msgs[i] = openaiwire.ChatMessage{Role: m.Role, Content: m.Content, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID}
		}
		body, err = json.Marshal(openaiwire.ChatCompletionRequest{
			Model: c.cfg.Model, Messages: msgs, Stream: true, StreamOptions: opts, MaxTokens: maxTokens,
			Temperature: &temp, TopP: topP, TopK: topK, Seed: seed, Stop: req.Stop,
			ResponseFormat: wireFormat(req.ResponseFormat), Tools: req.Tools, ToolChoice: req.ToolChoice,
		})
		endpoint = c.chatURL
	} else {
		body, err = json.Marshal(openaiwire.CompletionRequest{
			Model: c.cfg.Model, Prompt: req.Prompt, Stream: true, StreamOptions: opts, MaxTokens: maxTokens,
			Temperature: &temp, TopP: topP, TopK: topK, Seed: seed, Stop: req.Stop,
			ResponseFormat: wireFormat(req.ResponseFormat),
		})
		endpoint = c.compURL
	}
	return endpoint, body, err
}

var (
	errFirstByte = errors.New("first-byte timeout")
	errIdle      = errors.New("idle timeout")
)

// attempt sends one request and consumes its response.
func (c *Client) attempt(ctx context.Context, endpoint string, body []byte, st *stream) error {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hreq, err := http.NewRequestWithContext(rctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openai: %w: %w", data.ErrInvalid, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream, application/json")
	if c.cfg.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	for k, v := range c.cfg.Headers {
		hreq.Header.Set(k, v)
	}
	first := time.AfterFunc(c.cfg.Timeout, func() { cancel(errFirstByte) })
	resp, err := c.http.Do(hreq)
	first.Stop()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(context.Cause(rctx), errFirstByte) {
			return retry.Retryable(fmt.Errorf("openai: %w: no response from %s within %s", generate.ErrUpstream, endpoint, c.cfg.Timeout), 0)
		}
		return retry.Retryable(fmt.Errorf("openai: %w: %w: %v", generate.ErrUpstream, generate.ErrUnavailable, err), 0) //nolint:errorlint // cause kept as text: transport and context errors must not make an upstream failure look like the caller's cancellation
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp, c.cfg.MaxRetryWait)
	}

	// Any bytes, keep-alive comments included, count as activity.
	idle := time.AfterFunc(c.cfg.IdleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	streamBody := &activityReader{r: resp.Body, active: func() { idle.Reset(c.cfg.IdleTimeout) }}
	if isJSON(resp.Header.Get("Content-Type")) {
		err = st.readJSON(streamBody)
	} else {
		err = st.readSSE(streamBody)
	}
	if err == nil {
		return nil
	}
	var ee emitError
	if errors.As(err, &ee) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(rctx), errIdle) {
		return retry.Retryable(fmt.Errorf("openai: %w: no data from upstream for %s", generate.ErrUpstream, c.cfg.IdleTimeout), 0)
	}
	return err
}

// activityReader calls active whenever a read returns data.
type activityReader struct {
	r      io.Reader
	active func()
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.active()
	}
	return n, err
}

func isJSON(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	return strings.HasPrefix(ct, "application/json")
}

// wireFormat is the response_format sent upstream: OpenAI's shape, with
// the name OpenAI requires for json_schema ("response" when none was given).
func wireFormat(f *openaiwire.ResponseFormat) *openaiwire.ResponseFormat {
	if f == nil || f.JSONSchema == nil || f.JSONSchema.Name != "" {
		return f
	}
	out := *f
	js := *f.JSONSchema
	js.Name = "response"
	out.JSONSchema = &js
	return &out
}
