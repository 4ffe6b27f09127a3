// Package ingest turns files into chunks ready to embed and index.
//
// Loaders read one file or stream into Parsed documents: plain text,
// markdown (with the heading path of every section), HTML (visible text
// only), PDF (laid out from glyph positions, pages as paragraphs) and JSONL
// (one document per line, in the BEIR corpus shape). LoadFile and LoadReader collect the documents;
// StreamFile and StreamReader hand them over one by one, the way to read a
// large JSONL corpus. DetectFormat picks a loader from a file name or its
// first bytes. Bad input gives an error, never a panic: binary content
// (ErrBinary), no text (ErrEmpty), oversized files (data.ErrTooLarge,
// checked by size before reading), malformed PDF or JSON (data.ErrInvalid).
// Invalid UTF-8 is replaced with U+FFFD and reported in Parsed.Warnings.
// Bad JSONL lines are skipped and reported, with line numbers, in a
// *PartialError returned along with the good documents.
//
// Walk lists the files under folders in a deterministic order, with
// include and exclude globs ("**" included), skipping hidden entries and
// node_modules by default and following symbolic links without loops.
//
// Chunk splits a document's text into overlapping chunks of a bounded
// number of tokens, cutting at paragraphs, then sentences, then words,
// never inside a word, with exact byte offsets into the text and the
// markdown heading path of each chunk.
package ingest
