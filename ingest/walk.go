package ingest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ragd/ragd/data"
)

// DefaultExcludes are skipped by Walk unless WalkOptions.NoDefaultExcludes:
// hidden files and folders (.git, .env, ...) and dependency folders.
var DefaultExcludes = []string{".*", "node_modules", "__pycache__"}

// WalkOptions configures Walk. The zero value walks every regular file
// except DefaultExcludes.
type WalkOptions struct {
	// Include, when not empty, keeps only files that match one of these
	// globs. Exclude drops files and prunes folders that match one.
	//
	// A glob without "/" matches a file or folder name at any depth
	// ("*.md", "node_modules"). A glob with "/" matches the whole path
	// relative to the root it was found under, "/"-separated (a leading "/"
	// only anchors it: "/*.md" is the top folder's files); "**" stands
	// for any number of folders ("docs/**/*.md", "**/test/**"). Otherwise
	// the syntax is path.Match's. Globs do not apply to a root itself.
	Include, Exclude []string
	// NoDefaultExcludes walks hidden entries and DefaultExcludes too.
	NoDefaultExcludes bool
	// OnError handles an entry that cannot be read (permission denied, a
	// broken symbolic link, a missing root). Returning nil skips it;
	// returning an error stops the walk with it. Nil stops at the first.
	OnError func(path string, err error) error
}

// Walk calls fn for every regular file under roots that matches include
// (all files when empty) and no exclude glob, skipping DefaultExcludes; see
// WalkOptions for the glob syntax and WalkWith for the other options.
func Walk(ctx context.Context, roots []string, include, exclude []string, fn func(path string, info fs.FileInfo) error) error {
	return WalkWith(ctx, roots, WalkOptions{Include: include, Exclude: exclude}, fn)
}

// WalkWith calls fn for every regular file under roots, in a deterministic
// order: roots as given, each folder's entries sorted by name, depth first.
// A root that is a file is passed to fn as is. Symbolic links are
// followed; a file or folder reached twice (a link loop, or two links to one
// target) is visited once, the first time. An error from fn stops the walk
// and is returned. Walk checks ctx between folders.
func WalkWith(ctx context.Context, roots []string, opts WalkOptions, fn func(path string, info fs.FileInfo) error) error {
	for _, g := range append(append([]string(nil), opts.Include...), opts.Exclude...) {
		if err := checkGlob(g); err != nil {
			return err
		}
	}
	exclude := opts.Exclude
	if !opts.NoDefaultExcludes {
		exclude = append(append([]string(nil), exclude...), DefaultExcludes...)
	}
	w := &walker{ctx: ctx, opts: opts, exclude: exclude, fn: fn, seen: map[string]bool{}}
	for _, root := range roots {
		if err := w.root(root); err != nil {
			return err
		}
	}
	return nil
}

type walker struct {
	ctx     context.Context
	opts    WalkOptions
	exclude []string
	fn      func(string, fs.FileInfo) error
	seen    map[string]bool // real paths of visited files and folders
}

func (w *walker) fail(p string, err error) error {
	err = fmt.Errorf("walk %s: %w", p, err)
	if w.opts.OnError == nil {
		return err
	}
	return w.opts.OnError(p, err)
}

func (w *walker) root(root string) error {
	info, err := os.Stat(root)
	if err != nil {
		return w.fail(root, err)
	}
	real, err := realPath(root)
	if err != nil {
		return w.fail(root, err)
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() || w.seen[real] {
			return nil
		}
		w.seen[real] = true
		return w.fn(root, info)
	}
	if w.seen[real] {
		return nil
	}
	w.seen[real] = true
	return w.dir(root, "", real)
}

// dir walks folder p, whose path relative to its root is rel and whose
// symlink-free absolute path is real.
func (w *walker) dir(p, rel, real string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return w.fail(p, err)
	}
	for _, e := range entries {
		name := e.Name()
		ep := filepath.Join(p, name)
		erel := name
		if rel != "" {
			erel = rel + "/" + name
		}
		ereal := filepath.Join(real, name)
		var info fs.FileInfo
		if e.Type()&fs.ModeSymlink != 0 {
			if info, err = os.Stat(ep); err != nil {
				if err := w.fail(ep, err); err != nil {
					return err
				}
				continue
			}
			if ereal, err = realPath(ep); err != nil {
				if err := w.fail(ep, err); err != nil {
					return err
				}
				continue
			}
		} else if info, err = e.Info(); err != nil {
			if err := w.fail(ep, err); err != nil {
				return err
			}
			continue
		}
		if matchAny(w.exclude, name, erel) {
			continue
		}
		if info.IsDir() {
			if w.seen[ereal] {
				continue
			}
			w.seen[ereal] = true
			if err := w.dir(ep, erel, ereal); err != nil {
				return err
			}
			continue
		}
		if !info.Mode().IsRegular() || w.seen[ereal] {
			continue
		}
		if len(w.opts.Include) > 0 && !matchAny(w.opts.Include, name, erel) {
			continue
		}
		w.seen[ereal] = true
		if err := w.fn(ep, info); err != nil {
			return err
		}
	}
	return nil
}

func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// checkGlob validates a glob, wrapping data.ErrInvalid.
func checkGlob(g string) error {
	if g == "" {
		return fmt.Errorf("ingest: empty glob: %w", data.ErrInvalid)
	}
	for _, part := range strings.Split(strings.Trim(g, "/"), "/") {
		if _, err := path.Match(strings.ReplaceAll(part, "**", "*"), ""); err != nil {
			return fmt.Errorf("ingest: glob %q: %w: %w", g, err, data.ErrInvalid)
		}
	}
	return nil
}

func matchAny(globs []string, name, rel string) bool {
	for _, g := range globs {
		if MatchGlob(g, name, rel) {
			return true
		}
	}
	return false
}

// MatchGlob reports whether an entry called name, at path rel ("/"-separated,
// relative to its walk root), matches glob g as Walk interprets it.
func MatchGlob(g, name, rel string) bool {
	g = strings.TrimSuffix(g, "/")
	anchored := strings.HasPrefix(g, "/")
	g = strings.TrimPrefix(g, "/")
	if !anchored && !strings.Contains(g, "/") {
		ok, _ := path.Match(strings.ReplaceAll(g, "**", "*"), name)
		return ok
	}
	return matchParts(strings.Split(g, "/"), strings.Split(rel, "/"))
}

// matchParts matches path segments, "**" standing for zero or more of them.
func matchParts(gs, ps []string) bool {
	for len(gs) > 0 {
		if gs[0] == "**" {
			for len(gs) > 0 && gs[0] == "**" {
				gs = gs[1:]
			}
			if len(gs) == 0 {
				return true
			}
			for i := 0; i <= len(ps); i++ {
				if matchParts(gs, ps[i:]) {
					return true
				}
			}
			return false
		}
		if len(ps) == 0 {
			return false
		}
		if ok, _ := path.Match(strings.ReplaceAll(gs[0], "**", "*"), ps[0]); !ok {
			return false
		}
		gs, ps = gs[1:], ps[1:]
	}
	return len(ps) == 0
}
