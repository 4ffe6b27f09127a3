// Package reliability holds ragd's crash-safety, concurrency and
// disk-failure tests. It has no library code: everything lives in _test.go
// files and drives the real binary (cmd/ragd) and the real engine (index).
//
// The tests and the figures they produce are described in
// docs/reliability.md. The main ones:
//
//   - TestCrashKillRestart runs `ragd serve`, `ragd ingest` and an
//     in-process vector writer against one data directory, kills each with
//     SIGKILL at a random moment, reopens the data directory and checks that
//     every acknowledged write survived, every document is wholly one
//     version, and the keyword and vector indexes agree with the store.
//   - TestConcurrentEngine and TestConcurrentHTTP hammer one engine with
//     writers, searchers and index create/drop under -race.
//   - TestDiskFull and TestReadOnlyDataDir check that a full or read-only
//     disk gives a clear error and no corruption.
//
// Run them with:
//
//	go test ./internal/reliability/                 # ~1 minute
//	go test ./internal/reliability/ -run Crash -long -v   # hundreds of kills
//	go test -race ./internal/reliability/ -run Concurrent
package reliability
