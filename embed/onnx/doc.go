// Package onnx runs BERT-family embedding models (MiniLM, BGE, E5, ...) and
// cross-encoder rerankers through ONNX Runtime.
//
// A model is a Hugging Face style directory: config.json, tokenizer.json
// (or vocab.txt), onnx/model.onnx (or model.onnx) and, for
// sentence-transformers models, modules.json and 1_Pooling/config.json,
// which select CLS or mean pooling and L2 normalisation. Texts are
// tokenized with the pure-Go WordPiece tokenizer, sorted by length, run in
// padded batches and pooled; results come back in input order.
//
// ONNX Runtime is a shared library loaded at run time (Config.LibraryPath);
// the ragd checkout gets it from the onnxruntime-node npm package
// (scripts/setup.sh, or npm install --ignore-scripts in node/). The runtime
// environment is initialised once per process. Device "cuda" appends the
// CUDA execution provider, which needs ONNX Runtime's CUDA provider library
// next to the runtime and a CUDA installation.
//
// The package is proven on random-weight BERTs built by package
// embed/bert, whose pure-Go forward pass must agree with ONNX Runtime
// element for element (see BuildRandomModel).
package onnx
