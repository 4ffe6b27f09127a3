package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/auth"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/api/mcp"
	"github.com/ragd/ragd/api/rcache"
	"github.com/ragd/ragd/api/web"
	"github.com/ragd/ragd/rag"
)

func init() {
	register(&command{name: "serve", summary: "serve the REST API (search, ask, OpenAI-compatible routes) and MCP at /mcp", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "serve [--addr HOST:PORT] [--data-dir DIR]")
	warm := fs.Bool("warm", true, "load the default embedding model at start so no request pays a cold start")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	proxies, err := parseProxies(e.cfg.TrustedProxies)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	keys, err := keyStore(e)
	if err != nil {
		return err
	}
	if err := checkBind(a.cfg.Addr, a.cfg.Open || keys.Active() > 0); err != nil {
		return err
	}
	gen, err := a.generator(ctx)
	if err != nil {
		return err
	}
	if *warm && !noModel(a.cfg.Model) {
		if _, err := a.pool.Embedder(ctx, a.cfg.Model); err != nil {
			a.log.Warn("default model not available; vector search needs it", "model", a.cfg.Model, "err", err)
		}
	}
	// On Weaviate the Cloudflare bookkeeping lives in the cluster, shared
	// by every replica; embedded, in files in the data folder, which
	// snapshots copy.
	store, _ := a.backend.(state.Store)
	var fileState *state.FileStore
	if store == nil {
		fileState = state.NewFileStore(a.cfg.DataDir)
		store = fileState
	}
	// One registry for the API's and the scheduler's metrics; searches
	// run on the scheduler's workers inside the retrieval service.
	reg := prometheus.NewRegistry()
	sch, closeSched, err := searchScheduler(a.cfg, reg)
	if err != nil {
		return err
	}
	defer closeSched()
	rc := a.serviceConfig(gen)
	if sch != nil {
		rc.Scheduler = sch
	}
	svc, err := rag.New(rc)
	if err != nil {
		return err
	}
	srv := api.New(api.Config{Service: svc, Engine: a.backend, TrustedProxies: proxies, Models: poolAdapter{a.pool}, Generator: gen, DefaultModel: a.cfg.Model,
		Logger: a.log, MaxBodyBytes: a.cfg.MaxBodyBytes, Version: version, SnapshotDir: filepath.Join(a.cfg.DataDir, "snapshots"),
		SnapshotKeep: a.cfg.SnapshotKeep, SnapshotFiles: snapshotFiles(a.cfg.DataDir, fileState),
		ResultCache: rcache.New(rcache.DefaultConfig()), Registry: reg})
	cf := cloudflare.Register(srv.Echo(), cloudflare.Config{Service: svc, Engine: a.backend, Models: poolAdapter{a.pool}, Generator: gen,
		Logger: a.log, State: store, StateDir: a.cfg.DataDir, InstalledModels: a.pool.Installed, DefaultModel: a.cfg.Model,
		Scheduler: asScheduler(sch), BatchDir: filepath.Join(a.cfg.DataDir, cloudflare.BatchDirName), MaxQueuedRequests: a.cfg.AIBatchQueue})
	// Runs before a.Close (deferred earlier): the AI Search item worker
	// stops, leaving unfinished uploads queued, before the engine closes.
	defer cf.Close()
	web.Register(srv.Echo())
	mcpSrv, err := mcp.New(mcp.Config{Service: svc, Version: version, Logger: a.log, MaxBodyBytes: a.cfg.MaxBodyBytes})
	if err != nil {
		return err
	}
	// MCP's Streamable HTTP: behind the same keys; the door needs a read
	// key (auth.DefaultReadOnly), write tools a write key per call.
	srv.Echo().Any("/mcp", echo.WrapHandler(mcpSrv.Handler()))
	// When serving stops, end the MCP sessions once their calls are done:
	// their standing event streams would hold the shutdown for its grace.
	mctx, mstop := context.WithCancel(ctx)
	mcpDone := make(chan struct{})
	go func() {
		defer close(mcpDone)
		<-mctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		mcpSrv.Shutdown(sctx)
	}()
	defer func() { mstop(); <-mcpDone }()
	if origins := splitList(a.cfg.CORSOrigins); len(origins) > 0 {
		srv.Echo().Pre(api.CORS(origins))
	}
	srv.Echo().Use(auth.Middleware(auth.Config{Store: keys, Open: a.cfg.Open, Logger: a.log,
		Public: append(append([]string(nil), auth.DefaultPublic...), "/", "/ui/", "/openapi.json")}))
	if a.cfg.PprofAddr != "" {
		stop, err := servePprof(a.cfg.PprofAddr, a.log)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Addr, err)
	}
	where := "data " + a.cfg.DataDir
	if a.engine == nil {
		where = "backend " + a.cfg.Backend + " at " + a.cfg.WeaviateURL
	}
	fmt.Fprintf(e.stdout, "ragd %s serving on http://%s (playground at /, API under /v1, MCP at /mcp; %s, generator %s)\n", version, ln.Addr(), where, gen.Info().ID)
	err = srv.Serve(ctx, ln, a.cfg.ShutdownTimeout)
	fmt.Fprintln(e.stdout, "ragd: shut down")
	return err
}

// checkBind refuses to serve without keys on a non-loopback address unless
// open access is explicitly configured.
func checkBind(addr string, open bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("bad --addr %q: %v", addr, err)
	}
	// Only IP literals and "localhost" count: a name such as
	// 127.example.invalid may resolve anywhere.
	if open || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usageErr("refusing to serve on non-loopback address %q without API keys; create one with 'ragd keys create --scope admin' or pass --open to allow unauthenticated access", addr)
}

// parseProxies reads --trusted-proxies: addresses or CIDR prefixes,
// comma-separated.
func parseProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(list) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, usageErr("bad --trusted-proxies entry %q: want an IP address or a CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// splitList splits a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
