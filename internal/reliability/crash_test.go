package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/ingest"
)

// Index names and chunking used by the crash test.
const (
	kwIndex    = "kw"    // keyword only, written over HTTP by `ragd serve`
	semIndex   = "sem"   // use-lite vectors, written over HTTP by `ragd serve`
	filesIndex = "files" // keyword only, written by `ragd ingest --sync`
)

var (
	kwChunk    = ingest.ChunkOptions{Size: 32, Overlap: 4}
	semChunk   = ingest.ChunkOptions{Size: 48, Overlap: 4}
	filesChunk = ingest.ChunkOptions{Size: 32, Overlap: 4}
)

const fileSlots = 60

// crashRun is the state of one TestCrashKillRestart run: the expected
// contents of every index (what acknowledged writes produced) and figures.
type crashRun struct {
	t    *testing.T
	ctx  context.Context
	rng  *rand.Rand // the writes and the kill points (counted in acknowledgements)
	krng *rand.Rand // the delay after the last counted acknowledgement
	vrng *rand.Rand // which gone versions the checks search for
	bin  string
	node string // "" when use-lite is not installed: no sem index
	dir  string
	env  []string

	want    map[string]state // index -> expected documents
	written map[string]map[string][]string
	nextVer map[string]int

	filesDir   string
	files      map[int]int // slot -> version on disk (absent: no file)
	ingestTook time.Duration

	// figures
	iterations, kills, acked, inFlight, verified, checksCLI int
	byKind                                                  map[string]int
	kindTime                                                map[string]time.Duration
	lost                                                    int
}

func TestCrashKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes; skipped with -short")
	}
	seed := testSeed(t)
	iters := *itersFlg
	if iters == 0 {
		iters = 25
		if *long {
			iters = 300
		}
	}
	r := &crashRun{
		t: t, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, 0x5eed)),
		krng: rand.New(rand.NewPCG(seed, 0xc1a5)), vrng: rand.New(rand.NewPCG(seed, 0x7e57)),
		bin: ragdBinary(t), node: nodeDir(t), dir: t.TempDir(),
		want:    map[string]state{kwIndex: {}, semIndex: {}, vecIndex: {}, filesIndex: {}},
		written: map[string]map[string][]string{kwIndex: {}, semIndex: {}, vecIndex: {}, filesIndex: {}},
		nextVer: map[string]int{}, files: map[int]int{}, byKind: map[string]int{}, kindTime: map[string]time.Duration{},
	}
	r.env = []string{"RAGD_DATA_DIR=" + r.dir, "RAGD_MODEL=none"}
	if r.node != "" {
		r.env = append(r.env, "RAGD_NODE_DIR="+r.node)
	} else {
		t.Log("use-lite is not installed (node/node_modules): the sem index (real embeddings over HTTP) is left out")
	}
	r.filesDir = filepath.Join(t.TempDir(), "corpus")
	started := time.Now()
	r.setup()
	for i := 0; i < iters && !t.Failed(); i++ {
		r.iterations++
		kind := "serve"
		switch x := r.rng.IntN(100); {
		case x < 25:
			kind = "vector-writer"
		case x < 45:
			kind = "ingest"
		}
		r.byKind[kind]++
		t0 := time.Now()
		switch kind {
		case "serve":
			r.serveIteration(i)
		case "vector-writer":
			r.childIteration(i)
		case "ingest":
			r.ingestIteration(i)
		}
		r.kindTime[kind] += time.Since(t0).Round(time.Millisecond)
	}
	t.Logf("seed %d: %d kill/restart iterations (%v), %d SIGKILLs, %d acknowledged writes, %d writes in flight at a kill, "+
		"%d recoveries verified (%d also by `ragd check`), data lost: %d documents, %s (time by kind %v)",
		seed, r.iterations, r.byKind, r.kills, r.acked, r.inFlight, r.verified, r.checksCLI, r.lost, time.Since(started).Round(time.Millisecond), r.kindTime)
}

