// Package index holds ragd's indexes: the durable store of record (bbolt)
// and the indexes derived from it — a bleve BM25 keyword index and a vector
// index (package index/ann) per named index — plus hybrid fusion.
//
// # Write path and crash safety
//
// Every write goes to the store first, in one bbolt transaction per batch:
// the document record, its chunks, their vectors, and one change-log entry
// per touched chunk. bbolt commits are atomic and fsynced, so after a crash a
// document is either wholly present or wholly absent. The derived indexes
// are then brought up to date from the change log: each records the last log
// sequence it applied (bleve inside the same batch that indexes the chunks;
// the vector index in a sidecar written after its snapshot), and Open replays
// any newer log entries. Replaying is idempotent (upserts and deletes by
// chunk id), so a crash between a derived write and its bookkeeping only
// means a little work is redone. A derived index that is missing or damaged
// is rebuilt from the store.
package index
