package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/index"
)

// cliEnv isolates a test from the machine's ragd configuration: a fresh
// data dir, no config file, keyword-only indexes, quiet logs. It returns
// the data dir.
func cliEnv(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "RAGD_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dataDir := t.TempDir()
	t.Setenv("RAGD_DATA_DIR", dataDir)
	t.Setenv("RAGD_MODEL", "none")
	t.Setenv("RAGD_LOG_LEVEL", "warn")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	return dataDir
}

// ragd runs one command in-process.
func ragd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// ragdOK runs a command that must succeed and returns its stdout.
func ragdOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := ragd(t, "", args...)
	if code != 0 {
		t.Fatalf("ragd %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// ragdJSON runs a command that must succeed and decodes its stdout.
func ragdJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := ragdOK(t, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("ragd %s: stdout is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ingestSummary is `ingest --json` output.
type ingestSummary struct {
	Index    string `json:"index"`
	Files    int    `json:"files"`
	Docs     int    `json:"docs"`
	Chunks   int    `json:"chunks"`
	Skipped  int    `json:"skipped"`
	Failed   int    `json:"failed"`
	Deleted  int    `json:"deleted"`
	Embedded int    `json:"embedded"`
	Failures []struct {
		Source string `json:"source"`
		Error  string `json:"error"`
	} `json:"failures"`
}

// searchOut is `search --json` output.
type searchOut struct {
	Hits []struct {
		DocID   string  `json:"doc_id"`
		ChunkID string  `json:"chunk_id"`
		Score   float64 `json:"score"`
		Source  string  `json:"source"`
		Title   string  `json:"title"`
		Text    string  `json:"text"`
		Explain *struct {
			BM25   *struct{ Rank int } `json:"bm25"`
			Vector *struct{ Rank int } `json:"vector"`
		} `json:"explain"`
	} `json:"hits"`
	TookMS *float64 `json:"took_ms"`
}

func (s searchOut) docIDs() []string {
	var ids []string
	for _, h := range s.Hits {
		ids = append(ids, h.DocID)
	}
	return ids
}

var sampleFiles = map[string]string{
	"cats.txt": "Cats purr and sleep most of the day. Felines are small domesticated animals.",
	"bread.md": "# Bread\n\nTo bake bread, knead the dough and bake the loaf in a hot oven.\n\n## Sourdough\n\nA sourdough starter replaces commercial yeast.\n",
	"sub/market.html": `<!DOCTYPE html><html><head><title>Stock market</title><script>var zebra = 1;</script></head>` +
		`<body><nav>menu home about</nav><p>The stock market fell today as investors sold shares.</p></body></html>`,
	"records.jsonl": `{"id":"j1","title":"Dogs","text":"Dogs bark at the mail carrier."}` + "\n" +
		`{"_id":"j2","text":"Parrots can learn to talk."}` + "\n" +
		"this line is not JSON\n",
	"blob.bin":  "\x00\x01\x02\x03binary\x00\xff\xfe\x00data\x00\x00",
	"empty.txt": "",
}

func TestIngestSearchSyncCycle(t *testing.T) {
	cliEnv(t)
	corpus := t.TempDir()
	writeFiles(t, corpus, sampleFiles)
	abs := func(name string) string { return filepath.Join(corpus, filepath.FromSlash(name)) }

	// First run: text summary, bad files reported and skipped, exit 0.
	out := ragdOK(t, "ingest", "--index", "docs", corpus)
	for _, want := range []string{`ingested into "docs": 6 files, 5 docs written`, "0 unchanged, 3 failed, 0 deleted",
		"skipped " + abs("blob.bin"), "skipped " + abs("empty.txt"), "skipped " + abs("records.jsonl") + ":3"} {
		if !strings.Contains(out, want) {
			t.Errorf("ingest output lacks %q:\n%s", want, out)
		}
	}

	// The documents are there, under their ids (path or JSONL id).
	var list struct {
		Indexes []struct {
			Name  string `json:"name"`
			Model string `json:"model"`
			Stats struct {
				Documents, Chunks, Vectors int
			} `json:"stats"`
		} `json:"indexes"`
	}
	ragdJSON(t, &list, "indexes", "--json")
	if len(list.Indexes) != 1 || list.Indexes[0].Name != "docs" || list.Indexes[0].Stats.Documents != 5 || list.Indexes[0].Model != "" || list.Indexes[0].Stats.Vectors != 0 {
		t.Fatalf("indexes after ingest: %+v", list.Indexes)
	}

	// search --json: shape and BM25 ranking.
	var raw struct {
		Hits   []map[string]json.RawMessage `json:"hits"`
		TookMS json.RawMessage              `json:"took_ms"`
	}
	ragdJSON(t, &raw, "search", "--index", "docs", "--json", "bread")
	if len(raw.Hits) == 0 || raw.TookMS == nil {
		t.Fatalf("search --json: %+v", raw)
	}
	for _, k := range []string{"doc_id", "chunk_id", "score", "source", "title", "text"} {
		if _, ok := raw.Hits[0][k]; !ok {
			t.Errorf("search --json hit has no %q key", k)
		}
	}
	var res searchOut
	ragdJSON(t, &res, "search", "--index", "docs", "--mode", "bm25", "--json", "bake", "bread", "in", "an", "oven")
	if len(res.Hits) == 0 || res.Hits[0].DocID != abs("bread.md") || res.TookMS == nil {
		t.Fatalf("search: %+v", res)
	}
	h := res.Hits[0]
	if !strings.HasPrefix(h.ChunkID, abs("bread.md")+"#") || h.Source != abs("bread.md") || h.Title != "Bread" || !strings.Contains(h.Text, "hot oven") || h.Score <= 0 {
		t.Fatalf("top hit %+v", h)
	}
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Score > res.Hits[i-1].Score {
			t.Fatalf("hits not sorted by score: %+v", res.Hits)
		}
	}
	ragdJSON(t, &res, "search", "--index", "docs", "--json", "--top-k", "1", "mail carrier")
	if ids := res.docIDs(); !slices.Equal(ids, []string{"j1"}) {
		t.Fatalf("jsonl record search: %v", ids)
	}
	ragdJSON(t, &res, "search", "--index", "docs", "--json", "stock market")
	if ids := res.docIDs(); !slices.Equal(ids, []string{abs("sub/market.html")}) || res.Hits[0].Title != "Stock market" {
		t.Fatalf("html search: %+v", res)
	}
	// Scripts and navigation are not indexed.
	ragdJSON(t, &res, "search", "--index", "docs", "--json", "zebra menu")
	if len(res.Hits) != 0 {
		t.Fatalf("script/nav text was indexed: %+v", res.Hits)
	}
	// Human output names the hit and counts.
	out = ragdOK(t, "search", "--index", "docs", "parrots")
	if !strings.Contains(out, "1. j2") || !strings.Contains(out, "1 hits in") {
		t.Fatalf("text search output:\n%s", out)
	}

	// Unchanged: everything skipped, nothing written.
	var sum ingestSummary
	ragdJSON(t, &sum, "ingest", "--index", "docs", "--json", corpus)
	if sum.Files != 6 || sum.Docs != 0 || sum.Skipped != 5 || sum.Failed != 3 || sum.Deleted != 0 || len(sum.Failures) != 3 {
		t.Fatalf("re-ingest unchanged: %+v", sum)
	}

	// One file changed: it alone is rewritten, and search sees the change.
	writeFiles(t, corpus, map[string]string{"cats.txt": "Cats chase laser pointers. Felines hunt mice."})
	ragdJSON(t, &sum, "ingest", "--index", "docs", "--json", corpus)
	if sum.Docs != 1 || sum.Skipped != 4 || sum.Chunks != 1 {
		t.Fatalf("re-ingest after one change: %+v", sum)
	}
	ragdJSON(t, &res, "search", "--index", "docs", "--json", "laser pointers")
	if ids := res.docIDs(); !slices.Equal(ids, []string{abs("cats.txt")}) {
		t.Fatalf("changed text not found: %v", ids)
	}
	ragdJSON(t, &res, "search", "--index", "docs", "--json", "purr")
	if len(res.Hits) != 0 {
		t.Fatalf("old text still found: %+v", res.Hits)
	}

	// --sync after deleting a file removes its document (and only it: the
	// failed files' absence from the store is not a deletion).
	if err := os.Remove(abs("sub/market.html")); err != nil {
		t.Fatal(err)
	}
	ragdJSON(t, &sum, "ingest", "--index", "docs", "--json", "--sync", corpus)
	if sum.Deleted != 1 || sum.Docs != 0 || sum.Skipped != 4 {
		t.Fatalf("sync: %+v", sum)
	}
	ragdJSON(t, &res, "search", "--index", "docs", "--json", "stock market")
	if len(res.Hits) != 0 {
		t.Fatalf("deleted file still searchable: %+v", res.Hits)
	}
	ragdJSON(t, &list, "indexes", "--json")
	if list.Indexes[0].Stats.Documents != 4 {
		t.Fatalf("documents after sync: %+v", list.Indexes[0])
	}

	// Without --sync a vanished file stays.
	if err := os.Remove(abs("cats.txt")); err != nil {
		t.Fatal(err)
	}
	ragdJSON(t, &sum, "ingest", "--index", "docs", "--json", corpus)
	if sum.Deleted != 0 {
		t.Fatalf("deleted without --sync: %+v", sum)
	}
	ragdJSON(t, &res, "search", "--index", "docs", "--json", "laser")
	if len(res.Hits) != 1 {
		t.Fatalf("document of a vanished file removed without --sync: %+v", res.Hits)
	}

	// Include/exclude globs pick files under folders.
	ragdJSON(t, &sum, "ingest", "--index", "md-only", "--json", "--include", "*.md", corpus)
	if sum.Files != 1 || sum.Docs != 1 || sum.Failed != 0 {
		t.Fatalf("--include *.md: %+v", sum)
	}
}

func TestIndexesReindexCheck(t *testing.T) {
	dataDir := cliEnv(t)
	corpus := t.TempDir()
	writeFiles(t, corpus, map[string]string{"a.txt": "alpha bravo charlie", "b.txt": "delta echo foxtrot", "c.txt": "golf hotel india"})

	out := ragdOK(t, "indexes", "create", "notes")
	if !strings.Contains(out, `created index "notes"`) {
		t.Fatalf("create output %q", out)
	}
	var created struct {
		Name string `json:"name"`
		Dims int    `json:"dims"`
	}
	ragdJSON(t, &created, "indexes", "create", "vecs", "--dims", "3", "--json")
	if created.Name != "vecs" || created.Dims != 3 {
		t.Fatalf("create --dims: %+v", created)
	}
	code, _, errOut := ragd(t, "", "indexes", "create", "notes")
	if code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate create: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = ragd(t, "", "indexes", "create", "bad name!")
	if code != 2 || !strings.Contains(errOut, "index name") {
		t.Fatalf("invalid name: exit %d, stderr %q", code, errOut)
	}

	ragdOK(t, "ingest", "--index", "notes", "--quiet", corpus)
	var list struct {
		Indexes []struct {
			Name  string `json:"name"`
			Stats struct{ Documents int }
		} `json:"indexes"`
	}
	ragdJSON(t, &list, "indexes", "list", "--json")
	var names []string
	for _, in := range list.Indexes {
		names = append(names, in.Name)
	}
	if !slices.Equal(names, []string{"notes", "vecs"}) || list.Indexes[0].Stats.Documents != 3 {
		t.Fatalf("list: %+v", list.Indexes)
	}
	out = ragdOK(t, "indexes")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "notes") || !strings.Contains(out, "vecs") {
		t.Fatalf("table output:\n%s", out)
	}

	out = ragdOK(t, "check", "--index", "notes")
	if !strings.Contains(out, "notes: ok (3 chunks") {
		t.Fatalf("check output %q", out)
	}
	var rep struct {
		Indexes []struct {
			Index         string `json:"index"`
			StoreChunks   int    `json:"store_chunks"`
			KeywordChunks int    `json:"keyword_chunks"`
		} `json:"indexes"`
	}
	ragdJSON(t, &rep, "check", "--json")
	if len(rep.Indexes) != 2 || rep.Indexes[0].StoreChunks != 3 || rep.Indexes[0].KeywordChunks != 3 {
		t.Fatalf("check --json: %+v", rep)
	}

	out = ragdOK(t, "reindex", "--index", "notes")
	if !strings.Contains(out, `reindexed "notes": 3 chunks`) {
		t.Fatalf("reindex output %q", out)
	}
	out = ragdOK(t, "reindex")
	if !strings.Contains(out, `reindexed "notes"`) || !strings.Contains(out, `reindexed "vecs"`) {
		t.Fatalf("reindex all output %q", out)
	}

	// The keyword index is derived: losing it is repaired from the store
	// when the data dir is opened, and check then agrees.
	bleveDir := filepath.Join(dataDir, "indexes", "notes", "bleve")
	if _, err := os.Stat(bleveDir); err != nil {
		t.Fatalf("keyword index not at %s: %v", bleveDir, err)
	}
	if err := os.RemoveAll(bleveDir); err != nil {
		t.Fatal(err)
	}
	out = ragdOK(t, "check", "--index", "notes")
	if !strings.Contains(out, "notes: ok (3 chunks") {
		t.Fatalf("check after losing the keyword index: %q", out)
	}
	var res searchOut
	ragdJSON(t, &res, "search", "--index", "notes", "--json", "echo")
	if ids := res.docIDs(); !slices.Equal(ids, []string{filepath.Join(corpus, "b.txt")}) {
		t.Fatalf("search after rebuild: %v", ids)
	}

	out = ragdOK(t, "indexes", "delete", "vecs")
	if !strings.Contains(out, `deleted index "vecs"`) {
		t.Fatalf("delete output %q", out)
	}
	ragdJSON(t, &list, "indexes", "--json")
	if len(list.Indexes) != 1 || list.Indexes[0].Name != "notes" {
		t.Fatalf("after delete: %+v", list.Indexes)
	}
}

func TestExitCodes(t *testing.T) {
	cliEnv(t)
	ragdOK(t, "indexes", "create", "docs")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"search", "--index", "nope", "bread"}, 3, "nope"},
		{[]string{"search", "--index", "nope", "--json", "bread"}, 3, "not found"},
		{[]string{"indexes", "delete", "nope"}, 3, "nope"},
		{[]string{"reindex", "--index", "nope"}, 3, "nope"},
		{[]string{"check", "--index", "nope"}, 3, "nope"},
		{[]string{"ask", "--index", "nope", "why?"}, 3, "nope"},
		{[]string{"search", "--bogus", "bread"}, 2, "flag provided but not defined"},
		{[]string{"ingest", "--chunk-size", "many", "x"}, 2, "invalid value"},
		{[]string{"ingest", "--index", "docs"}, 2, "no paths"},
		{[]string{"search", "--index", "docs"}, 2, "no query"},
		{[]string{"search", "--index", "docs", "--mode", "fuzzy", "bread"}, 2, "mode"},
		{[]string{"search", "--index", "docs", "--filter", "novalue", "bread"}, 2, "novalue"},
		{[]string{"search", "--index", "docs", "--vector", "[1,", "bread"}, 2, "--vector"},
		{[]string{"indexes", "frobnicate"}, 2, "unknown indexes action"},
		{[]string{"search", "--index", "docs", "--hnsw-m", "1", "bread"}, 2, "hnsw_m 1"},
		{[]string{"search", "--index", "docs", "--hnsw-ef-search", "-3", "bread"}, 2, "hnsw_ef_search -3"},
		{[]string{"embed", "hello"}, 2, "none cannot embed"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"ingest", "--index", "docs", "/no/such/path/anywhere"}, 1, "no such file"},
	} {
		code, out, errOut := ragd(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("ragd %s: exit %d (want %d), stderr %q (want %q), stdout %q", strings.Join(tc.args, " "), code, tc.code, errOut, tc.msg, out)
		}
	}
	// Help is not an error.
	for _, args := range [][]string{{"search", "-h"}, {"help"}, {"help", "ingest"}, {}} {
		code, out, errOut := ragd(t, "", args...)
		if code != 0 || !strings.Contains(out+errOut, "Usage") && !strings.Contains(out+errOut, "Commands") {
			t.Errorf("ragd %v: exit %d, output %q", args, code, out+errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	cliEnv(t)
	out := ragdOK(t, "version")
	if !strings.HasPrefix(out, "ragd "+version+" (go") {
		t.Fatalf("version: %q", out)
	}
	if alt := ragdOK(t, "--version"); alt != out {
		t.Fatalf("--version %q differs from version %q", alt, out)
	}
	var v map[string]string
	ragdJSON(t, &v, "version", "--json")
	if v["version"] != version || !strings.HasPrefix(v["go"], "go") || v["os"] == "" || v["arch"] == "" {
		t.Fatalf("version --json: %v", v)
	}
}

// Configuration precedence: defaults < config file < RAGD_* environment <
// flags. The data dir shows which source won: each dir holds one index.
func TestConfigPrecedence(t *testing.T) {
	cliEnv(t)
	os.Unsetenv("RAGD_DATA_DIR")
	dirs := map[string]string{"file": t.TempDir(), "env": t.TempDir(), "flag": t.TempDir()}
	for src, d := range dirs {
		ragdOK(t, "indexes", "create", "from-"+src, "--data-dir", d)
	}
	cfgPath := filepath.Join(t.TempDir(), "ragd.json")
	writeCfg := func(body string) {
		if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(`{"data_dir": "` + dirs["file"] + `", "model": "no-such-model"}`)
	which := func(args ...string) string {
		t.Helper()
		var list struct {
			Indexes []struct{ Name string } `json:"indexes"`
		}
		ragdJSON(t, &list, append([]string{"indexes", "--json", "--config", cfgPath}, args...)...)
		if len(list.Indexes) != 1 {
			t.Fatalf("indexes %+v, want exactly one", list.Indexes)
		}
		return strings.TrimPrefix(list.Indexes[0].Name, "from-")
	}

	// The environment's RAGD_MODEL=none beats the file's model...
	if got := which(); got != "file" {
		t.Fatalf("config file only: data dir from %s", got)
	}
	corpus := t.TempDir()
	writeFiles(t, corpus, map[string]string{"x.txt": "xylophone"})
	ragdOK(t, "ingest", "--config", cfgPath, "--index", "kw", "--quiet", corpus)
	// ...and without it the file's model is used (and is not installed).
	os.Unsetenv("RAGD_MODEL")
	code, _, errOut := ragd(t, "", "ingest", "--config", cfgPath, "--index", "kw2", "--quiet", corpus)
	if code != 3 || !strings.Contains(errOut, "no-such-model") {
		t.Fatalf("model from the config file: exit %d, stderr %q", code, errOut)
	}
	// A flag beats the file.
	ragdOK(t, "ingest", "--config", cfgPath, "--model", "none", "--index", "kw3", "--quiet", corpus)
	t.Setenv("RAGD_MODEL", "none")

	t.Setenv("RAGD_DATA_DIR", dirs["env"])
	if got := which(); got != "env" {
		t.Fatalf("file + env: data dir from %s", got)
	}
	if got := which("--data-dir", dirs["flag"]); got != "flag" {
		t.Fatalf("file + env + flag: data dir from %s", got)
	}
	if got := which("--data-dir=" + dirs["flag"]); got != "flag" {
		t.Fatalf("--data-dir=: data dir from %s", got)
	}
	// RAGD_CONFIG names the file too.
	os.Unsetenv("RAGD_DATA_DIR")
	t.Setenv("RAGD_CONFIG", cfgPath)
	var list struct {
		Indexes []struct{ Name string } `json:"indexes"`
	}
	ragdJSON(t, &list, "indexes", "--json")
	if len(list.Indexes) == 0 || list.Indexes[0].Name != "from-file" {
		t.Fatalf("RAGD_CONFIG: %+v", list.Indexes)
	}
	os.Unsetenv("RAGD_CONFIG")

	// Broken configuration is a usage error.
	writeCfg(`{"data_dir": "x", "colour": "blue"}`)
	if code, _, errOut := ragd(t, "", "indexes", "--config", cfgPath); code != 2 || !strings.Contains(errOut, "colour") {
		t.Fatalf("unknown config key: exit %d, %q", code, errOut)
	}
	writeCfg(`{"data_dir": `)
	if code, _, _ := ragd(t, "", "indexes", "--config", cfgPath); code != 2 {
		t.Fatalf("malformed config: exit %d", code)
	}
	if code, _, errOut := ragd(t, "", "indexes", "--config", filepath.Join(t.TempDir(), "missing.json")); code != 2 || !strings.Contains(errOut, "config file") {
		t.Fatalf("missing explicit config: exit %d, %q", code, errOut)
	}
	t.Setenv("RAGD_THREADS", "many")
	if code, _, errOut := ragd(t, "", "version"); code != 2 || !strings.Contains(errOut, "RAGD_THREADS") {
		t.Fatalf("bad env value: exit %d, %q", code, errOut)
	}
}

// TestCheckLockedDataDir: `ragd check` on a data dir another process
// holds exits with its own code and says why, unlike "indexes disagree" (1).
func TestCheckLockedDataDir(t *testing.T) {
	dir := cliEnv(t)
	ragdOK(t, "indexes", "create", "docs")
	eng, err := index.Open(context.Background(), index.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	code, _, errOut := ragd(t, "", "check")
	if code != exitLocked || !strings.Contains(errOut, "locked by another ragd process") {
		t.Fatalf("check on a held data dir: exit %d (want %d), stderr %q", code, exitLocked, errOut)
	}
}

func TestCheckBind(t *testing.T) {
	for _, tc := range []struct {
		addr string
		open bool
		ok   bool
	}{
		{"127.0.0.1:7474", false, true},
		{"localhost:7474", false, true},
		{"[::1]:7474", false, true},
		{"127.1.2.3:80", false, true},
		{"127.example.invalid:7474", false, false},
		{"127.0.0.1.nip.example:7474", false, false},
		{"localhost.example:7474", false, false},
		{"0.0.0.0:7474", false, false},
		{"192.168.1.5:7474", false, false},
		{":7474", false, false},
		{"0.0.0.0:7474", true, true},
		{"no-port", true, false},
	} {
		err := checkBind(tc.addr, tc.open)
		if (err == nil) != tc.ok {
			t.Errorf("checkBind(%q, open=%v) = %v, want ok=%v", tc.addr, tc.open, err, tc.ok)
		}
		var ee *exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != 2) {
			t.Errorf("checkBind(%q): %v is not a usage error (exit 2)", tc.addr, err)
		}
	}
}
