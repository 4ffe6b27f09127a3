// Package lru is the one least-recently-used map of ragd: a bounded map
// that evicts its least recently used entry when a Put goes over the bound.
// It serves embed's query-embedding cache and the API's result cache
// (api/rcache), which add their own locking, expiry and counters.
//
// A Cache is not safe for concurrent use: its owner holds the lock.
package lru
