package main

import (
	"strings"
	"testing"
)

// ragd ingest chunks with the settings stored with the index: an index
// created with --chunk-size 32 keeps chunking at 32 tokens on later runs
// without the flag, and a flag given explicitly still wins for its run.
func TestIngestUsesStoredChunkSettings(t *testing.T) {
	cliEnv(t)
	long := strings.Repeat("the quick brown fox jumps over the lazy dog. ", 48) // about 432 words
	chunksOf := func(index string) int {
		t.Helper()
		var list struct {
			Indexes []struct {
				Name  string
				Stats struct{ Chunks int }
			} `json:"indexes"`
		}
		ragdJSON(t, &list, "indexes", "list", "--json")
		for _, in := range list.Indexes {
			if in.Name == index {
				return in.Stats.Chunks
			}
		}
		t.Fatalf("no index %q", index)
		return 0
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.txt": long})
	ragdOK(t, "ingest", "--index", "small", "--quiet", "--chunk-size", "32", "--chunk-overlap", "2", dir)
	first := chunksOf("small")
	if first < 5 {
		t.Fatalf("chunk size 32 gave %d chunks of a 432-word text", first)
	}
	// A second file, no chunk flags: the stored 32/2 apply (the default
	// 256 would make it about two chunks).
	dir2 := t.TempDir()
	writeFiles(t, dir2, map[string]string{"b.txt": long + " again"})
	ragdOK(t, "ingest", "--index", "small", "--quiet", dir2)
	if got := chunksOf("small") - first; got < 5 {
		t.Fatalf("second run without flags made %d chunks, want the stored chunk size's", got)
	}
	// A new index without chunk flags stores and uses the defaults.
	ragdOK(t, "ingest", "--index", "big", "--quiet", dir)
	if got := chunksOf("big"); got < 1 || got > 3 || got >= first {
		t.Fatalf("default chunking made %d chunks, want 1-3 (chunk size 32 made %d)", got, first)
	}
}
