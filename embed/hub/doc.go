// Package hub pulls models from a Hugging Face compatible model hub into
// ragd's models directory and knows the catalog of models ragd runs
// (BGE, MiniLM, E5, GTE embedders and the BGE reranker) with their
// dimensions, pooling, prefixes and limits.
//
// Pull fetches the files a BERT-family ONNX model needs from
// {endpoint}/{repo}/resolve/{revision}/{path}. Large files resume with
// Range requests from *.partial files after a cut connection, every file
// is checked against the size and checksum the hub announces (the SHA-256
// in X-Linked-Etag for large files, the git blob id in ETag for small
// ones) or a checksum pinned in the catalog, and the model directory is
// renamed into place only when everything arrived intact. List and Find
// read the manifests of installed models.
package hub
