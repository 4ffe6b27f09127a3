// Package generate is ragd's generation layer: the Generator contract that
// the API and the CLI consume, the prompts and chat templates that turn
// retrieved passages into model input, context packing to a token budget,
// citation parsing, and the RAG orchestration in Answer.
//
// Implementations live in sub-packages: generate/llama (llama.cpp over GGUF
// files), generate/openai (any OpenAI-compatible server: Ollama, vLLM,
// llama.cpp server, TGI, Workers AI, OpenAI) and generate/extractive (the
// default when no model is configured: an answer assembled from retrieved
// sentences).
//
// Optional capabilities are discovered by type assertion, as database/sql
// does: a Generator that is also a TokenCounter counts tokens for context
// packing with its own tokenizer; one that is also a PassageAnswerer receives
// the packed passages directly instead of a rendered prompt.
//
// The package also adapts the OpenAI chat wire format (package openaiwire)
// to Request and Event: ChatRequest converts a chat completion request,
// ChatAdapter turns events into chunks or a complete response. It contains
// no HTTP server code.
package generate
