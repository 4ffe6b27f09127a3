// Package retry is the one retry loop with exponential backoff of ragd's
// HTTP clients (the OpenAI-compatible generator in generate/openai and the
// remote embedder in embed/remote): a Policy says how often and how long
// to wait, Do runs the attempts, and an attempt marks a failure worth
// another try by returning it wrapped with Retryable, with the server's
// Retry-After (ParseRetryAfter) when it sent one.
package retry
