package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestIngestReadsGivenStdin(t *testing.T) {
	t.Setenv("RAGD_DATA_DIR", t.TempDir())
	t.Setenv("RAGD_MODEL", "none")
	in := strings.NewReader(`{"id":"s1","title":"Piped","text":"Standard input carries a jsonl document about gliders."}` + "\n")
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"ingest", "--index", "pipe", "--format", "jsonl", "--quiet", "-"}, in, &out, &errb); code != 0 {
		t.Fatalf("ingest - exited %d: %s", code, errb.String())
	}
	out.Reset()
	if code := runMain(context.Background(), []string{"search", "--index", "pipe", "--json", "gliders"}, nil, &out, &errb); code != 0 {
		t.Fatalf("search exited %d: %s", code, errb.String())
	}
	var res struct {
		Hits []struct {
			DocID string `json:"doc_id"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Hits) != 1 || res.Hits[0].DocID != "s1" {
		t.Fatalf("search after ingesting stdin: %s (%v)", out.String(), err)
	}
}
