// Package aibatch is the Workers AI asynchronous batch queue: a client
// submits many inference requests for one model at once, gets a request
// id back, and polls that id until the responses are ready.
//
// The queue is bounded (Config.MaxQueued requests waiting or running; past
// it Submit fails with data.ErrOverloaded), persisted (one JSON file per
// batch in Config.Dir, written atomically; a batch that was queued or
// running when the process stopped is run again on Open), and drained by
// one background worker that runs a batch's requests a few at a time
// (Config.Parallel) through a Runner, so that they meet in the model
// pool's batching: the embed batcher for embeddings, the generator's
// slots for text generation. Finished batches are kept for Config.Keep
// and at most Config.MaxDone of them.
//
// The package knows nothing of HTTP: the Runner runs one request in its
// wire form and returns its result, and api/cloudflare adapts the routes.
package aibatch
