package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Config is ragd's configuration. Each field can be set in the JSON config
// file (by its json name), by the environment variable RAGD_<NAME> (upper
// case), and by the flag --<name with - for _>, in increasing precedence.
type Config struct {
	// DataDir holds the store and every named index.
	DataDir string `json:"data_dir"`
	// Addr is where `ragd serve` listens.
	Addr string `json:"addr"`
	// NodeDir is the folder whose node_modules hold the npm-shipped runtime
	// files (USE-lite weights, ONNX Runtime, llama.cpp libraries).
	NodeDir string `json:"node_dir"`
	// ModelsDir holds pulled embedding/reranker models (Hugging Face layout).
	ModelsDir string `json:"models_dir"`
	// Model is the default embedding model for new indexes ("use-lite",
	// an installed model's name, or "none" for keyword-only indexes).
	Model string `json:"model"`
	// Generator selects the answer generator: "extractive" (default), a
	// GGUF file path for local llama.cpp, or "openai" (see OpenAI*).
	Generator string `json:"generator"`
	// OpenAIURL, OpenAIKey and OpenAIModel configure an OpenAI-compatible
	// chat backend (Ollama, vLLM, llama.cpp server, TGI, OpenAI...).
	OpenAIURL   string `json:"openai_url"`
	OpenAIKey   string `json:"openai_key"`
	OpenAIModel string `json:"openai_model"`
	// EmbedURL and EmbedKey configure remote embedding models: a model named
	// "remote:NAME" is NAME on the OpenAI-compatible /v1/embeddings server
	// at EmbedURL (TEI, vLLM, Ollama, OpenAI).
	EmbedURL string `json:"embed_url"`
	EmbedKey string `json:"embed_key"`
	// NoBatching turns off the coalescing of concurrent embedding requests.
	NoBatching bool `json:"no_batching"`
	// BatchMax, BatchWait and BatchLinger tune that coalescing (see
	// embed/batch.Config MaxBatch, MaxWait, MaxLinger): the most texts per
	// batched model call, how long a queued request waits for company, and
	// how long after a batch the next one waits for the clients it served.
	// 0 means the package defaults (64, 2ms, 10ms); a negative duration
	// means no wait.
	BatchMax    int           `json:"batch_max"`
	BatchWait   time.Duration `json:"batch_wait"`
	BatchLinger time.Duration `json:"batch_linger"`
	// Threads for model inference (0 = all cores).
	Threads int `json:"threads"`
	// SearchWorkers is how many searches run at once on the CPU scheduler
	// (rag/sched); the rest wait in arrival order. 0 means GOMAXPROCS
	// (the cores Go runs on); negative turns the scheduler off (each
	// request searches on its own goroutine).
	SearchWorkers int `json:"search_workers"`
	// SearchQueue bounds the searches waiting for a worker; past it a
	// search is refused with 429 and Retry-After. 0 means 128 per worker;
	// negative means none may wait.
	SearchQueue int `json:"search_queue"`
	// AIBatchQueue bounds the requests waiting or running in the Workers
	// AI batch queue (ai/run with queueRequest; kept in
	// <data-dir>/ai-batches); past it a batch is refused with 429 and
	// Retry-After. 0 means 1024.
	AIBatchQueue int `json:"ai_batch_queue"`
	// CtxSize is the llama.cpp context size.
	CtxSize int `json:"ctx_size"`
	// GPULayers offloads layers to a GPU (llama.cpp CUDA build only).
	GPULayers int `json:"gpu_layers"`
	// Reranker names an installed cross-encoder for the rerank option.
	Reranker string `json:"reranker"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration `json:"shutdown_timeout"`
	// SnapshotKeep is how many snapshots `POST /v1/snapshots` and
	// `ragd snapshot create` (into the default folder) keep in
	// <data-dir>/snapshots: the newest; older ones are removed (0: keep
	// all). Default 5.
	SnapshotKeep int `json:"snapshot_keep"`
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// Open allows serving without API keys on a non-loopback address.
	Open bool `json:"open"`
	// CORSOrigins is a comma-separated list of browser origins allowed to
	// call the API (empty: no cross-origin access).
	CORSOrigins string `json:"cors_origins"`
	// TrustedProxies is a comma-separated list of addresses or CIDR
	// prefixes of reverse proxies in front of ragd: from these peers only,
	// the access log records X-Forwarded-For as forwarded_for (the socket
	// address is always logged as remote). Empty (default): none.
	TrustedProxies string `json:"trusted_proxies"`
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) on this
	// loopback address, apart from the API (for diagnosing a live server).
	PprofAddr string `json:"pprof_addr"`
	// HNSWM, HNSWEfConstruction and HNSWEfSearch tune the vector index
	// (0: 16, 200 and 64): the graph degree, the build breadth and the
	// default search breadth (a query's "ef" overrides it). VectorQuantize
	// keeps int8 codes for graph traversal and re-scores the best
	// candidates with the float vectors. The embedded backend rebuilds an
	// index whose graph was built with other M, efConstruction or
	// quantization when it opens it; on Weaviate they apply to new indexes.
	HNSWM              int  `json:"hnsw_m"`
	HNSWEfConstruction int  `json:"hnsw_ef_construction"`
	HNSWEfSearch       int  `json:"hnsw_ef_search"`
	VectorQuantize     bool `json:"vector_quantize"`
	// Backend is the index tier: "embedded" (the store of record with
	// bleve and ragd's HNSW in DataDir) or "weaviate" (a Weaviate cluster at
	// WeaviateURL; ragd keeps nothing on local disk but caches).
	Backend string `json:"backend"`
	// WeaviateURL is the Weaviate REST address (http://host:port).
	WeaviateURL string `json:"weaviate_url"`
	// WeaviateGRPC is its gRPC host:port (default: the URL's host, port 50051).
	WeaviateGRPC string `json:"weaviate_grpc"`
	// WeaviateKey is a Weaviate API key (optional).
	WeaviateKey string `json:"weaviate_key"`
	// WeaviateReplication is the replication factor of new indexes (0: 3,
	// or the number of nodes when fewer).
	WeaviateReplication int `json:"weaviate_replication"`
	// WeaviateConsistency is ONE, QUORUM (default) or ALL.
	WeaviateConsistency string `json:"weaviate_consistency"`
}

func defaultConfig() Config {
	return Config{
		DataDir:         defaultDataDir(),
		Addr:            "127.0.0.1:7474",
		NodeDir:         defaultNodeDir(),
		Model:           "use-lite",
		Generator:       "extractive",
		CtxSize:         2048,
		LogLevel:        "info",
		ShutdownTimeout: 15 * time.Second,
		SnapshotKeep:    5,
		MaxBodyBytes:    32 << 20,
		Backend:         "embedded",
	}
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "ragd")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "ragd")
	}
	return ".ragd"
}

func defaultConfigPath() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "ragd", "config.json")
	}
	return "ragd.json"
}

// defaultNodeDir finds the npm folder: beside the executable, its parent
// (bin/ragd in a checkout), or the working directory.
func defaultNodeDir() string {
	var cands []string
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		cands = append(cands, filepath.Join(d, "node"), filepath.Join(d, "..", "node"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			cands = append(cands, filepath.Join(d, "node"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range cands {
		if st, err := os.Stat(filepath.Join(c, "node_modules")); err == nil && st.IsDir() {
			return filepath.Clean(c)
		}
	}
	return "node"
}

// loadConfig resolves defaults < config file < environment. Flags are
// applied by each command's FlagSet (see addConfigFlags).
func loadConfig(args []string) (Config, error) {
	cfg := defaultConfig()
	path, explicit := os.Getenv("RAGD_CONFIG"), false
	if path != "" {
		explicit = true
	}
	for i, a := range args {
		if a == "--config" || a == "-config" {
			if i+1 < len(args) {
				path, explicit = args[i+1], true
			}
		} else if v, ok := strings.CutPrefix(a, "--config="); ok {
			path, explicit = v, true
		}
	}
	if path == "" {
		path = defaultConfigPath()
	}
	if b, err := os.ReadFile(path); err == nil {
		if err := decodeConfigFile(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config file %s: %w", path, err)
		}
	} else if explicit || !errors.Is(err, os.ErrNotExist) {
		return cfg, fmt.Errorf("config file: %w", err)
	}
	if err := applyEnv(&cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// decodeConfigFile applies a JSON config file's keys to cfg. Unknown keys
// are errors; durations may be written as in flags and the environment
// ("30s") or as nanoseconds.
func decodeConfigFile(b []byte, cfg *Config) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("json")
		r, ok := raw[name]
		if !ok {
			continue
		}
		delete(raw, name)
		var s string
		if _, isDur := v.Field(i).Interface().(time.Duration); isDur && json.Unmarshal(r, &s) == nil {
			if err := setField(v.Field(i), s); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if err := json.Unmarshal(r, v.Field(i).Addr().Interface()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for k := range raw {
		return fmt.Errorf("unknown key %q", k)
	}
	return nil
}

func applyEnv(cfg *Config) error {
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("json")
		env := "RAGD_" + strings.ToUpper(name)
		s, ok := os.LookupEnv(env)
		if !ok {
			continue
		}
		if err := setField(v.Field(i), s); err != nil {
			return fmt.Errorf("%s: %w", env, err)
		}
	}
	return nil
}

func setField(f reflect.Value, s string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	}
	return nil
}

// addConfigFlags registers every Config field as a flag on fs, defaulting
// to the already-resolved value.
func addConfigFlags(fs *flag.FlagSet, cfg *Config) {
	fs.String("config", "", "config file (JSON; default "+defaultConfigPath()+")")
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := strings.ReplaceAll(t.Field(i).Tag.Get("json"), "_", "-")
		help := "config " + t.Field(i).Tag.Get("json") + " (env RAGD_" + strings.ToUpper(t.Field(i).Tag.Get("json")) + ")"
		switch p := v.Field(i).Addr().Interface().(type) {
		case *string:
			fs.StringVar(p, name, *p, help)
		case *int:
			fs.IntVar(p, name, *p, help)
		case *int64:
			fs.Int64Var(p, name, *p, help)
		case *bool:
			fs.BoolVar(p, name, *p, help)
		case *time.Duration:
			fs.DurationVar(p, name, *p, help)
		}
	}
}
