package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ragd/ragd/index"
)

func init() {
	register(&command{name: "snapshot", summary: "create or restore a consistent point-in-time copy of the data", run: runSnapshot})
}

func runSnapshot(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "snapshot", "snapshot create [DIR] | snapshot restore DIR")
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("snapshot create [DIR] | snapshot restore DIR")
	}
	switch pos[0] {
	case "create":
		dir := filepath.Join(e.cfg.DataDir, "snapshots", time.Now().UTC().Format("20060102T150405Z"))
		if len(pos) > 1 {
			dir = pos[1]
		}
		a, err := openApp(ctx, e)
		if err != nil {
			return err
		}
		defer a.Close()
		eng, err := capability[index.Snapshotter](a, "snapshot")
		if err != nil {
			return err
		}
		man, err := eng.Snapshot(ctx, dir)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(map[string]any{"dir": dir, "manifest": man})
		}
		fmt.Fprintf(e.stdout, "snapshot of %d index(es) written to %s (%s store)\n", len(man.Indexes), dir, humanBytes(man.StoreSize))
		return nil
	case "restore":
		if len(pos) < 2 {
			return usageErr("snapshot restore DIR")
		}
		man, err := index.RestoreSnapshot(pos[1], e.cfg.DataDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "restored %d index(es) from the snapshot of %s; keyword indexes are rebuilt on the next start\n", len(man.Indexes), man.CreatedAt.Format(time.RFC3339))
		return nil
	}
	return usageErr("unknown snapshot action %q (want create, restore)", pos[0])
}
