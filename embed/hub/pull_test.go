package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

// fakeHub serves /{owner}/{name}/resolve/{rev}/{path} like the hub: small
// files directly with their git blob id as ETag, large files (*.onnx) as
// a redirect to /lfs/{sha256} with X-Linked-Etag and X-Linked-Size.
type fakeHub struct {
	files    map[string][]byte // "owner/name/path" -> content
	token    string            // required bearer token, if set
	badSHA   bool              // announce a wrong sha256 for LFS files
	cutAfter int               // cut the first cutTimes LFS GETs after this many bytes
	cutTimes int

	mu     sync.Mutex
	cuts   int
	ranges []string // Range headers of LFS GETs
	gets   int
}

func gitBlobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token && !strings.HasPrefix(r.URL.Path, "/lfs/") {
		http.Error(w, "Invalid credentials", http.StatusUnauthorized)
		return
	}
	if sum, ok := strings.CutPrefix(r.URL.Path, "/lfs/"); ok {
		h.serveLFS(w, r, sum)
		return
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) != 5 || parts[2] != "resolve" || parts[3] != "main" {
		http.NotFound(w, r)
		return
	}
	key := parts[0] + "/" + parts[1] + "/" + parts[4]
	body, ok := h.files[key]
	if !ok {
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if strings.HasSuffix(key, ".onnx") {
		sum := sha(body)
		announced := sum
		if h.badSHA {
			announced = sha([]byte("something else"))
		}
		w.Header().Set("X-Linked-Etag", `"`+announced+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(body)))
		w.Header().Set("Location", "/lfs/"+sum)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitBlobID(body)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

func (h *fakeHub) serveLFS(w http.ResponseWriter, r *http.Request, sum string) {
	var body []byte
	for _, b := range h.files {
		if sha(b) == sum {
			body = b
		}
	}
	if body == nil {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	h.gets++
	h.ranges = append(h.ranges, r.Header.Get("Range"))
	cut := h.cutAfter > 0 && h.cuts < h.cutTimes
	if cut {
		h.cuts++
	}
	h.mu.Unlock()
	start := 0
	if rg := r.Header.Get("Range"); rg != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n >= len(body) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(body)-1, len(body)))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)-n))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	if !cut {
		w.Write(body[start:])
		return
	}
	// Send some bytes, then drop the connection.
	w.Write(body[start : start+min(h.cutAfter, len(body)-start-1)])
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// repoFiles is a small BERT-like repository with a 1 MiB "ONNX" file.
func repoFiles(repo string) map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	onnx := make([]byte, 1<<20)
	for i := range onnx {
		onnx[i] = byte(rng.Uint32())
	}
	return map[string][]byte{
		repo + "/config.json":           []byte(`{"hidden_size": 384, "max_position_embeddings": 512, "architectures": ["BertModel"]}`),
		repo + "/tokenizer.json":        []byte(`{"model": {"type": "WordPiece"}}`),
		repo + "/tokenizer_config.json": []byte(`{"do_lower_case": true}`),
		repo + "/vocab.txt":             []byte("[PAD]\n[UNK]\n"),
		repo + "/modules.json":          []byte(`[{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Normalize"}]`),
		repo + "/1_Pooling/config.json": []byte(`{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}`),
		repo + "/onnx/model.onnx":       onnx,
	}
}

func newPuller(t *testing.T, endpoint string, cfg Config) *Puller {
	t.Helper()
	cfg.Endpoint = endpoint
	if cfg.ModelsDir == "" {
		cfg.ModelsDir = t.TempDir()
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkInstalled(t *testing.T, dir string, files map[string][]byte, repo string) {
	t.Helper()
	for key, want := range files {
		rel, ok := strings.CutPrefix(key, repo+"/")
		if !ok {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s differs (%d vs %d bytes)", rel, len(got), len(want))
		}
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "*.partial"))
	if len(matches) > 0 {
		t.Errorf("partial files left: %v", matches)
	}
}

func noInstall(t *testing.T, modelsDir string) {
	t.Helper()
	list, err := List(modelsDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("models installed after a failed pull: %+v", list)
	}
	entries, _ := os.ReadDir(modelsDir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			t.Errorf("visible entry %q after a failed pull", e.Name())
		}
	}
}

