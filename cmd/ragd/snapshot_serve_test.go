package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// snapClient calls a running server with a key and a deadline on every
// request, so a hung request fails the test instead of hanging it.
type snapClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (s snapClient) call(key, method, path, ctype, body string) (int, string, error) {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype == "" {
		ctype = "application/json"
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := s.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (s snapClient) must(key, method, path, ctype, body string, want int) string {
	s.t.Helper()
	st, b, err := s.call(key, method, path, ctype, body)
	if err != nil || st != want {
		s.t.Fatalf("%s %s: %d %v, want %d: %s", method, path, st, err, want, b)
	}
	return b
}

const cfBase = "/client/v4/accounts/acc1"

// TestServeSnapshotsUnderLoad is the hostile-input probe of snapshots on
// `ragd serve`: six concurrent POST /v1/snapshots on five indexes plus a
// Vectorize index, with document writes and Vectorize upserts in
// flight. Before the fix some snapshots never answered and every later
// write hung (snapshots took the indexes' write locks in map order). Now
// every request answers (201, or 503 with a JSON body when a snapshot
// cannot start in time), writes go on, no empty or partial snapshot
// folder is left, retention keeps the newest --snapshot-keep, snapshots
// need an admin key, shutdown with snapshots in flight finishes, and a
// restore brings back the whole state: documents, Vectorize metadata
// indexes, AI Search namespaces.
func TestServeSnapshotsUnderLoad(t *testing.T) {
	dataDir := cliEnv(t)
	admin := strings.TrimSpace(ragdOK(t, "keys", "create", "--scope", "admin"))
	writer := strings.TrimSpace(ragdOK(t, "keys", "create", "--scope", "write"))
	const keep = 4
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, exited, _, stderr := startServe(t, ctx, "--addr", "127.0.0.1:0", "--warm=false", "--snapshot-keep", fmt.Sprint(keep))
	s := snapClient{t: t, base: base, c: &http.Client{Timeout: 30 * time.Second}}

	const nIdx = 5
	doc := func(id, text string) string {
		return fmt.Sprintf(`{"documents":[{"id":%q,"text":%q}]}`, id, text)
	}
	for i := 0; i < nIdx; i++ {
		s.must(writer, "POST", "/v1/indexes", "", fmt.Sprintf(`{"name":"ix%d","model":"none"}`, i), http.StatusCreated)
		s.must(writer, "POST", fmt.Sprintf("/v1/indexes/ix%d/documents", i), "", doc("d0", "first document about rivers"), http.StatusOK)
	}
	vec := cfBase + "/vectorize/v2/indexes"
	s.must(writer, "POST", vec, "", `{"name":"vec","config":{"dimensions":4,"metric":"cosine"}}`, http.StatusOK)
	s.must(writer, "POST", vec+"/vec/metadata_index/create", "", `{"propertyName":"genre","indexType":"string"}`, http.StatusOK)
	s.must(writer, "POST", vec+"/vec/upsert", "application/x-ndjson", `{"id":"a","values":[1,0,0,0],"metadata":{"genre":"x"}}`, http.StatusOK)
	s.must(writer, "POST", cfBase+"/ai-search/namespaces", "", `{"name":"kitchen"}`, http.StatusOK)

	// Snapshots need the admin scope.
	s.must(writer, "POST", "/v1/snapshots", "", "", http.StatusForbidden)

	// The burst: six snapshots and, at the same time, writes.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	snapStatus := map[int]int{}
	note := func(f string, a ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(f, a...))
		mu.Unlock()
	}
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, b, err := s.call(admin, "POST", "/v1/snapshots", "", "")
			mu.Lock()
			snapStatus[st]++
			mu.Unlock()
			switch {
			case err != nil:
				note("snapshot %d: no answer: %v", i, err)
			case st == http.StatusServiceUnavailable && strings.Contains(b, `"error"`):
			case st != http.StatusCreated:
				note("snapshot %d: %d %s", i, st, b)
			}
		}()
	}
	for i := 0; i < nIdx; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 1; j <= 3; j++ {
				if st, b, err := s.call(writer, "POST", fmt.Sprintf("/v1/indexes/ix%d/documents", i), "", doc(fmt.Sprintf("d%d", j), "written during the snapshots")); err != nil || st != http.StatusOK {
					note("write ix%d/d%d: %d %v %s", i, j, st, err, b)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if st, b, err := s.call(writer, "POST", vec+"/vec/upsert", "application/x-ndjson", `{"id":"b","values":[0,1,0,0]}`); err != nil || st != http.StatusOK {
			note("vectorize upsert during snapshots: %d %v %s", st, err, b)
		}
	}()
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("during the burst (snapshot statuses %v):\n%s", snapStatus, strings.Join(problems, "\n"))
	}
	// After it, writes to every index and to Vectorize still go through.
	for i := 0; i < nIdx; i++ {
		s.must(writer, "POST", fmt.Sprintf("/v1/indexes/ix%d/documents", i), "", doc("after", "written after the snapshots"), http.StatusOK)
	}
	s.must(writer, "POST", vec+"/vec/upsert", "application/x-ndjson", `{"id":"c","values":[0,0,1,0]}`, http.StatusOK)

	// The snapshot to restore, taken now.
	var res struct {
		Dir      string `json:"dir"`
		Manifest struct {
			Files []string `json:"files"`
		} `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(s.must(admin, "POST", "/v1/snapshots", "", "", http.StatusCreated)), &res); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cloudflare-state.json", "cloudflare-ai-search.json", "keys.json"} {
		if !strings.Contains(strings.Join(res.Manifest.Files, ","), f) {
			t.Errorf("snapshot files %v lack %s", res.Manifest.Files, f)
		}
	}
	checkSnapshotFolders(t, filepath.Join(dataDir, "snapshots"), keep)

	// Change the state the snapshot holds.
	s.must(writer, "DELETE", "/v1/indexes/ix0/documents/d0", "", "", http.StatusNoContent)
	s.must(writer, "POST", vec+"/vec/metadata_index/delete", "", `{"propertyName":"genre"}`, http.StatusOK)
	s.must(writer, "DELETE", cfBase+"/ai-search/namespaces/kitchen", "", "", http.StatusOK)

	// Shut down with snapshots in flight: the server must exit.
	for i := 0; i < 3; i++ {
		go s.call(admin, "POST", "/v1/snapshots", "", "") //nolint:errcheck // their answers do not matter: the shutdown does
	}
	time.Sleep(5 * time.Millisecond)
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exit %d after shutdown: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit within 30s of shutdown with snapshots in flight")
	}
	checkSnapshotFolders(t, filepath.Join(dataDir, "snapshots"), keep)

	out := ragdOK(t, "snapshot", "restore", res.Dir)
	if !strings.Contains(out, "kept the current keys.json") {
		t.Errorf("restore output does not say the keys were kept: %s", out)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	base2, exited2, _, _ := startServe(t, ctx2, "--addr", "127.0.0.1:0", "--warm=false")
	s.base = base2
	s.must(admin, "GET", "/v1/indexes/ix0/documents/d0", "", "", http.StatusOK)
	if b := s.must(admin, "GET", vec+"/vec/metadata_index/list", "", "", http.StatusOK); !strings.Contains(b, `"genre"`) {
		t.Errorf("metadata index not restored: %s", b)
	}
	s.must(admin, "GET", cfBase+"/ai-search/namespaces/kitchen", "", "", http.StatusOK)
	if b := s.must(admin, "POST", vec+"/vec/get_by_ids", "", `{"ids":["a","b","c"]}`, http.StatusOK); strings.Count(b, `"id"`) != 3 {
		t.Errorf("vectors after restore: %s", b)
	}
	cancel2()
	<-exited2
}

// checkSnapshotFolders: every folder under dir is a complete snapshot (no
// empty or partial ones) and there are at most keep of them.
func checkSnapshotFolders(t *testing.T, dir string, keep int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ent := range ents {
		names = append(names, ent.Name())
		if _, err := os.Stat(filepath.Join(dir, ent.Name(), "manifest.json")); err != nil {
			t.Errorf("snapshot folder %s is not a complete snapshot: %v", ent.Name(), err)
		}
	}
	sort.Strings(names)
	if len(names) > keep {
		t.Errorf("%d snapshot folders kept, want at most %d: %v", len(names), keep, names)
	}
}
