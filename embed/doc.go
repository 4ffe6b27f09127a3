// Package embed turns text into vectors. It defines the Embedder contract
// that ingest, index queries, eval and the API consume, and holds its
// implementations: the pure-Go Universal Sentence Encoder lite (the embedded
// default), BERT-family models through ONNX Runtime, and remote
// OpenAI-compatible embedding servers, together with their tokenizers.
package embed
