// Package bert is a dependency-free BERT encoder: configuration, weights in
// the safetensors format with Hugging Face BertModel tensor names, a pure-Go
// forward pass (embeddings, self-attention, GELU feed-forward, LayerNorm,
// pooler and an optional sequence-classification head), seeded random
// weights, and a writer that exports the same network as an ONNX model.
//
// The package exists so that the ONNX Runtime backend in embed/onnx can be
// proven without downloading real weights: tests build a random BERT, write
// it both as safetensors and as ONNX, run the ONNX file through ONNX Runtime
// and compare every output element with Model.Forward. The forward pass is
// written for clarity and exactness (float64 accumulation), not speed.
package bert
