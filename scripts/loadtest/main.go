// Command loadtest drives a local ragd server with concurrent requests and
// reports throughput, latency percentiles, errors by status and, given the
// server's pid, its peak resident memory.
//
// README: go run ./scripts/loadtest -kind embed -clients 32 -duration 20s -pid $(pgrep -n ragd)
//
// It only talks to loopback addresses (127.0.0.0/8, ::1, localhost) and
// always stops by itself: after -duration (at most 10m) or -requests
// requests, whichever comes first. Kinds:
//
//	embed   POST /v1/embeddings            {"input": "<text>", "model": -model}
//	search  POST /v1/indexes/NAME/search   {"query": "<text>", "top_k": -top-k, "mode": -mode}
//	vector  POST /v1/indexes/NAME/search   {"vector": [-dims floats], "top_k": -top-k, "mode": "vector"}
//	ingest  POST /v1/indexes/NAME/documents {"documents": [-docs documents]}
//
// When the server sends Server-Timing with "queue" and "search" durations
// (ragd's search scheduler does), the report splits the server's time into
// the wait for a worker and the search itself (wait_*, service_*). Beside
// p99 it gives Little's law's mean (clients ÷ throughput): the mean latency
// a closed loop of that many clients must see at that throughput, the
// floor a fair queue's tail is measured against.
//
// Texts are random 4–12 word phrases from a fixed vocabulary (seeded by
// -seed); ingest ids are "loadtest-<client>-<n>". Latency is measured from
// sending a request to reading its whole response, for every response
// (errors included); transport failures count under "transport". With
// -json the report is one JSON object instead of text.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits that keep a run bounded.
const (
	maxDuration = 10 * time.Minute
	maxClients  = 1024
)

type config struct {
	URL      string
	Clients  int
	Duration time.Duration
	Requests int64
	Kind     string
	Index    string
	Dims     int
	TopK     int
	Mode     string
	Model    string
	Docs     int
	PID      int
	Token    string
	Timeout  time.Duration
	Seed     uint64
}

// report is the outcome of a run.
type report struct {
	Kind     string         `json:"kind"`
	Clients  int            `json:"clients"`
	Seconds  float64        `json:"seconds"`
	Requests int            `json:"requests"`
	OK       int            `json:"ok"`
	QPS      float64        `json:"qps"`
	OKQPS    float64        `json:"ok_qps"`
	P50ms    float64        `json:"p50_ms"`
	P90ms    float64        `json:"p90_ms"`
	P99ms    float64        `json:"p99_ms"`
	MaxMs    float64        `json:"max_ms"`
	Statuses map[string]int `json:"statuses"`
	// LittleMs is clients ÷ throughput in ms (Little's law's mean latency).
	LittleMs float64 `json:"littles_law_mean_ms"`
	// Timed counts the responses with a Server-Timing queue/search split;
	// the wait and service percentiles are over those.
	Timed      int     `json:"timed,omitempty"`
	WaitP50ms  float64 `json:"wait_p50_ms,omitempty"`
	WaitP99ms  float64 `json:"wait_p99_ms,omitempty"`
	ServiceP50 float64 `json:"service_p50_ms,omitempty"`
	ServiceP99 float64 `json:"service_p99_ms,omitempty"`
	// PeakRSSKiB is the largest VmRSS sampled during the run; HWMKiB is the
	// kernel's own peak (VmHWM) at the end, over the process's lifetime.
	PeakRSSKiB int64 `json:"peak_rss_kib,omitempty"`
	HWMKiB     int64 `json:"vm_hwm_kib,omitempty"`
}

func main() {
	var cfg config
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:7474", "base URL of the ragd server (loopback only)")
	flag.IntVar(&cfg.Clients, "clients", 8, "concurrent clients, each sending one request at a time")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run (at most 10m)")
	flag.Int64Var(&cfg.Requests, "requests", 0, "stop after this many requests in all (0: no limit)")
	flag.StringVar(&cfg.Kind, "kind", "embed", "request kind: embed, search, vector or ingest")
	flag.StringVar(&cfg.Index, "index", "", "index name (search, vector, ingest)")
	flag.IntVar(&cfg.Dims, "dims", 512, "vector length for -kind vector")
	flag.IntVar(&cfg.TopK, "top-k", 10, "top_k of search and vector queries")
	flag.StringVar(&cfg.Mode, "mode", "", "search mode (bm25, vector, hybrid; empty: the server's default)")
	flag.StringVar(&cfg.Model, "model", "", "embedding model of -kind embed (empty: the server's default)")
	flag.IntVar(&cfg.Docs, "docs", 1, "documents per ingest request")
	flag.IntVar(&cfg.PID, "pid", 0, "pid of the server, to sample its RSS from /proc (0: off)")
	flag.StringVar(&cfg.Token, "token", "", "bearer token sent as Authorization (empty: none)")
	flag.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed of the generated texts and vectors")
	asJSON := flag.Bool("json", false, "print the report as JSON")
	flag.Parse()

	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	rep, err := run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(rep)
		return
	}
	rep.print(os.Stdout)
}

