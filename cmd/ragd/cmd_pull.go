package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ragd/ragd/embed/hub"
)

// pullModel downloads a catalog model or Hugging Face repo into the
// models dir. The hub endpoint comes from HF_ENDPOINT (or
// RAGD_HUB_ENDPOINT), with HF_TOKEN for gated repos.
func pullModel(ctx context.Context, e *env, pool *modelPool, name string) error {
	endpoint := os.Getenv("RAGD_HUB_ENDPOINT")
	if endpoint == "" {
		endpoint = os.Getenv("HF_ENDPOINT")
	}
	if endpoint == "" {
		return usageErr("set HF_ENDPOINT to the Hugging Face hub's URL (or a mirror's) to pull models")
	}
	p, err := hub.New(hub.Config{Endpoint: endpoint, Token: os.Getenv("HF_TOKEN"), ModelsDir: pool.ModelsDir(), Logger: pool.Logger()})
	if err != nil {
		return err
	}
	bar := newProgressBar(e.stderr, true)
	start := time.Now()
	last := time.Time{}
	dir, err := p.Pull(ctx, name, func(done, total int64, file string) {
		if !bar.on || time.Since(last) < 100*time.Millisecond && done != total {
			return
		}
		last = time.Now()
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(done) / float64(total)
		}
		fmt.Fprintf(e.stderr, "\r%-40s %5.1f%% %s / %s   ", file, pct, humanBytes(done), humanBytes(total))
		bar.drawn = true
	})
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pulled %s into %s in %s\n", name, dir, time.Since(start).Round(time.Millisecond))
	return nil
}
