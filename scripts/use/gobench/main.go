// Command gobench measures the throughput of the pure-Go USE-lite embedder
// (github.com/ragd/ragd/embed/use), the counterpart of bench.js.
//
//	go run ./scripts/use/gobench -texts texts.json -n 512 -batch 32
//
// It embeds the first n non-empty texts of the JSON array (cycled when
// shorter) in batches after one warm-up batch and prints one line of JSON:
// {"impl":"go","texts":n,"seconds":s,"texts_per_s":r,"cpu_seconds":c,...}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/use"
	"github.com/ragd/ragd/internal/cputime"
)

func main() {
	textsPath := flag.String("texts", "embed/use/testdata/texts.json", "JSON array of texts")
	n := flag.Int("n", 0, "number of texts (default: all)")
	batch := flag.Int("batch", 32, "texts per Embed call")
	threads := flag.Int("threads", 0, "Options.Threads (0: GOMAXPROCS)")
	model := flag.String("model", "", "model directory (default: located from the working directory)")
	flag.Parse()
	if err := run(*textsPath, *n, *batch, *threads, *model); err != nil {
		fmt.Fprintln(os.Stderr, "gobench:", err)
		os.Exit(1)
	}
}

func run(textsPath string, n, batch, threads int, dir string) error {
	raw, err := os.ReadFile(textsPath)
	if err != nil {
		return err
	}
	var all []string
	if err := json.Unmarshal(raw, &all); err != nil {
		return err
	}
	var nonEmpty []string
	for _, t := range all {
		if t != "" {
			nonEmpty = append(nonEmpty, t)
		}
	}
	if len(nonEmpty) == 0 {
		return fmt.Errorf("no texts in %s", textsPath)
	}
	if n <= 0 {
		n = len(nonEmpty)
	}
	if batch <= 0 {
		batch = 32
	}
	texts := make([]string, n)
	for i := range texts {
		texts[i] = nonEmpty[i%len(nonEmpty)]
	}
	if dir == "" {
		if dir, err = use.Locate("."); err != nil {
			return err
		}
	}
	loadStart := time.Now()
	m, err := use.Load(dir, use.Options{Threads: threads})
	if err != nil {
		return err
	}
	loadTime := time.Since(loadStart)
	ctx := context.Background()
	if _, err := m.Embed(ctx, embed.Passage, texts[:min(batch, len(texts))]); err != nil {
		return err
	}
	start, cpu0 := time.Now(), cputime.Process()
	for i := 0; i < len(texts); i += batch {
		if _, err := m.Embed(ctx, embed.Passage, texts[i:min(i+batch, len(texts))]); err != nil {
			return err
		}
	}
	sec := time.Since(start).Seconds()
	cpu := (cputime.Process() - cpu0).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "go", "texts": len(texts), "batch": batch, "dims": m.Info().Dims,
		"seconds": sec, "texts_per_s": float64(len(texts)) / sec,
		"cpu_seconds": cpu, "texts_per_cpu_s": float64(len(texts)) / cpu,
		"load_seconds": loadTime.Seconds(),
	})
}