func (c *config) check() error {
	if err := checkLoopback(c.URL); err != nil {
		return err
	}
	switch c.Kind {
	case "embed":
	case "search", "vector", "ingest":
		if c.Index == "" {
			return fmt.Errorf("-kind %s needs -index", c.Kind)
		}
	default:
		return fmt.Errorf("unknown -kind %q (embed, search, vector, ingest)", c.Kind)
	}
	if c.Clients < 1 || c.Clients > maxClients {
		return fmt.Errorf("-clients %d: want 1 to %d", c.Clients, maxClients)
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		return fmt.Errorf("-duration %v: want more than 0 and at most %v", c.Duration, maxDuration)
	}
	if c.Requests < 0 || c.Dims < 1 || c.Docs < 1 || c.TopK < 1 || c.Timeout <= 0 {
		return errors.New("-requests, -dims, -docs, -top-k and -timeout must be positive")
	}
	return nil
}

// checkLoopback refuses any URL whose host is not a loopback address or
// "localhost"; names are not resolved.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-url %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-url %q: host %q is not a loopback address; loadtest only targets this machine", raw, host)
}

// sample is one finished request.
type sample struct {
	lat    time.Duration
	status string
	// wait and service are the server's Server-Timing "queue" and
	// "search" durations; timed says whether it sent them.
	wait, service time.Duration
	timed         bool
}

// run sends requests from cfg.Clients goroutines until cfg.Duration has
// passed or cfg.Requests have been sent, and summarises them.
func run(ctx context.Context, cfg config) (*report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.URL, "/")
	client := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			MaxIdleConns:        cfg.Clients,
			MaxIdleConnsPerHost: cfg.Clients,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	defer client.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var rss *rssSampler
	if cfg.PID > 0 {
		rss = &rssSampler{pid: cfg.PID}
		if _, err := rss.read("VmRSS"); err != nil {
			return nil, fmt.Errorf("-pid %d: %w", cfg.PID, err)
		}
		rss.start(ctx, 100*time.Millisecond)
	}

	var sent atomic.Int64
	results := make([][]sample, cfg.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.Clients {
		wg.Go(func() {
			gen := newGenerator(cfg, c)
			for ctx.Err() == nil {
				if cfg.Requests > 0 && sent.Add(1) > cfg.Requests {
					return
				}
				path, body := gen.next()
				s := do(ctx, client, cfg.Token, base+path, body)
				if s.status == "" { // the run ended during the request
					return
				}
				results[c] = append(results[c], s)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancel() // stops the RSS sampler when -requests ended the run early

	rep := &report{Kind: cfg.Kind, Clients: cfg.Clients, Seconds: elapsed.Seconds(), Statuses: map[string]int{}}
	var lat, wait, service []time.Duration
	for _, rs := range results {
		for _, s := range rs {
			lat = append(lat, s.lat)
			if s.timed {
				wait, service = append(wait, s.wait), append(service, s.service)
			}
			rep.Statuses[s.status]++
			if strings.HasPrefix(s.status, "2") {
				rep.OK++
			}
		}
	}
	rep.Requests = len(lat)
	rep.QPS = float64(rep.Requests) / elapsed.Seconds()
	rep.OKQPS = float64(rep.OK) / elapsed.Seconds()
	if len(lat) > 0 {
		rep.P50ms, rep.P90ms, rep.P99ms, rep.MaxMs = pct(lat, 0.50), pct(lat, 0.90), pct(lat, 0.99), ms(lat[len(lat)-1])
	}
	if rep.QPS > 0 {
		rep.LittleMs = math.Round(float64(cfg.Clients)/rep.QPS*1e6) / 1000
	}
	if rep.Timed = len(wait); rep.Timed > 0 {
		rep.WaitP50ms, rep.WaitP99ms = pct(wait, 0.50), pct(wait, 0.99)
		rep.ServiceP50, rep.ServiceP99 = pct(service, 0.50), pct(service, 0.99)
	}
	if rss != nil {
		rep.PeakRSSKiB = rss.stop()
		rep.HWMKiB, _ = rss.read("VmHWM")
	}
	return rep, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct sorts ds and returns its q-quantile (nearest rank) in ms.
func pct(ds []time.Duration, q float64) float64 {
	slices.Sort(ds)
	i := min(len(ds)-1, int(math.Ceil(q*float64(len(ds))))-1)
	return ms(ds[max(i, 0)])
}

// serverTiming reads the "queue" and "search" durations (ms) of a
// Server-Timing header; ok is false unless both are there.
func serverTiming(h string) (wait, service time.Duration, ok bool) {
	var gotW, gotS bool
	for _, metric := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(metric), ";")
		for _, p := range strings.Split(params, ";") {
			v, found := strings.CutPrefix(strings.TrimSpace(p), "dur=")
			if !found {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				continue
			}
			d := time.Duration(f * float64(time.Millisecond))
			switch name {
			case "queue":
				wait, gotW = d, true
			case "search":
				service, gotS = d, true
			}
		}
	}
	return wait, service, gotW && gotS
}

// do sends one POST and reads the whole response. It returns an empty
// status when ctx ended (the run is over; the request is not counted).
func do(ctx context.Context, client *http.Client, token, url string, body []byte) sample {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return sample{status: "transport"}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	lat := time.Since(t0)
	if ctx.Err() != nil {
		return sample{}
	}
	if err != nil {
		return sample{lat: lat, status: "transport"}
	}
	s := sample{lat: lat, status: strconv.Itoa(resp.StatusCode)}
	s.wait, s.service, s.timed = serverTiming(resp.Header.Get("Server-Timing"))
	return s
}

var vocabulary = strings.Fields(`aerodynamic heating blunt body supersonic flow wedge
	shock wave boundary layer laminar turbulent transition pressure distribution
	wing pitching moment heat transfer nozzle jet mixing buckling cylinder shell
	how do I bake bread recipe sourdough loaf stock market fell today search
	vector index embedding query passage model server latency memory cache`)

// generator makes one client's request bodies.
type generator struct {
	cfg    config
	client int
	n      int
	rng    *rand.Rand
}

func newGenerator(cfg config, client int) *generator {
	return &generator{cfg: cfg, client: client, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(client)))}
}

func (g *generator) text() string {
	w := make([]string, 4+g.rng.IntN(9))
	for i := range w {
		w[i] = vocabulary[g.rng.IntN(len(vocabulary))]
	}
	return strings.Join(w, " ")
}

// next returns the path and JSON body of the next request.
func (g *generator) next() (string, []byte) {
	index := "/v1/indexes/" + url.PathEscape(g.cfg.Index)
	var path string
	var body any
	switch g.cfg.Kind {
	case "embed":
		m := map[string]any{"input": g.text()}
		if g.cfg.Model != "" {
			m["model"] = g.cfg.Model
		}
		path, body = "/v1/embeddings", m
	case "search":
		m := map[string]any{"query": g.text(), "top_k": g.cfg.TopK}
		if g.cfg.Mode != "" {
			m["mode"] = g.cfg.Mode
		}
		path, body = index+"/search", m
	case "vector":
		v := make([]float32, g.cfg.Dims)
		var ss float64
		for i := range v {
			v[i] = float32(g.rng.NormFloat64())
			ss += float64(v[i]) * float64(v[i])
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(ss))
		}
		path, body = index+"/search", map[string]any{"vector": v, "top_k": g.cfg.TopK, "mode": "vector"}
	case "ingest":
		docs := make([]map[string]string, g.cfg.Docs)
		for i := range docs {
			docs[i] = map[string]string{"id": fmt.Sprintf("loadtest-%d-%d", g.client, g.n), "text": g.text() + ". " + g.text() + "."}
			g.n++
		}
		path, body = index+"/documents", map[string]any{"documents": docs}
	}
	b, _ := json.Marshal(body)
	return path, b
}

