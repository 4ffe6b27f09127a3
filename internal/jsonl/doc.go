// Package jsonl reads JSON Lines input line by line, for ingest's JSONL
// loader and eval's collection loaders: each line comes with its 1-based
// number for error messages, blank lines are skipped, and a line over the
// caller's limit is consumed and reported (ErrLineTooLong) without
// stopping the reader, so the caller decides whether to skip it or fail.
// Decoding the line is the caller's business.
package jsonl