func TestPullCatalogModel(t *testing.T) {
	const repo = "BAAI/bge-small-en-v1.5"
	h := &fakeHub{files: repoFiles(repo), token: "hf_good"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := newPuller(t, srv.URL, Config{Token: "hf_good"})
	var last, total int64
	calls := 0
	dir, err := p.Pull(context.Background(), "@cf/baai/bge-small-en-v1.5", func(done, tot int64, file string) {
		if done < last {
			t.Errorf("progress went back from %d to %d (%s)", last, done, file)
		}
		last, total = done, tot
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "bge-small-en-v1.5" {
		t.Errorf("dir %s", dir)
	}
	checkInstalled(t, dir, h.files, repo)
	var want int64
	for _, b := range h.files {
		want += int64(len(b))
	}
	if last != want || total != want || calls < 8 {
		t.Errorf("progress ended at %d/%d after %d calls, want %d", last, total, calls, want)
	}
	list, err := List(p.cfg.ModelsDir)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	m := list[0]
	if m.Name != "bge-small-en-v1.5" || m.Dims != 384 || m.Pooling != PoolCLS || m.Repo != repo ||
		m.Size < want || m.Source != srv.URL+"/"+repo || m.Revision != "main" || len(m.Files) != 7 {
		t.Errorf("installed %+v", m)
	}
	if m.ONNXPath() != filepath.Join(dir, "onnx", "model.onnx") {
		t.Errorf("ONNXPath %s", m.ONNXPath())
	}
	found, err := Find(p.cfg.ModelsDir, nil, "BAAI/bge-small-en-v1.5")
	if err != nil || found.Dir != dir {
		t.Errorf("Find = %+v, %v", found.Dir, err)
	}
	// A second pull finds the model installed and downloads nothing.
	gets := h.gets
	if again, err := p.Pull(context.Background(), "bge-small-en-v1.5", nil); err != nil || again != dir || h.gets != gets {
		t.Errorf("second pull: %s %v, %d downloads", again, err, h.gets-gets)
	}
}

func TestPullRepoOutsideCatalog(t *testing.T) {
	const repo = "acme/tiny-bert"
	files := repoFiles(repo)
	delete(files, repo+"/vocab.txt") // optional
	h := &fakeHub{files: files}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := newPuller(t, srv.URL, Config{Force: true})
	dir, err := p.Pull(context.Background(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Find(p.cfg.ModelsDir, nil, repo)
	if err != nil {
		t.Fatal(err)
	}
	if in.Dir != dir || in.Name != "acme--tiny-bert" || in.Dims != 384 || in.Pooling != PoolCLS ||
		!in.Normalize || in.MaxTokens != 512 || len(in.Files) != 6 {
		t.Errorf("installed %+v", in)
	}
	// Force replaces the installed copy.
	if _, err := p.Pull(context.Background(), repo, nil); err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir, files, repo)
}

func TestPullResumesAfterCut(t *testing.T) {
	const repo = "thenlper/gte-small"
	h := &fakeHub{files: repoFiles(repo), cutAfter: 300 << 10, cutTimes: 1}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := newPuller(t, srv.URL, Config{})
	dir, err := p.Pull(context.Background(), "gte-small", nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir, h.files, repo)
	if len(h.ranges) != 2 || h.ranges[0] != "" || h.ranges[1] != "bytes=307200-" {
		t.Errorf("LFS requests had ranges %q, want a resume from 307200", h.ranges)
	}
}

func TestPullResumesAcrossRuns(t *testing.T) {
	const repo = "intfloat/e5-small-v2"
	h := &fakeHub{files: repoFiles(repo), cutAfter: 200 << 10, cutTimes: 1}
	srv := httptest.NewServer(h)
	defer srv.Close()
	models := t.TempDir()
	first := newPuller(t, srv.URL, Config{ModelsDir: models, Retries: -1})
	if _, err := first.Pull(context.Background(), "e5-small-v2", nil); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("cut pull: %v, want ErrUnavailable", err)
	}
	noInstall(t, models)
	second := newPuller(t, srv.URL, Config{ModelsDir: models})
	dir, err := second.Pull(context.Background(), "e5-small-v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir, h.files, repo)
	if last := h.ranges[len(h.ranges)-1]; last != "bytes=204800-" {
		t.Errorf("second run's range %q, want bytes=204800-", last)
	}
	if _, err := os.Stat(filepath.Join(models, ".pull-e5-small-v2")); !os.IsNotExist(err) {
		t.Errorf("staging directory left: %v", err)
	}
}

func TestPullFailures(t *testing.T) {
	const repo = "BAAI/bge-base-en-v1.5"
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	noONNX := repoFiles(repo)
	delete(noONNX, repo+"/onnx/model.onnx")
	cases := []struct {
		name     string
		hub      *fakeHub
		endpoint string
		token    string
		model    string
		want     []error
	}{
		{"checksum mismatch", &fakeHub{files: repoFiles(repo), badSHA: true}, "", "", "bge-base-en-v1.5",
			[]error{ErrChecksum}},
		{"unreachable endpoint", nil, closed.URL, "", "bge-base-en-v1.5",
			[]error{data.ErrUnavailable}},
		{"bad token", &fakeHub{files: repoFiles(repo), token: "hf_right"}, "", "hf_wrong", "bge-base-en-v1.5",
			[]error{data.ErrUnauthorized, ErrDownload}},
		{"unknown name", &fakeHub{files: repoFiles(repo)}, "", "", "no-such-model",
			[]error{embed.ErrModelNotFound, data.ErrNotFound}},
		{"unknown repository", &fakeHub{files: repoFiles(repo)}, "", "", "acme/missing",
			[]error{data.ErrNotFound}},
		{"required file missing", &fakeHub{files: noONNX}, "", "", "bge-base-en-v1.5",
			[]error{data.ErrNotFound}},
		{"path traversal name", &fakeHub{files: repoFiles(repo)}, "", "", "../etc",
			[]error{embed.ErrModelNotFound}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			endpoint := c.endpoint
			if c.hub != nil {
				srv := httptest.NewServer(c.hub)
				defer srv.Close()
				endpoint = srv.URL
			}
			models := t.TempDir()
			p := newPuller(t, endpoint, Config{ModelsDir: models, Token: c.token, Retries: 1})
			dir, err := p.Pull(context.Background(), c.model, nil)
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v, want %v", err, w)
				}
			}
			if dir != "" {
				t.Errorf("dir %q returned with error", dir)
			}
			noInstall(t, models)
			if c.name == "checksum mismatch" {
				bad, _ := filepath.Glob(filepath.Join(models, ".pull-*", "onnx", "*"))
				if len(bad) != 0 {
					t.Errorf("corrupt download kept: %v", bad)
				}
			}
		})
	}
}

func TestPinnedChecksum(t *testing.T) {
	const repo = "acme/pinned"
	files := map[string][]byte{repo + "/config.json": []byte(`{"hidden_size": 8}`)}
	srv := httptest.NewServer(&fakeHub{files: files})
	defer srv.Close()
	for _, c := range []struct {
		pin    string
		wantOK bool
	}{
		{sha(files[repo+"/config.json"]), true},
		{sha([]byte("other")), false},
	} {
		cat := []Model{{Name: "pinned", Repo: repo, Kind: Embedding, Files: []File{{Path: "config.json", SHA256: c.pin}}}}
		p := newPuller(t, srv.URL, Config{Catalog: cat})
		_, err := p.Pull(context.Background(), "pinned", nil)
		if c.wantOK && err != nil {
			t.Errorf("pin %s: %v", c.pin[:8], err)
		}
		if !c.wantOK && !errors.Is(err, ErrChecksum) {
			t.Errorf("pin %s: error %v, want ErrChecksum", c.pin[:8], err)
		}
	}
}

func TestPullContextCancel(t *testing.T) {
	const repo = "BAAI/bge-reranker-base"
	srv := httptest.NewServer(&fakeHub{files: repoFiles(repo)})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p := newPuller(t, srv.URL, Config{})
	_, err := p.Pull(ctx, "bge-reranker-base", func(done, total int64, file string) {
		if done > 100<<10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	noInstall(t, p.cfg.ModelsDir)
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{ModelsDir: "/tmp/x"},
		{Endpoint: "ftp://hub", ModelsDir: "/tmp/x"},
		{Endpoint: "http://hub"},
	} {
		if _, err := New(cfg); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestPullVocabInsteadOfTokenizerJSON(t *testing.T) {
	const repo = "acme/old-bert"
	files := repoFiles(repo)
	delete(files, repo+"/tokenizer.json")
	srv := httptest.NewServer(&fakeHub{files: files})
	defer srv.Close()
	p := newPuller(t, srv.URL, Config{})
	dir, err := p.Pull(context.Background(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir, files, repo)
	in, err := Find(p.cfg.ModelsDir, nil, repo)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range in.Files {
		if f.Path == "vocab.txt" {
			n++
		}
	}
	if n != 1 || len(in.Files) != len(files) {
		t.Errorf("files %+v", in.Files)
	}

	delete(files, repo+"/vocab.txt")
	p2 := newPuller(t, srv.URL, Config{})
	if _, err := p2.Pull(context.Background(), repo, nil); !errors.Is(err, data.ErrNotFound) {
		t.Errorf("no tokenizer at all: %v, want ErrNotFound", err)
	}
}