// setup creates the four indexes and some first content without kills.
func (r *crashRun) setup() {
	t := r.t
	p, base := r.startServe()
	r.httpJSON(base, "POST", "/v1/indexes", map[string]any{"name": kwIndex, "model": "none", "chunk_size": kwChunk.Size, "chunk_overlap": kwChunk.Overlap}, http.StatusCreated)
	if r.node != "" {
		r.httpJSON(base, "POST", "/v1/indexes", map[string]any{"name": semIndex, "model": "use-lite", "chunk_size": semChunk.Size, "chunk_overlap": semChunk.Overlap}, http.StatusCreated)
	}
	p.kill()
	// The vector writer with an empty script creates its index.
	r.runChild(nil, 0, -1)
	for slot := 0; slot < fileSlots; slot++ {
		r.writeFile(slot)
	}
	t0 := time.Now()
	p = r.startIngest()
	<-p.done
	r.ingestTook = time.Since(t0)
	if p.err != nil {
		t.Fatalf("first ingest: %v\n%s", p.err, p.out)
	}
	r.want[filesIndex] = r.expectedFiles()
	for id, d := range r.want[filesIndex] {
		r.written[filesIndex][id] = append(r.written[filesIndex][id], markerOf(d.Text))
	}
	r.verify(nil, nil)
}

// ---- ragd serve ----

