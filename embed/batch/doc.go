// Package batch coalesces concurrent Embed calls into batched forward
// passes.
//
// Embedding models are much cheaper per text in a batch than one text at a
// time: a batch fills the matrix multiplies that a lone short query leaves
// mostly idle. A server answering many small concurrent requests (search
// queries, /v1/embeddings calls with one input) therefore gains throughput
// by waiting a moment and embedding the requests together.
//
// A Batcher wraps any embed.Embedder and is itself one:
//
//	emb = batch.New(model, batch.Config{}) // 64 texts, 2 ms (5 ms linger), 4096 queued
//	defer emb.Close()
//
// Requests queue per embed.Kind. A dispatcher per kind starts a batch when
// MaxBatch texts are queued or MaxWait has passed since the oldest queued
// request arrived, whichever comes first, takes whole requests from the
// front of the queue (never more than MaxBatch texts), calls the inner
// embedder once and hands each request its own vectors in its own order. At
// most MaxInFlight batches run at once across all kinds; while they run, the
// next batch fills. After a batch ends, the next one waits up to MaxLinger
// (at most a quarter of the ended batch's run time) for the clients it
// served to send their next texts, and starts as soon as as many texts are
// queued as it carried: without that, closed-loop clients split into a
// full batch and a nearly empty one, turn about.
//
// Semantics callers can rely on:
//
//   - Results are exactly what the inner embedder returns for the same
//     texts; each request gets one vector per text, in order.
//   - Errors: when a batched call fails, every request of that batch that is
//     still wanted is retried alone, so one bad input fails only the request
//     that carried it. The inner embedder therefore sees each text of a
//     failing batch twice.
//   - Cancellation: a request whose context ends before its batch starts is
//     dropped from the queue (its space is freed at once); one that ends
//     while its batch runs returns ctx.Err() and its vectors are discarded.
//     Neither affects the batch or other requests. The batch's own context is
//     cancelled only when every request in it has gone.
//   - Back-pressure: the queue holds at most MaxQueue texts across kinds.
//     When a request does not fit, Embed fails at once with an error
//     wrapping data.ErrOverloaded (the API answers 429 with Retry-After).
//   - Large requests: a request with more than MaxBatch texts is already a
//     batch; it goes straight to the inner embedder, outside the queue.
//   - Disabled passes every call straight through (for side-by-side
//     measurements and for embedders that batch on their own).
//   - Close stops new requests (they fail with data.ErrClosed), serves
//     everything already queued, and returns when the last batch is done.
//
// Stats reports batches, texts, mean batch size, queue depth and rejections
// for metrics.
package batch
