// Package remote is an embed.Embedder for any server that speaks the
// OpenAI embeddings protocol, POST {base}/v1/embeddings: Text Embeddings
// Inference, vLLM, Ollama, llama.cpp server, OpenAI and the like. It is
// how ragd scales embedding out to a GPU box.
//
// Inputs are split into batches that are sent with bounded concurrency;
// vectors are reassembled in input order by each item's "index" and checked
// for count and dimensions. Rate limiting (429), server errors (5xx),
// timeouts and network errors are retried with exponential backoff and
// jitter, honouring Retry-After; other client errors are not retried.
package remote