func (r *crashRun) startServe() (*proc, string) {
	t := r.t
	for attempt := 0; attempt < 3; attempt++ {
		addr := freePort(t)
		p := start(t, r.bin, []string{"serve", "--addr", addr, "--warm=false"}, r.env, nil)
		base := "http://" + addr
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && !p.exited() {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p, base
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		p.kill()
		if !strings.Contains(p.out.String(), "address already in use") {
			t.Fatalf("ragd serve did not become ready: %v\n%s", p.err, p.out)
		}
	}
	t.Fatal("ragd serve: no free port")
	return nil, ""
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// httpDo sends one request; it returns the status or a transport error.
func httpDo(base, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (r *crashRun) httpJSON(base, method, path string, body any, want int) []byte {
	r.t.Helper()
	code, b, err := httpDo(base, method, path, body)
	if err != nil || code != want {
		r.t.Fatalf("%s %s: status %d, err %v, body %s (want %d)", method, path, code, err, b, want)
	}
	return b
}

// op is one write the serve driver sends.
type op struct {
	index string
	put   []data.Document // documents to add or replace
	del   string          // document to delete
}

func (r *crashRun) newDoc(index, id string, maxSentences int, opts ingest.ChunkOptions) data.Document {
	r.nextVer[index+"/"+id]++
	ver := r.nextVer[index+"/"+id]
	d := expectDoc(id, fmt.Sprintf("%s %s version %d", index, id, ver), docText(id, ver, 1+r.rng.IntN(maxSentences)), opts)
	if index == semIndex {
		// The model's tokenizer decides the cuts: check the layout only.
		d.Chunks = nil
	}
	return d
}

func (r *crashRun) randomOp(semOn bool) op {
	o := op{index: kwIndex}
	prefix, pool, maxS, opts := "d", 24, 10, kwChunk
	if semOn && r.rng.IntN(3) == 0 {
		o.index, prefix, pool, maxS, opts = semIndex, "s", 10, 6, semChunk
	}
	if r.rng.IntN(10) < 3 {
		o.del = fmt.Sprintf("%s%02d", prefix, r.rng.IntN(pool))
		return o
	}
	seen := map[string]bool{}
	for n := 1 + r.rng.IntN(3); n > 0; n-- {
		id := fmt.Sprintf("%s%02d", prefix, r.rng.IntN(pool))
		if seen[id] {
			continue
		}
		seen[id] = true
		o.put = append(o.put, r.newDoc(o.index, id, maxS, opts))
	}
	return o
}

// apply returns the index state after the op.
func (o op) apply(s state) state {
	s = s.clone()
	if o.del != "" {
		delete(s, o.del)
	}
	for _, d := range o.put {
		s[d.ID] = d
	}
	return s
}

// send performs the op over HTTP. ok is false on a transport error (the
// server was killed).
func (o op) send(base string, before state) (ok bool, err error) {
	if o.del != "" {
		code, b, err := httpDo(base, "DELETE", "/v1/indexes/"+o.index+"/documents/"+o.del, nil)
		if err != nil {
			return false, nil //nolint:nilerr // a transport error means the server was killed; ok=false says so
		}
		_, present := before[o.del]
		if (present && code != http.StatusNoContent) || (!present && code != http.StatusNotFound) {
			return true, fmt.Errorf("DELETE %s/%s (present %v): status %d: %s", o.index, o.del, present, code, b)
		}
		return true, nil
	}
	docs := make([]map[string]any, len(o.put))
	for i, d := range o.put {
		docs[i] = map[string]any{"id": d.ID, "title": d.Title, "text": d.Text, "metadata": map[string]any{"n": len(d.Chunks)}}
	}
	code, b, err := httpDo(base, "POST", "/v1/indexes/"+o.index+"/documents", map[string]any{"documents": docs})
	if err != nil {
		return false, nil //nolint:nilerr // a transport error means the server was killed; ok=false says so
	}
	if code != http.StatusOK {
		return true, fmt.Errorf("POST %s documents: status %d: %s", o.index, code, b)
	}
	var res struct{ Written int }
	if err := json.Unmarshal(b, &res); err != nil || res.Written != len(o.put) {
		return true, fmt.Errorf("POST %s documents: wrote %d of %d (%s)", o.index, res.Written, len(o.put), b)
	}
	return true, nil
}

// serveIteration starts `ragd serve`, checks a search over HTTP, sends
// writes one at a time and kills the server after a random number of
// acknowledgements plus a random delay.
func (r *crashRun) serveIteration(iter int) {
	t := r.t
	p, base := r.startServe()
	r.searchOverHTTP(base)
	semOn := r.rng.IntN(4) == 0 && r.node != ""
	killAfter := r.rng.IntN(12)
	var (
		mu       sync.Mutex
		pending  *op
		stopping atomic.Bool
		acks     = make(chan struct{}, 1000)
		done     = make(chan error, 1)
	)
	ops := make([]op, 40)
	for i := range ops {
		ops[i] = r.randomOp(semOn)
	}
	go func() {
		for i := range ops {
			o := ops[i]
			mu.Lock()
			before := r.want[o.index]
			pending = &o
			mu.Unlock()
			ok, err := o.send(base, before)
			if !ok || stopping.Load() {
				done <- nil // killed: the op stays pending
				return
			}
			if err != nil {
				done <- err
				return
			}
			mu.Lock()
			r.recordWritten(o)
			r.want[o.index] = o.apply(r.want[o.index])
			pending = nil
			r.acked++
			mu.Unlock()
			acks <- struct{}{}
		}
		done <- nil
	}()
	var driverErr error
	finished := false
	for n := 0; n < killAfter && !finished; n++ {
		select {
		case <-acks:
		case driverErr = <-done:
			finished = true
		}
	}
	if !finished {
		time.Sleep(time.Duration(r.krng.IntN(40_000)) * time.Microsecond)
	}
	stopping.Store(true)
	p.kill()
	r.kills++
	if !finished {
		driverErr = <-done
	}
	if driverErr != nil {
		t.Fatalf("iteration %d: %v\nserver output:\n%s", iter, driverErr, p.out)
	}
	var alt map[string]state
	if pending != nil {
		r.inFlight++
		r.recordWritten(*pending)
		alt = map[string]state{pending.index: pending.apply(r.want[pending.index])}
	}
	r.verify(alt, nil)
}

func (r *crashRun) recordWritten(o op) {
	for _, d := range o.put {
		r.written[o.index][d.ID] = append(r.written[o.index][d.ID], markerOf(d.Text))
	}
}

// searchOverHTTP checks, on a freshly restarted server, that a keyword
// search for a stored document's marker returns that document only.
func (r *crashRun) searchOverHTTP(base string) {
	for id, d := range r.want[kwIndex] {
		m := markerOf(d.Text)
		b := r.httpJSON(base, "POST", "/v1/indexes/"+kwIndex+"/search", map[string]any{"query": m, "top_k": 50, "mode": "bm25"}, http.StatusOK)
		var res struct{ Hits []data.Hit }
		if err := json.Unmarshal(b, &res); err != nil {
			r.t.Fatal(err)
		}
		if len(res.Hits) == 0 {
			r.t.Fatalf("after restart, HTTP search %q found nothing (want %s)", m, id)
		}
		for _, h := range res.Hits {
			if h.DocID != id {
				r.t.Fatalf("after restart, HTTP search %q returned %s, want only %s", m, h.DocID, id)
			}
		}
		return // one is enough: the in-process check covers the rest
	}
}

// ---- the vector writer (child process) ----

func (r *crashRun) childIteration(iter int) {
	s := r.want[vecIndex]
	var ops []childOp
	var states []state // states[i] = expected state after ops[0..i]
	for i := 0; i < 40; i++ {
		var o childOp
		switch x := r.rng.IntN(100); {
		case x < 60:
			seen := map[string]bool{}
			for n := 1 + r.rng.IntN(4); n > 0; n-- {
				id := fmt.Sprintf("v%02d", r.rng.IntN(16))
				if seen[id] {
					continue
				}
				seen[id] = true
				r.nextVer[vecIndex+"/"+id]++
				o.Docs = append(o.Docs, docSpec{ID: id, Ver: r.nextVer[vecIndex+"/"+id], Sentences: 1 + r.rng.IntN(8)})
			}
			o.Kind = "put"
		case x < 85:
			o.Kind, o.IDs = "delete", []string{fmt.Sprintf("v%02d", r.rng.IntN(16)), fmt.Sprintf("v%02d", r.rng.IntN(16))}
		case x < 92:
			o.Kind = "reindex"
		default:
			o.Kind = "flush"
		}
		s = s.clone()
		for _, id := range o.IDs {
			delete(s, id)
		}
		for _, spec := range o.Docs {
			d := vecDoc(spec)
			for i := range d.Chunks {
				d.Chunks[i].Vector = nil
			}
			s[spec.ID] = d
		}
		ops = append(ops, o)
		states = append(states, s)
	}
	acked := r.runChild(ops, 3+r.rng.IntN(40), r.rng.IntN(len(ops)))
	r.acked += acked
	for _, o := range ops[:min(acked+1, len(ops))] {
		for _, spec := range o.Docs {
			r.written[vecIndex][spec.ID] = append(r.written[vecIndex][spec.ID], marker(spec.ID, spec.Ver))
		}
	}
	var alt map[string]state
	if acked > 0 {
		r.want[vecIndex] = states[acked-1]
	}
	if acked < len(ops) {
		r.inFlight++
		alt = map[string]state{vecIndex: states[acked]}
	}
	r.verify(alt, nil)
}

// runChild runs the vector writer with a script; when killAfter >= 0 it is
// killed after that many acknowledgements plus a random delay. It returns
// how many ops were acknowledged.
func (r *crashRun) runChild(ops []childOp, snapshotEvery, killAfter int) int {
	t := r.t
	script := filepath.Join(t.TempDir(), "script.json")
	b, _ := json.Marshal(ops)
	if err := os.WriteFile(script, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64
	ackCh := make(chan struct{}, len(ops)+1)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, self, []string{"-test.run=^$"}, []string{childEnv + "=1", "RAGD_REL_DIR=" + r.dir, "RAGD_REL_SCRIPT=" + script,
		fmt.Sprintf("RAGD_REL_SNAPSHOT=%d", snapshotEvery)}, func(line string) {
		if strings.HasPrefix(line, "ack ") {
			acked.Add(1)
			ackCh <- struct{}{}
		}
	})
	if killAfter >= 0 {
		for n := 0; n < killAfter; n++ {
			select {
			case <-ackCh:
			case <-p.done:
				n = killAfter
			}
		}
		time.Sleep(time.Duration(r.krng.IntN(30_000)) * time.Microsecond)
		if !p.exited() {
			p.kill()
			r.kills++
		}
	}
	<-p.done
	<-p.lines // every "ack" the child wrote before it died is counted
	if !p.killed && p.err != nil {
		t.Fatalf("vector writer failed: %v\n%s", p.err, p.out)
	}
	if strings.Contains(p.out.String(), "err") && !p.killed {
		t.Fatalf("vector writer: %s", p.out)
	}
	return int(acked.Load())
}

// ---- ragd ingest ----

func (r *crashRun) filePath(slot int) string {
	return filepath.Join(r.filesDir, fmt.Sprintf("f%02d.txt", slot))
}

func (r *crashRun) writeFile(slot int) {
	r.files[slot]++
	id := fmt.Sprintf("f%02d", slot)
	text := docText(id, r.files[slot], 1+r.rng.IntN(12))
	if err := os.MkdirAll(r.filesDir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(r.filePath(slot), []byte(text+"\n"), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *crashRun) startIngest() *proc {
	return start(r.t, r.bin, []string{"ingest", "--index", filesIndex, "--sync", "--quiet",
		"--chunk-size", fmt.Sprint(filesChunk.Size), "--chunk-overlap", fmt.Sprint(filesChunk.Overlap), r.filesDir}, r.env, nil)
}

// expectedFiles is what an ingest of the corpus folder must store: each
// file loaded and chunked by the same functions ragd ingest uses.
func (r *crashRun) expectedFiles() state {
	s := state{}
	ents, err := os.ReadDir(r.filesDir)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range ents {
		ps, err := ingest.LoadFile(r.ctx, filepath.Join(r.filesDir, e.Name()), ingest.LoadOptions{})
		if err != nil || len(ps) != 1 {
			r.t.Fatalf("load %s: %v (%d docs)", e.Name(), err, len(ps))
		}
		d := ps[0].Doc
		d.Chunks = ingest.Chunk(ps[0], filesChunk)
		s[d.ID] = d
	}
	return s
}

func (r *crashRun) ingestIteration(iter int) {
	before := r.want[filesIndex]
	for slot := 0; slot < fileSlots; slot++ {
		_, exists := r.files[slot]
		exists = exists && fileExists(r.filePath(slot))
		switch x := r.rng.IntN(100); {
		case exists && x < 30, !exists && x < 10:
			r.writeFile(slot)
		case exists && x < 36:
			if err := os.Remove(r.filePath(slot)); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	after := r.expectedFiles()
	for id, d := range after {
		if diffDoc(before[id], d) != "" {
			r.written[filesIndex][id] = append(r.written[filesIndex][id], markerOf(d.Text))
		}
	}
	p := r.startIngest()
	delay := time.Duration(r.krng.Int64N(int64(r.ingestTook)*6/5 + 1))
	select {
	case <-p.done:
	case <-time.After(delay):
		p.kill()
		r.kills++
	}
	<-p.done
	if !p.killed && p.err != nil {
		r.t.Fatalf("ingest: %v\n%s", p.err, p.out)
	}
	if !p.killed {
		r.acked++
		r.want[filesIndex] = after
		r.verify(nil, nil)
		return
	}
	r.inFlight++
	// Each document is wholly its old or its new version (or absent when
	// it was absent before or deleted by --sync).
	r.verify(nil, map[string][2]state{filesIndex: {before, after}})
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ---- recovery check ----

// verify reopens the data directory and checks every index against the
// expected state. alt holds, per index, the state after the write that was
// in flight at the kill (the store must match either). perDoc holds, per
// index, an old and a new state of which each document must match one.
func (r *crashRun) verify(alt map[string]state, perDoc map[string][2]state) {
	t := r.t
	ctx := r.ctx
	if r.verified%5 == 4 {
		// Every fifth recovery is done by the binary: `ragd check` opens,
		// replays and compares, and must exit 0.
		cmd := exec.Command(r.bin, "check")
		cmd.Env = append(hermeticEnv(t), r.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ragd check after a kill: %v\n%s", err, out)
		}
		r.checksCLI++
	}
	openCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	e, err := index.Open(openCtx, index.Options{Dir: r.dir})
	if err != nil {
		t.Fatalf("store does not open after a kill: %v", err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	r.verified++
	for _, name := range []string{kwIndex, semIndex, vecIndex, filesIndex} {
		if name == semIndex && r.node == "" {
			continue
		}
		got, err := readState(ctx, e, name)
		if err != nil {
			t.Fatalf("index %s: %v", name, err)
		}
		want := r.want[name]
		if pd, ok := perDoc[name]; ok {
			resolved := state{}
			for _, id := range unionIDs(pd[0], pd[1], got) {
				g, have := got[id]
				oldD, inOld := pd[0][id]
				newD, inNew := pd[1][id]
				switch {
				case have && inNew && diffDoc(g, newD) == "":
					resolved[id] = g
				case have && inOld && diffDoc(g, oldD) == "":
					resolved[id] = g
				case !have && (!inOld || !inNew):
				default:
					r.lost++
					t.Errorf("index %s: document %s is neither its old nor its new version (stored %v, old %v, new %v): %s",
						name, id, have, inOld, inNew, diffDoc(g, newD))
				}
			}
			r.want[name] = resolved
		} else if d := diffState(got, want); len(d) > 0 {
			if a, ok := alt[name]; ok && len(diffState(got, a)) == 0 {
				r.want[name] = a
			} else {
				r.lost += len(d)
				t.Errorf("index %s after a kill: %d documents differ from the acknowledged state: %v", name, len(d), d)
				if ok {
					t.Errorf("  ... and from the state with the in-flight write: %v", diffState(got, a))
				}
			}
		}
		if err := checkIndex(ctx, e, name); err != nil {
			t.Fatal(err)
		}
		if err := checkSearch(ctx, e, name, got, r.goneMarkers(name, got)); err != nil {
			t.Fatalf("index %s: %v", name, err)
		}
		info, err := e.Index(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		switch name {
		case vecIndex:
			if err := checkVectors(ctx, e, name, got, vecDims); err != nil {
				t.Fatalf("index %s: %v", name, err)
			}
			fallthrough
		case semIndex:
			if info.Stats.Vectors != info.Stats.Chunks {
				t.Fatalf("index %s: %d chunks but %d vectors", name, info.Stats.Chunks, info.Stats.Vectors)
			}
		}
	}
}

func unionIDs(ss ...state) []string {
	m := map[string]bool{}
	for _, s := range ss {
		for id := range s {
			m[id] = true
		}
	}
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// goneMarkers lists (up to 40) markers of versions that were written but
// are no longer stored: searching for them must find nothing.
func (r *crashRun) goneMarkers(name string, got state) []string {
	current := map[string]bool{}
	for _, d := range got {
		current[markerOf(d.Text)] = true
	}
	var gone []string
	for _, ms := range r.written[name] {
		for _, m := range ms {
			if !current[m] {
				gone = append(gone, m)
			}
		}
	}
	sort.Strings(gone)
	r.vrng.Shuffle(len(gone), func(i, j int) { gone[i], gone[j] = gone[j], gone[i] })
	return gone[:min(len(gone), 40)]
}
