// Package registry resolves embedding model names to loaded embedders: the
// built-in Universal Sentence Encoder lite ("use-lite"), models pulled into
// the models directory (run through ONNX Runtime) and remote
// OpenAI-compatible servers ("remote:<name>"). Each model is loaded once,
// on first use, and shared by the API, ingest, search and eval; concurrent
// small requests are coalesced into batches (embed/batch).
//
// Names are checked before anything touches the file system (see
// CheckName): a name resolves only to a directory directly inside the
// models directory, so "../x" or "/etc" are refused with data.ErrInvalid
// and a missing model never tells whether some other path exists.
package registry
