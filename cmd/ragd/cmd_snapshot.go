package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ragd/ragd/aisearch/state"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragd/ragd/api/cloudflare"

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
		keep := e.cfg.SnapshotKeep
		if len(pos) > 1 {
			dir = pos[1]
			keep = 0 // a folder of the user's choosing: remove nothing there
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
		// No server holds the data dir (openApp has its lock), so the
		// state files can be copied as they are.
		res, err := eng.SnapshotWith(ctx, dir, index.SnapshotOptions{Files: snapshotFiles(e.cfg.DataDir, nil), Keep: keep})
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(map[string]any{"dir": res.Dir, "manifest": res.Manifest, "pruned": res.Pruned})
		}
		fmt.Fprintf(e.stdout, "snapshot of %d index(es) and %s written to %s (%s store)\n", len(res.Manifest.Indexes),
			strings.Join(res.Manifest.Files, ", "), dir, humanBytes(res.Manifest.StoreSize))
		for _, p := range res.Pruned {
			fmt.Fprintf(e.stdout, "removed old snapshot %s (snapshot_keep %d)\n", p, keep)
		}
		return nil
	case "restore":
		if len(pos) < 2 {
			return usageErr("snapshot restore DIR")
		}
		res, err := index.RestoreSnapshotWith(pos[1], e.cfg.DataDir, index.RestoreOptions{KeepLive: []string{keysFile}})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "restored %d index(es) from the snapshot of %s; keyword indexes are rebuilt on the next start\n", len(res.Manifest.Indexes), res.Manifest.CreatedAt.Format(time.RFC3339))
		if len(res.Restored) > 0 {
			fmt.Fprintf(e.stdout, "restored %s\n", strings.Join(res.Restored, ", "))
		}
		for _, k := range res.Kept {
			if k == keysFile {
				fmt.Fprintf(e.stdout, "kept the current %s: a restore never brings back keys revoked since the snapshot (delete it first to restore the snapshot's keys)\n", keysFile)
			}
		}
		fmt.Fprintf(e.stdout, "the replaced data is in %s\n", res.Aside)
		return nil
	}
	return usageErr("unknown snapshot action %q (want create, restore)", pos[0])
}

// keysFile is the API keys file in the data dir (hashes of the secrets).
const keysFile = "keys.json"

// snapshotFiles is what a snapshot copies beside the engine's data: the
// Cloudflare routes' state documents and pending uploads, copied while
// fileState's writers wait (nil: no server runs), and the keys file.
func snapshotFiles(dataDir string, fileState *state.FileStore) []index.SnapshotFiles {
	cf := index.SnapshotFiles{Root: dataDir, Names: cloudflare.StateFiles()}
	if fileState != nil {
		cf.Hold = fileState.Hold
	}
	return []index.SnapshotFiles{cf, {Root: dataDir, Names: []string{keysFile}}}
}
