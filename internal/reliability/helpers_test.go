package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/ingest"
	"github.com/ragd/ragd/internal/testutil"
	"github.com/ragd/ragd/internal/unitvec"
)

var (
	long     = flag.Bool("long", false, "run hundreds of kill/restart iterations and longer concurrency runs")
	seedFlag = flag.Uint64("seed", 0, "RNG seed (0: derived from the clock; printed on failure)")
	itersFlg = flag.Int("iters", 0, "kill/restart iterations (0: 25, or 300 with -long)")
)

// childEnv marks a re-executed test binary that runs the vector writer.
const childEnv = "RAGD_RELIABILITY_CHILD"

var buildDir string

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func testSeed(t *testing.T) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("reproduce with: go test ./internal/reliability/ -run '^%s$' -seed %d", t.Name(), s)
		}
	})
	return s
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// ragdBinary builds cmd/ragd once per test process.
func ragdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("go tool not found: %w", err)
			return
		}
		if buildDir, err = os.MkdirTemp("", "ragd-reliability-bin-"); err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "ragd")
		cmd := exec.Command(goTool, "build", "-o", buildBin, "./cmd/ragd")
		cmd.Dir = moduleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ragd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// nodeDir is the folder holding node_modules with the use-lite weights, or
// "" when it is not installed.
func nodeDir(t *testing.T) string {
	d := filepath.Join(moduleRoot(t), "node")
	if _, err := os.Stat(filepath.Join(d, "node_modules", "@energetic-ai", "model-embeddings-en")); err != nil {
		return ""
	}
	return d
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a spawned process that the test kills at its end at the latest.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	lines  chan struct{} // closed when stdoutLine has seen all of stdout
	err    error
	killed bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a command with env added to a hermetic base environment. Its
// combined output is kept for failure messages; stdout also goes to
// stdoutLine line by line when given.
func start(t *testing.T, name string, args []string, env []string, stdoutLine func(string)) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(hermeticEnv(t), env...)
	p := &proc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{}), lines: make(chan struct{})}
	cmd.Stderr = p.out
	var pw *os.File
	if stdoutLine != nil {
		pr, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pw = w
		cmd.Stdout = w
		go func() {
			defer close(p.lines)
			defer pr.Close()
			buf := make([]byte, 0, 4096)
			tmp := make([]byte, 4096)
			for {
				n, err := pr.Read(tmp)
				buf = append(buf, tmp[:n]...)
				for {
					i := bytes.IndexByte(buf, '\n')
					if i < 0 {
						break
					}
					line := string(buf[:i])
					p.out.Write(buf[:i+1])
					stdoutLine(line)
					buf = buf[i+1:]
				}
				if err != nil {
					return
				}
			}
		}()
	} else {
		cmd.Stdout = p.out
		close(p.lines)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	if pw != nil {
		pw.Close()
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill sends SIGKILL (if still running) and waits for the exit.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.killed = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

var hermeticOnce struct {
	sync.Once
	home string
}

// hermeticEnv is the environment for spawned processes: no user config,
// no inherited RAGD_* settings, logs at warn level.
func hermeticEnv(t *testing.T) []string {
	hermeticOnce.Do(func() {
		hermeticOnce.home, _ = os.MkdirTemp("", "ragd-reliability-home-")
	})
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RAGD_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+hermeticOnce.home, "RAGD_LOG_LEVEL=warn")
}

// ---- generated documents ----

var vocab = strings.Fields(`river stone paper engine garden window silver market winter
harbor letter signal forest bridge candle mirror planet thunder meadow lantern
copper valley orbit saddle pepper cotton falcon marble ribbon tunnel ladder
anchor basket cactus dragon jacket kettle lemon magnet needle oyster pillow`)

// docText builds a document's text deterministically from its id, version
// and sentence count. Every sentence carries the marker token id+"ver"+N
// (for example "d07ver3"), so a chunk of one version never looks like a
// chunk of another, and a keyword search for a version's marker finds only
// that version.
func docText(id string, ver, sentences int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", id, ver)
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(ver)))
	m := marker(id, ver)
	var b strings.Builder
	for s := 0; s < sentences; s++ {
		if s > 0 {
			if s%3 == 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(strings.ToUpper(m[:1]) + m[1:])
		for w := 4 + r.IntN(7); w > 0; w-- {
			b.WriteByte(' ')
			b.WriteString(vocab[r.IntN(len(vocab))])
		}
		b.WriteString(" " + m + ".")
	}
	return b.String()
}