// rssSampler reads a process's VmRSS periodically and keeps the largest.
type rssSampler struct {
	pid  int
	peak atomic.Int64
	done chan struct{}
}

// read returns a "Vm..." field of /proc/PID/status in KiB.
func (r *rssSampler) read(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		name, val, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(val) // "123456 kB"
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, r.pid)
}

func (r *rssSampler) sample() {
	if v, err := r.read("VmRSS"); err == nil && v > r.peak.Load() {
		r.peak.Store(v)
	}
}

func (r *rssSampler) start(ctx context.Context, every time.Duration) {
	r.done = make(chan struct{})
	r.sample()
	go func() {
		defer close(r.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.sample()
			}
		}
	}()
}

// stop waits for the sampler, whose context must be done, and returns the
// peak, sampling once more.
func (r *rssSampler) stop() int64 {
	<-r.done
	r.sample()
	return r.peak.Load()
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "kind %s, %d clients, %.1f s: %d requests, %.1f req/s (%d ok, %.1f ok/s)\n",
		r.Kind, r.Clients, r.Seconds, r.Requests, r.QPS, r.OK, r.OKQPS)
	fmt.Fprintf(w, "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (Little's law mean %.2f)\n", r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.LittleMs)
	if r.Timed > 0 {
		fmt.Fprintf(w, "server ms (%d responses): wait p50 %.2f  p99 %.2f; search p50 %.2f  p99 %.2f\n", r.Timed, r.WaitP50ms, r.WaitP99ms, r.ServiceP50, r.ServiceP99)
	}
	keys := make([]string, 0, len(r.Statuses))
	for k := range r.Statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, r.Statuses[k])
	}
	fmt.Fprintf(w, "statuses: %s\n", strings.Join(parts, ", "))
	if r.PeakRSSKiB > 0 {
		fmt.Fprintf(w, "target RSS: peak sampled %.1f MiB, VmHWM %.1f MiB\n", float64(r.PeakRSSKiB)/1024, float64(r.HWMKiB)/1024)
	}
}
