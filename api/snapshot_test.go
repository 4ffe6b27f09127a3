package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// TestShutdownWithSnapshotRunning stops the server while a snapshot holds
// every index's write lock: Serve returns within its grace period, the
// engine closes once the snapshot ends, and no partial snapshot folder is
// left. (Before the fix two snapshots could deadlock, and shutdown then
// hung in Close for ever.)
func TestShutdownWithSnapshotRunning(t *testing.T) {
	ctx := context.Background()
	eng, err := index.Open(ctx, index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b", "a", "d", "c"} {
		if _, err := eng.CreateIndex(ctx, data.IndexConfig{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	entered, release := make(chan struct{}), make(chan struct{})
	snapDir := filepath.Join(t.TempDir(), "snapshots")
	srv := api.New(api.Config{Engine: eng, SnapshotDir: snapDir, SnapshotWait: 100 * time.Millisecond, SnapshotFiles: []index.SnapshotFiles{{
		Root: t.TempDir(), Names: []string{"state.json"},
		Hold: func(copy func() error) error {
			close(entered)
			<-release
			return copy()
		},
	}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln, 200*time.Millisecond) }()
	go func() {
		c := &http.Client{Timeout: 20 * time.Second}
		if resp, err := c.Post("http://"+ln.Addr().String()+"/v1/snapshots", "application/json", strings.NewReader("")); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the snapshot did not start")
	}
	// A second snapshot cannot start while the first runs: a clear 503.
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post("http://"+ln.Addr().String()+"/v1/snapshots", "application/json", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "another snapshot is still running") {
		t.Fatalf("second snapshot: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	stop()
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return with a snapshot running")
	}
	closed := make(chan error, 1)
	go func() { closed <- eng.Close() }()
	close(release)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the engine did not close after the snapshot ended")
	}
	ents, _ := os.ReadDir(snapDir)
	for _, ent := range ents {
		if strings.HasSuffix(ent.Name(), ".partial") {
			t.Fatalf("partial snapshot %s left behind", ent.Name())
		}
		if _, err := os.Stat(filepath.Join(snapDir, ent.Name(), "manifest.json")); err != nil {
			t.Fatalf("incomplete snapshot %s left behind", ent.Name())
		}
	}
}