func marker(id string, ver int) string { return id + "ver" + fmt.Sprint(ver) }

// expectDoc is what the store must hold for a document written through
// the ingest pipeline with the given chunk options.
func expectDoc(id, title, text string, opts ingest.ChunkOptions) data.Document {
	d := data.Document{ID: id, Title: title, Text: text}
	d.Chunks = ingest.Chunk(ingest.Parsed{Doc: d}, opts)
	return d
}

// chunkVector is the deterministic unit vector of a chunk (by id and text).
func chunkVector(chunkID, text string, dims int) []float32 {
	return unitvec.ForText(dims, chunkID, text)
}

// state maps document id to the document the store must hold.
type state map[string]data.Document

func (s state) clone() state {
	c := make(state, len(s))
	for k, v := range s {
		c[k] = v
	}
	return c
}

// readState reads every document with its chunks from an index, and checks
// that the store holds no chunk beyond what its documents list.
func readState(ctx context.Context, e *index.Engine, name string) (state, error) {
	st := state{}
	after := ""
	listed := 0
	for {
		page, err := e.Documents(ctx, name, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, s := range page {
			d, err := e.Document(ctx, name, s.ID)
			if err != nil {
				return nil, fmt.Errorf("document %q listed but not readable: %w", s.ID, err)
			}
			if len(d.Chunks) != s.Chunks {
				return nil, fmt.Errorf("document %q: record says %d chunks, store has %d of them", s.ID, s.Chunks, len(d.Chunks))
			}
			listed += s.Chunks
			st[s.ID] = d
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	info, err := e.Index(ctx, name)
	if err != nil {
		return nil, err
	}
	if info.Stats.Documents != len(st) {
		return nil, fmt.Errorf("stats say %d documents, listing found %d", info.Stats.Documents, len(st))
	}
	if info.Stats.Chunks != listed {
		return nil, fmt.Errorf("store holds %d chunks but its documents account for %d (orphaned chunks)", info.Stats.Chunks, listed)
	}
	return st, nil
}

// diffDoc says how a stored document differs from the expected one ("" if
// it does not).
func diffDoc(got, want data.Document) string {
	switch {
	case got.Text != want.Text:
		return fmt.Sprintf("text differs (got %.40q, want %.40q)", got.Text, want.Text)
	case got.Title != want.Title:
		return fmt.Sprintf("title %q, want %q", got.Title, want.Title)
	case want.Chunks == nil:
		return diffChunkLayout(got)
	case len(got.Chunks) != len(want.Chunks):
		return fmt.Sprintf("%d chunks, want %d", len(got.Chunks), len(want.Chunks))
	}
	for i, c := range got.Chunks {
		w := want.Chunks[i]
		if c.ID != w.ID || c.Text != w.Text || c.Start != w.Start || c.End != w.End || c.Ordinal != i {
			return fmt.Sprintf("chunk %d is %q [%d:%d] %.30q, want %q [%d:%d] %.30q", i, c.ID, c.Start, c.End, c.Text, w.ID, w.Start, w.End, w.Text)
		}
	}
	return ""
}

// diffChunkLayout checks a document's chunks without knowing how they were
// cut (indexes with a model count tokens with the model's tokenizer): they
// are numbered 0..n-1, each is the document text at its offsets, and they
// run through the text in order from its start to its end, leaving out
// nothing but white space. A chunk of
// another version could not pass, since every sentence names its version.
func diffChunkLayout(d data.Document) string {
	if len(d.Chunks) == 0 {
		return "no chunks"
	}
	prevStart := -1
	for i, c := range d.Chunks {
		switch {
		case c.ID != data.ChunkID(d.ID, i) || c.Ordinal != i:
			return fmt.Sprintf("chunk %d has id %q ordinal %d", i, c.ID, c.Ordinal)
		case c.Start < 0 || c.End > len(d.Text) || c.Start >= c.End || c.Start <= prevStart:
			return fmt.Sprintf("chunk %d has offsets [%d:%d] (text %d bytes, previous start %d)", i, c.Start, c.End, len(d.Text), prevStart)
		case d.Text[c.Start:c.End] != c.Text:
			return fmt.Sprintf("chunk %d text %.30q is not the document text at [%d:%d]", i, c.Text, c.Start, c.End)
		case i > 0 && c.Start > d.Chunks[i-1].End && strings.TrimSpace(d.Text[d.Chunks[i-1].End:c.Start]) != "":
			return fmt.Sprintf("text %.30q between chunk %d and %d is in no chunk", d.Text[d.Chunks[i-1].End:c.Start], i-1, i)
		}
		prevStart = c.Start
	}
	if first, last := d.Chunks[0].Start, d.Chunks[len(d.Chunks)-1].End; strings.TrimSpace(d.Text[:first]) != "" || strings.TrimSpace(d.Text[last:]) != "" {
		return fmt.Sprintf("chunks cover only [%d:%d] of %d bytes", first, last, len(d.Text))
	}
	return ""
}

// diffState lists the differences between a stored and an expected state.
func diffState(got, want state) []string {
	var out []string
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			out = append(out, fmt.Sprintf("%s: missing", id))
			continue
		}
		if d := diffDoc(g, w); d != "" {
			out = append(out, id+": "+d)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			out = append(out, fmt.Sprintf("%s: present, want absent", id))
		}
	}
	sort.Strings(out)
	return out
}

// checkSearch checks keyword search against a state: a document's current
// marker finds only that document, and the markers of versions that are no
// longer stored (older versions, deleted documents) find nothing.
func checkSearch(ctx context.Context, e *index.Engine, name string, st state, gone []string) error {
	for id, d := range st {
		m := markerOf(d.Text)
		if m == "" {
			continue
		}
		hits, err := e.Search(ctx, name, data.Query{Text: m, TopK: 100, Mode: data.ModeBM25})
		if err != nil {
			return fmt.Errorf("search %q: %w", m, err)
		}
		if len(hits) == 0 {
			return fmt.Errorf("search %q: no hits, want document %q", m, id)
		}
		for _, h := range hits {
			if h.DocID != id {
				return fmt.Errorf("search %q: hit %q from document %q, want only %q", m, h.ChunkID, h.DocID, id)
			}
		}
	}
	for _, m := range gone {
		hits, err := e.Search(ctx, name, data.Query{Text: m, TopK: 10, Mode: data.ModeBM25})
		if err != nil {
			return fmt.Errorf("search %q: %w", m, err)
		}
		if len(hits) > 0 {
			return fmt.Errorf("search %q (a deleted or replaced version) returned %q", m, hits[0].ChunkID)
		}
	}
	return nil
}

// markerOf returns the version marker a generated text starts with.
func markerOf(text string) string {
	f := strings.Fields(text)
	if len(f) == 0 {
		return ""
	}
	return strings.ToLower(f[0][:1]) + f[0][1:]
}

// checkVectors checks that the vector index holds each stored chunk's own
// vector: a search with it finds the chunk with a cosine score of ~1. (It
// asks for the top 10 at a wide search breadth, so HNSW's approximation on
// indexes above the exact-search threshold does not count as a loss.)
func checkVectors(ctx context.Context, e *index.Engine, name string, st state, dims int) error {
	for _, d := range st {
		for _, c := range d.Chunks {
			v := chunkVector(c.ID, c.Text, dims)
			hits, err := e.Search(ctx, name, data.Query{Vector: v, TopK: 10, Ef: 400, Mode: data.ModeVector})
			if err != nil {
				return fmt.Errorf("vector search for %q: %w", c.ID, err)
			}
			found := false
			for _, h := range hits {
				if h.ChunkID == c.ID {
					found = true
					if h.Score < 0.999 {
						return fmt.Errorf("vector search with %q's vector scores it %.4f: the index holds another vector for it", c.ID, h.Score)
					}
				}
			}
			if !found {
				got := "nothing"
				if len(hits) > 0 {
					got = fmt.Sprintf("%q (score %.3f)", hits[0].ChunkID, hits[0].Score)
				}
				return fmt.Errorf("vector search with %q's vector did not find it; best was %s", c.ID, got)
			}
		}
	}
	return nil
}

// checkIndex runs Engine.Check and fails on any disagreement.
func checkIndex(ctx context.Context, e *index.Engine, name string) error {
	rep, err := e.Check(ctx, name)
	if err != nil {
		return fmt.Errorf("check %s: %w", name, err)
	}
	if !rep.OK() {
		return fmt.Errorf("check %s: %v", name, rep.Problems)
	}
	return nil
}

// ---- the in-process vector writer, run as a child process ----

// childOp is one step of the vector writer's script.
type childOp struct {
	Kind string    `json:"kind"` // put, delete, reindex, flush
	Docs []docSpec `json:"docs,omitempty"`
	IDs  []string  `json:"ids,omitempty"`
}

type docSpec struct {
	ID        string `json:"id"`
	Ver       int    `json:"ver"`
	Sentences int    `json:"sentences"`
}

const (
	vecIndex = "vec"
	vecDims  = 16
)

var vecChunk = ingest.ChunkOptions{Size: 32, Overlap: 4}

// vecDoc is the document (with chunk vectors) the vector writer writes.
func vecDoc(s docSpec) data.Document {
	d := expectDoc(s.ID, "vector doc "+s.ID, docText(s.ID, s.Ver, s.Sentences), vecChunk)
	for i := range d.Chunks {
		d.Chunks[i].Vector = chunkVector(d.Chunks[i].ID, d.Chunks[i].Text, vecDims)
	}
	return d
}

// childMain opens the engine, runs the script and prints "ack N" after op
// N is durable. The parent kills it at a random moment.
func childMain() int {
	dir, script := os.Getenv("RAGD_REL_DIR"), os.Getenv("RAGD_REL_SCRIPT")
	var snap int
	fmt.Sscan(os.Getenv("RAGD_REL_SNAPSHOT"), &snap)
	b, err := os.ReadFile(script)
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	var ops []childOp
	if err := json.Unmarshal(b, &ops); err != nil {
		fmt.Println("err", err)
		return 1
	}
	ctx := context.Background()
	e, err := index.Open(ctx, index.Options{Dir: dir, SnapshotEvery: snap})
	if err != nil {
		fmt.Println("err open:", err)
		return 1
	}
	fmt.Println("open")
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: vecIndex, Dims: vecDims, Metric: data.Cosine}); err != nil && !errors.Is(err, data.ErrExists) {
		fmt.Println("err create:", err)
		return 1
	}
	for i, op := range ops {
		switch op.Kind {
		case "put":
			docs := make([]data.Document, len(op.Docs))
			for j, s := range op.Docs {
				docs[j] = vecDoc(s)
			}
			_, err = e.PutDocuments(ctx, vecIndex, docs, false)
		case "delete":
			_, _, err = e.DeleteDocuments(ctx, vecIndex, op.IDs)
		case "reindex":
			_, err = e.Reindex(ctx, vecIndex)
		case "flush":
			err = e.Flush()
		}
		if err != nil {
			fmt.Printf("err op %d (%s): %v\n", i, op.Kind, err)
			return 1
		}
		fmt.Printf("ack %d\n", i)
	}
	if err := e.Close(); err != nil {
		fmt.Println("err close:", err)
		return 1
	}
	fmt.Println("done")
	return 0
}

