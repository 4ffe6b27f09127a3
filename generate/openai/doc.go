// Package openai is a generate.Generator that streams from any
// OpenAI-compatible server: Ollama, vLLM, llama.cpp server, Hugging Face
// TGI, Cloudflare Workers AI or OpenAI itself.
//
// Chat requests (Request.Messages) go to POST {BaseURL}/v1/chat/completions
// with stream: true and stream_options.include_usage, and the server-sent
// events are parsed here: "data:" lines (several in one event are joined by
// newlines), ":" comments, CRLF line ends, ignored event/id/retry fields and
// the "[DONE]" sentinel. Raw prompts (Request.Prompt) go to the legacy
// POST {BaseURL}/v1/completions endpoint, which every server above except
// Workers AI serves, so that a caller that renders its own chat template
// gets exactly that text to the model.
//
// Robustness: Config.Timeout bounds the wait for the response headers,
// Config.IdleTimeout the silence between chunks (a stalled upstream fails
// with generate.ErrUpstream instead of hanging), and failures before the
// first token (connection errors, 429, 5xx, first-byte timeouts) are retried
// up to Config.MaxRetries times with jittered exponential backoff that waits
// at least a server's Retry-After (package internal/retry, shared with
// embed/remote). Requests and chunks are package openaiwire's types. Nothing is retried once a token has been emitted. Cancelling
// the context closes the upstream connection at once. A server that answers
// a streaming request with a plain JSON completion is accepted too.
package openai
