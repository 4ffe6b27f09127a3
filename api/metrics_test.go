package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/auth"
	"github.com/ragd/ragd/index"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestMetricsCardinalityIsBounded sends unauthenticated requests with
// unique paths, Host headers and methods to a server that has keys: the
// request metrics run before authentication, and used to label each by
// its raw Host and (for unknown routes) its raw path, so every request
// added series until restart (300 requests grew /metrics from 40 KB to
// 75 MB). Now /metrics has the same series after 300 such requests as
// after 20, and no label carries a client's value. The access and denial
// log lines stay short however long the path.
func TestMetricsCardinalityIsBounded(t *testing.T) {
	dir := t.TempDir()
	eng, err := index.Open(context.Background(), index.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	keys, err := auth.OpenStore(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := keys.Create("reader", auth.ScopeRead, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	srv := api.New(api.Config{Engine: eng, Logger: log})
	srv.Echo().Use(auth.Middleware(auth.Config{Store: keys, Logger: log}))
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	send := func(method, path, host string) int {
		req, err := http.NewRequest(method, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining only
		resp.Body.Close()
		return resp.StatusCode
	}
	hostile := func(from, to int) {
		for i := from; i < to; i++ {
			paths := []string{fmt.Sprintf("/probe-%d/x", i), fmt.Sprintf("/v1/indexes/idx%d/search", i), fmt.Sprintf("/client/v4/zz%d", i)}
			methods := []string{"GET", "POST", fmt.Sprintf("BREW%d", i)}
			if st := send(methods[i%3], paths[i%3], fmt.Sprintf("evil-%d.example", i)); st != http.StatusUnauthorized && st != http.StatusNotFound && st != http.StatusMethodNotAllowed {
				t.Fatalf("request %d: status %d", i, st)
			}
		}
	}
	metrics := func() string {
		req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
		}
		return string(b)
	}
	series := func(body string) int {
		n := 0
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "ragd_echo_requests_total{") {
				n++
			}
		}
		return n
	}
	hostile(0, 20)
	metrics()
	first := metrics()
	hostile(20, 320)
	metrics()
	last := metrics()
	if a, b := series(first), series(last); a == 0 || b != a {
		t.Errorf("ragd_echo_requests_total series: %d after 20 hostile requests, %d after 320", a, b)
	}
	if len(last) > len(first)+len(first)/10 {
		t.Errorf("/metrics grew from %d to %d bytes", len(first), len(last))
	}
	for _, leak := range []string{"evil-", "probe-", "idx3", "BREW", "zz1"} {
		if strings.Contains(last, leak) {
			t.Errorf("/metrics carries a client's value %q", leak)
		}
	}
	if !strings.Contains(last, `url="unmatched"`) || !strings.Contains(last, `url="/v1/indexes/:name/search"`) {
		t.Errorf("/metrics lacks the route labels:\n%s", last)
	}

	// A 200 KB path: every log line about it stays short.
	long := "/" + strings.Repeat("a", 200<<10)
	send("GET", long, "h")
	send("GET", "/v1/indexes/x/documents"+long, "h")
	for _, line := range strings.Split(logs.String(), "\n") {
		if len(line) > 2048 {
			t.Fatalf("a log line of %d bytes: %.200s", len(line), line)
		}
	}
}
