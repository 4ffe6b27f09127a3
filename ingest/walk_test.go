package ingest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ragd/ragd/data"
)

// makeTree creates files (paths relative to dir, "/"-separated) in dir.
func makeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		writeFile(t, dir, filepath.FromSlash(f), []byte("x"))
	}
}

// walkRel runs WalkWith and returns the visited paths relative to dir.
func walkRel(t *testing.T, dir string, roots []string, opts WalkOptions) ([]string, error) {
	t.Helper()
	var got []string
	err := WalkWith(context.Background(), roots, opts, func(p string, info fs.FileInfo) error {
		if !info.Mode().IsRegular() {
			t.Errorf("%s is not a regular file", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	return got, err
}

func TestWalkGlobs(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir,
		"b.md", "a.txt", "A.md",
		"docs/guide.md", "docs/img.png", "docs/deep/x/notes.md", "docs/deep/x/y.txt",
		"drafts/wip.md",
		".git/config", ".hidden.md", "docs/.cache/c.md",
		"node_modules/pkg/readme.md", "src/__pycache__/m.txt",
	)
	tests := []struct {
		name string
		opts WalkOptions
		want []string
	}{
		{"all, sorted, default excludes", WalkOptions{},
			[]string{"A.md", "a.txt", "b.md", "docs/deep/x/notes.md", "docs/deep/x/y.txt", "docs/guide.md", "docs/img.png", "drafts/wip.md"}},
		{"include by name at any depth", WalkOptions{Include: []string{"*.md"}},
			[]string{"A.md", "b.md", "docs/deep/x/notes.md", "docs/guide.md", "drafts/wip.md"}},
		{"exclude folder by name", WalkOptions{Include: []string{"*.md"}, Exclude: []string{"drafts"}},
			[]string{"A.md", "b.md", "docs/deep/x/notes.md", "docs/guide.md"}},
		{"double star", WalkOptions{Include: []string{"docs/**/*.md"}},
			[]string{"docs/deep/x/notes.md", "docs/guide.md"}},
		{"double star middle", WalkOptions{Include: []string{"**/x/*"}},
			[]string{"docs/deep/x/notes.md", "docs/deep/x/y.txt"}},
		{"exclude path glob", WalkOptions{Exclude: []string{"docs/deep/**", "*.png"}},
			[]string{"A.md", "a.txt", "b.md", "docs/guide.md", "drafts/wip.md"}},
		{"anchored", WalkOptions{Include: []string{"/*.md"}},
			[]string{"A.md", "b.md"}},
		{"no default excludes", WalkOptions{Include: []string{"*.md"}, NoDefaultExcludes: true},
			[]string{".hidden.md", "A.md", "b.md", "docs/.cache/c.md", "docs/deep/x/notes.md", "docs/guide.md", "drafts/wip.md", "node_modules/pkg/readme.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := walkRel(t, dir, []string{dir}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestWalkRootsAndErrors(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, "one/a.md", "two/b.md", "file.txt")
	got, err := walkRel(t, dir, []string{filepath.Join(dir, "two"), filepath.Join(dir, "file.txt"), filepath.Join(dir, "one"), filepath.Join(dir, "two")}, WalkOptions{Include: []string{"*.md"}})
	if err != nil {
		t.Fatal(err)
	}
	// Roots in the order given; a file root ignores Include; repeats once.
	if want := []string{"two/b.md", "file.txt", "one/a.md"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	missing := filepath.Join(dir, "missing")
	if _, err := walkRel(t, dir, []string{missing}, WalkOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: %v", err)
	}
	var reported []string
	got, err = walkRel(t, dir, []string{missing, filepath.Join(dir, "one")}, WalkOptions{OnError: func(p string, err error) error {
		reported = append(reported, p)
		return nil
	}})
	if err != nil || !reflect.DeepEqual(got, []string{"one/a.md"}) || !reflect.DeepEqual(reported, []string{missing}) {
		t.Errorf("OnError: got %q err %v reported %q", got, err, reported)
	}

	if _, err := walkRel(t, dir, []string{dir}, WalkOptions{Include: []string{"[bad"}}); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("bad glob: %v", err)
	}

	stop := errors.New("stop")
	n := 0
	err = Walk(context.Background(), []string{dir}, nil, nil, func(string, fs.FileInfo) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("callback error: %v after %d", err, n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Walk(ctx, []string{dir}, nil, nil, func(string, fs.FileInfo) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestWalkSymlinks(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, "real/a.md", "real/sub/b.md", "other/c.md")
	links := map[string]string{
		"real/sub/loop":   "..",                // a loop back up
		"real/self":       ".",                 // a loop onto itself
		"real/z-alias.md": "a.md",              // a second name for a file
		"real/other":      "../other",          // a folder outside
		"real/broken":     "does-not-exist.md", // dangling
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Skipf("symlinks unsupported: %v", err)
		}
	}
	var broken []string
	got, err := walkRel(t, dir, []string{filepath.Join(dir, "real")}, WalkOptions{OnError: func(p string, err error) error {
		broken = append(broken, filepath.Base(p))
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"real/a.md", "real/other/c.md", "real/sub/b.md"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !reflect.DeepEqual(broken, []string{"broken"}) {
		t.Errorf("errors reported for %q, want the broken link", broken)
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		glob, rel string
		want      bool
	}{
		{"*.md", "a/b/c.md", true},
		{"*.md", "c.mdx", false},
		{"docs/*.md", "docs/a.md", true},
		{"docs/*.md", "docs/x/a.md", false},
		{"docs/**", "docs/x/a.md", true},
		{"docs/**/a.md", "docs/a.md", true},
		{"**/a.md", "x/y/a.md", true},
		{"**/test/**", "src/test/a_test.go", true},
		{"**/test/**", "src/tests/a.go", false},
		{"a/**/b/**/c", "a/x/b/y/z/c", true},
		{"a/**/b/**/c", "a/x/y/z/c", false},
		{"node_modules", "web/node_modules", true},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.glob, filepath.Base(tt.rel), tt.rel); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.glob, tt.rel, got, tt.want)
		}
	}
}
