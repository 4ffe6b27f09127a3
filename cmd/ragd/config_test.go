package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Durations are written the same way in every source: "30s" in the config
// file as in RAGD_SHUTDOWN_TIMEOUT and --shutdown-timeout.
func TestConfigFileValues(t *testing.T) {
	cliEnv(t)
	path := filepath.Join(t.TempDir(), "c.json")
	load := func(body string) (Config, error) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return loadConfig([]string{"--config", path})
	}
	cfg, err := load(`{"shutdown_timeout": "30s", "threads": 3, "open": true, "addr": "127.0.0.1:9", "max_body_bytes": 1024}`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownTimeout != 30*time.Second || cfg.Threads != 3 || !cfg.Open || cfg.Addr != "127.0.0.1:9" || cfg.MaxBodyBytes != 1024 {
		t.Fatalf("config %+v", cfg)
	}
	if cfg.Generator != "extractive" || cfg.CtxSize != 2048 {
		t.Fatalf("defaults lost: %+v", cfg)
	}
	// Nanoseconds (what encoding/json writes for a Duration) still work.
	if cfg, err = load(`{"shutdown_timeout": 2000000000}`); err != nil || cfg.ShutdownTimeout != 2*time.Second {
		t.Fatalf("numeric duration: %v, %v", cfg.ShutdownTimeout, err)
	}
	for _, bad := range []string{`{"shutdown_timeout": "soon"}`, `{"threads": "three"}`, `{"colour": 1}`, `{"addr": 1}`, `[1]`} {
		if _, err := load(bad); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("config %s: err %v, want an error naming the file", bad, err)
		}
	}
	// Environment beats the file for durations too.
	t.Setenv("RAGD_SHUTDOWN_TIMEOUT", "5s")
	if cfg, err = load(`{"shutdown_timeout": "30s"}`); err != nil || cfg.ShutdownTimeout != 5*time.Second {
		t.Fatalf("env over file: %v, %v", cfg.ShutdownTimeout, err)
	}
}

func TestParseProxies(t *testing.T) {
	got, err := parseProxies("10.0.0.0/8, 192.0.2.1,::1")
	if err != nil || len(got) != 3 || got[0].String() != "10.0.0.0/8" || got[1].String() != "192.0.2.1/32" || got[2].String() != "::1/128" {
		t.Fatalf("parseProxies = %v, %v", got, err)
	}
	if got, err := parseProxies(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v, %v", got, err)
	}
	if _, err := parseProxies("proxy.example"); err == nil || !strings.Contains(err.Error(), "trusted-proxies") {
		t.Fatalf("a name must be refused: %v", err)
	}
}