// TestChunkLayoutCheck keeps the model-independent chunk check honest: it
// accepts what the chunker makes and rejects chunks of another version.
func TestChunkLayoutCheck(t *testing.T) {
	for _, opts := range []ingest.ChunkOptions{kwChunk, {Size: 48, Overlap: 4}, {}} {
		for n := 1; n < 15; n++ {
			d := expectDoc("d01", "t", docText("d01", n, n), opts)
			if msg := diffChunkLayout(d); msg != "" {
				t.Fatalf("opts %+v, %d sentences: %s", opts, n, msg)
			}
			if len(d.Chunks) < 2 {
				continue
			}
			old := expectDoc("d01", "t", docText("d01", n+100, n), opts)
			mixed := d
			mixed.Chunks = append(append([]data.Chunk(nil), d.Chunks[:len(d.Chunks)-1]...), old.Chunks[len(old.Chunks)-1])
			mixed.Chunks[len(mixed.Chunks)-1].ID = data.ChunkID("d01", len(mixed.Chunks)-1)
			mixed.Chunks[len(mixed.Chunks)-1].Ordinal = len(mixed.Chunks) - 1
			if diffChunkLayout(mixed) == "" {
				t.Fatalf("a chunk of another version passed the layout check")
			}
			if diffChunkLayout(data.Document{ID: d.ID, Text: d.Text, Chunks: d.Chunks[:len(d.Chunks)-1]}) == "" {
				t.Fatalf("a document missing its last chunk passed the layout check")
			}
		}
	}
}
