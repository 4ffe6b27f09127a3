//go:build weaviate

package weaviate

// These tests need a running Weaviate: scripts/weaviate/test.sh starts one
// node (and a 3-node cluster for the failover test) and runs them with
// -tags weaviate. Without the tag they are not built.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/aisearch/state/statetest"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/index/backendtest"
)

// The backend is the shared state.Store of replicas on one cluster.
var _ state.Store = (*Backend)(nil)

func liveConfig(t *testing.T) Config {
	t.Helper()
	url := os.Getenv("RAGD_WEAVIATE_URL")
	if url == "" {
		t.Fatal("RAGD_WEAVIATE_URL is not set: run scripts/weaviate/test.sh, which starts Weaviate for these tests")
	}
	return Config{URL: url, GRPC: os.Getenv("RAGD_WEAVIATE_GRPC"), Timeout: 30 * time.Second}
}

func openLive(t *testing.T, cfg Config) *Backend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// uniquePrefix keeps runs against a shared node apart.
func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("t%x-", time.Now().UnixNano()&0xffffffffff)
}

func TestWeaviateBackendConformance(t *testing.T) {
	cfg := liveConfig(t)
	backendtest.Run(t, func(t *testing.T) (index.Backend, string) {
		return openLive(t, cfg), uniquePrefix(t)
	})
	t.Run("state", func(t *testing.T) {
		statetest.Run(t, openLive(t, cfg), uniquePrefix(t))
	})
	// A write another replica overwrote between the version check and the
	// read-back is reported as a conflict, not as success.
	t.Run("state-overwritten", func(t *testing.T) {
		a, b := openLive(t, cfg), openLive(t, cfg)
		ctx := context.Background()
		key := uniquePrefix(t) + "race"
		v1, err := a.SaveState(ctx, key, []byte("a1"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.SaveState(ctx, key, []byte("b2"), v1); err != nil {
			t.Fatal(err)
		}
		if _, err := a.SaveState(ctx, key, []byte("a2"), v1); !errors.Is(err, data.ErrConflict) {
			t.Fatalf("stale save from replica a: %v, want ErrConflict", err)
		}
		if v, _, _ := a.LoadState(ctx, key); string(v) != "b2" {
			t.Fatalf("document %q, want b's", v)
		}
	})
}

// TestWeaviateDefaultReplication: with no replication configured, an index
// created on the 3-node cluster gets 3 replicas (the factor follows the
// node count seen when the index is created).
func TestWeaviateDefaultReplication(t *testing.T) {
	url := os.Getenv("RAGD_WEAVIATE_CLUSTER_URL")
	if url == "" {
		t.Fatal("RAGD_WEAVIATE_CLUSTER_URL is not set: run scripts/weaviate/test.sh, which starts a 3-node cluster for this test")
	}
	b := openLive(t, Config{URL: url, GRPC: os.Getenv("RAGD_WEAVIATE_CLUSTER_GRPC")})
	ctx := context.Background()
	name := uniquePrefix(t) + "defrep"
	if _, err := b.CreateIndex(ctx, data.IndexConfig{Name: name, Dims: backendtest.Dims, Metric: data.Cosine}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.DropIndex(context.Background(), name) })
	for _, cls := range []string{chunkClass(name), docClass(name)} {
		c, err := b.c.Schema().ClassGetter().WithClassName(cls).Do(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.ReplicationConfig == nil || c.ReplicationConfig.Factor != 3 {
			t.Fatalf("%s: replication %+v on 3 nodes, want factor 3", cls, c.ReplicationConfig)
		}
	}
}

// TestWeaviateFailover runs on a 3-node cluster (RAGD_WEAVIATE_CLUSTER_DIR,
// started by scripts/weaviate/cluster.sh): with replication 3, one node is
// killed in the middle of a query load, every query must still succeed and
// writes go on; after a restart the node catches up with what it missed.
func TestWeaviateFailover(t *testing.T) {
	dir := os.Getenv("RAGD_WEAVIATE_CLUSTER_DIR")
	url := os.Getenv("RAGD_WEAVIATE_CLUSTER_URL")
	if dir == "" || url == "" {
		t.Fatal("RAGD_WEAVIATE_CLUSTER_DIR/_URL are not set: run scripts/weaviate/test.sh, which starts a 3-node cluster for this test")
	}
	script := os.Getenv("RAGD_WEAVIATE_SCRIPT")
	b := openLive(t, Config{URL: url, GRPC: os.Getenv("RAGD_WEAVIATE_CLUSTER_GRPC"), Replication: 3, Consistency: "QUORUM", Timeout: 30 * time.Second})
	if b.Nodes() != 3 {
		t.Fatalf("cluster has %d nodes, want 3", b.Nodes())
	}
	ctx := context.Background()
	name := uniquePrefix(t) + "failover"
	if _, err := b.CreateIndex(ctx, data.IndexConfig{Name: name, Dims: backendtest.Dims, Metric: data.Cosine}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.DropIndex(context.Background(), name) })
	// Writes while a replica is down wait for Weaviate's coordinator to give
	// up on it (about 20 s per batch), so the writer gets a longer timeout.
	writer := openLive(t, Config{URL: url, GRPC: os.Getenv("RAGD_WEAVIATE_CLUSTER_GRPC"), Replication: 3, Consistency: "QUORUM", Timeout: 3 * time.Minute})
	write := func(from, to int) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("write %d..%d took %s", from, to, time.Since(start)) }()
		if _, err := writer.PutDocuments(ctx, name, makeDocs(from, to), false); err != nil {
			t.Fatalf("write %d..%d: %v", from, to, err)
		}
	}
	write(0, 300)

	var queries, failures atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := data.Query{Text: fmt.Sprintf("topic%d", (i+w)%13), Mode: data.ModeBM25, TopK: 5}
				if i%2 == 1 {
					q = data.Query{Vector: backendtest.Vector(uint64(i%300+1) * 100), Mode: data.ModeVector, TopK: 5}
				}
				hits, err := b.Search(ctx, name, q)
				queries.Add(1)
				if err == nil && len(hits) == 0 {
					err = fmt.Errorf("query %+v found nothing", q)
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	before := queries.Load()
	if out, err := exec.Command("bash", script, "kill", dir, "2").CombinedOutput(); err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("kill node 2: %v\n%s", err, out)
	}
	killed := time.Now()
	// Let the cluster notice the dead node (queries keep running meanwhile),
	// then write: QUORUM writes succeed with 2 of 3 replicas.
	for time.Since(killed) < time.Minute {
		if st, err := b.nodeStatus(ctx, "weaviate-2"); err == nil && st != "HEALTHY" {
			t.Logf("cluster saw node 2 as %s after %s", st, time.Since(killed).Round(time.Millisecond))
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(time.Second)
	// A write while the replica is down. Weaviate 1.35.2 finished such a
	// QUORUM batch in 0.25-0.7 s in some runs and stalled it for minutes in
	// others (its coordinator waits on the dead replica), so the write is
	// bounded and its outcome logged; what the test requires is that
	// queries keep succeeding and that the node catches up afterwards.
	wctx, wcancel := context.WithTimeout(ctx, 45*time.Second)
	wstart := time.Now()
	_, werr := writer.PutDocuments(wctx, name, makeDocs(300, 400), false)
	wcancel()
	if werr != nil {
		t.Logf("write with node 2 down did not finish in %s: %v", time.Since(wstart).Round(time.Millisecond), werr)
	} else {
		t.Logf("write with node 2 down took %s", time.Since(wstart).Round(time.Millisecond))
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	after := queries.Load()
	t.Logf("%d queries (%d after the kill), %d failed", after, after-before, failures.Load())
	if failures.Load() > 0 {
		t.Errorf("%d of %d queries failed with a node down; first: %v", failures.Load(), after, firstErr.Load())
	}
	if after-before < 20 {
		t.Errorf("only %d queries ran after the kill", after-before)
	}
	if out, err := exec.Command("bash", script, "restart", dir, "2").CombinedOutput(); err != nil {
		t.Fatalf("restart node 2: %v\n%s", err, out)
	}
	if werr == nil {
		// Catch-up: node 2's replica gets what it missed while down
		// (async replication), with no write touching it.
		waitReplicas(t, b, chunkClass(name), 400, "weaviate-2")
	}
	// The cluster is whole again: the documents land on all three replicas
	// (re-sent when the write above did not finish).
	write(300, 400)
	waitReplicas(t, b, chunkClass(name), 400, "weaviate-0", "weaviate-1", "weaviate-2")
	info, err := b.Index(ctx, name)
	if err != nil || info.Stats.Documents != 400 || info.Stats.Chunks != 400 {
		t.Errorf("after restart: %+v %v", info.Stats, err)
	}
}

// nodeObjects is the number of objects a node holds for a collection (the
// sum over its shards), from Weaviate's verbose node status.
func (b *Backend) nodeObjects(ctx context.Context, cls, node string) (int64, error) {
	res, err := b.c.Cluster().NodesStatusGetter().WithClass(cls).WithOutput("verbose").Do(ctx)
	if err != nil {
		return 0, wrap("nodes", err)
	}
	for _, n := range res.Nodes {
		if n.Name != node {
			continue
		}
		var total int64
		for _, s := range n.Shards {
			if s.Class == cls {
				total += s.ObjectCount
			}
		}
		return total, nil
	}
	return 0, fmt.Errorf("node %q: %w", node, data.ErrNotFound)
}

// nodeStatus is a node's status in Weaviate's node list ("" when absent).
func (b *Backend) nodeStatus(ctx context.Context, node string) (string, error) {
	res, err := b.c.Cluster().NodesStatusGetter().Do(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range res.Nodes {
		if n.Name == node && n.Status != nil {
			return *n.Status, nil
		}
	}
	return "", nil
}

func makeDocs(from, to int) []data.Document {
	var docs []data.Document
	for i := from; i < to; i++ {
		docs = append(docs, backendtest.Doc(fmt.Sprintf("doc-%04d", i), uint64(i+1), map[string]any{"part": float64(i % 7)},
			fmt.Sprintf("document %d about topic%d and common words", i, i%13)))
	}
	return docs
}

// waitReplicas waits (up to 3 minutes) until each node holds want objects
// of a collection.
func waitReplicas(t *testing.T, b *Backend, cls string, want int64, nodes ...string) {
	t.Helper()
	start := time.Now()
	for _, node := range nodes {
		for {
			n, err := b.nodeObjects(context.Background(), cls, node)
			if err == nil && n == want {
				break
			}
			if time.Since(start) > 3*time.Minute {
				t.Fatalf("%s holds %d objects of %s (%v), want %d", node, n, cls, err, want)
			}
			time.Sleep(2 * time.Second)
		}
	}
	t.Logf("%v hold %d objects after %s", nodes, want, time.Since(start).Round(time.Millisecond))
}

// TestWeaviateLargeDocuments: documents and state documents over the 4 MiB
// cap the client puts on gRPC replies are read whole: a 5 MB text in 600
// chunks, one of five 1 MB chunks, and a 6 MB state document.
func TestWeaviateLargeDocuments(t *testing.T) {
	b := openLive(t, liveConfig(t))
	ctx := context.Background()
	name := uniquePrefix(t) + "large"
	if _, err := b.CreateIndex(ctx, data.IndexConfig{Name: name, Dims: backendtest.Dims, Metric: data.Cosine}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.DropIndex(context.Background(), name) })
	piece := func(n, seed int) string {
		var sb strings.Builder
		for sb.Len() < n {
			fmt.Fprintf(&sb, "word%d ", (sb.Len()*7+seed)%9973)
		}
		return sb.String()[:n]
	}
	var many, huge []string
	for i := range 600 {
		many = append(many, piece(9000, i))
	}
	for i := range 5 {
		huge = append(huge, piece(1<<20-64, i)) // ragd's largest chunk is 1 MiB
	}
	docs := []data.Document{backendtest.Doc("many", 1, nil, many...), backendtest.Doc("huge", 2, nil, huge...)}
	if _, err := b.PutDocuments(ctx, name, docs, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range docs {
		got, err := b.DocumentVectors(ctx, name, want.ID)
		if err != nil {
			t.Fatalf("%s: %v", want.ID, err)
		}
		if got.Text != want.Text || len(got.Chunks) != len(want.Chunks) {
			t.Fatalf("%s: text %d bytes (want %d), %d chunks (want %d)", want.ID, len(got.Text), len(want.Text), len(got.Chunks), len(want.Chunks))
		}
		for i, c := range got.Chunks {
			if c.Text != want.Chunks[i].Text || c.Ordinal != i || len(c.Vector) != backendtest.Dims {
				t.Fatalf("%s chunk %d differs", want.ID, i)
			}
		}
	}
	key := uniquePrefix(t) + "bigstate"
	big := []byte(`"` + piece(6<<20, 3) + `"`)
	v, err := b.SaveState(ctx, key, big, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, ver, err := b.LoadState(ctx, key)
	if err != nil || ver != v || string(got) != string(big) {
		t.Fatalf("6 MB state document: %d bytes, version %d (want %d), %v", len(got), ver, v, err)
	}
}
