package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name, head, want string
		err              error
	}{
		{"a.txt", "x", FormatText, nil},
		{"A.MD", "x", FormatMarkdown, nil},
		{"a.markdown", "", FormatMarkdown, nil},
		{"a.htm", "", FormatHTML, nil},
		{"a.xhtml", "", FormatHTML, nil},
		{"a.pdf", "", FormatPDF, nil},
		{"a.jsonl", "", FormatJSONL, nil},
		{"a.ndjson", "", FormatJSONL, nil},
		{"-", "%PDF-1.4\n...", FormatPDF, nil},
		{"-", "  <!DOCTYPE html><html>", FormatHTML, nil},
		{"page", "\ufeff<html><body>x", FormatHTML, nil},
		{"-", `{"_id":"1","text":"x"}` + "\n", FormatJSONL, nil},
		{"README", "# Title\n\ntext", FormatMarkdown, nil},
		{"LICENSE", "Permission is hereby granted", FormatText, nil},
		{"notes.go", "package main\n", FormatText, nil},
		{"img.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "", ErrBinary},
		{"-", "ab\x01\x02\x03\x04\x05\x06\x07\x08cd", "", ErrBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.want, func(t *testing.T) {
			got, err := DetectFormat(tt.name, []byte(tt.head))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("DetectFormat(%q, %q) = %q, %v; want %q, %v", tt.name, tt.head, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestLoadFileText(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		content  []byte
		wantText string
		warn     bool
	}{
		{"plain.txt", []byte("hello world\n\nsecond paragraph\n"), "hello world\n\nsecond paragraph\n", false},
		{"crlf.txt", []byte("a\r\nb\rc"), "a\nb\nc", false},
		{"bom.txt", []byte("\ufeffwith bom"), "with bom", false},
		{"latin1.txt", []byte("caf\xe9 ol\xe9 is fine"), "caf\uFFFD ol\uFFFD is fine", true},
		{"utf16.txt", []byte{0xFF, 0xFE, 'h', 0, 'i', 0, 0xE9, 0}, "hi\u00e9", false},
		{"ctrl.txt", []byte("bell\x07 gone"), "bell gone", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, tt.name, tt.content)
			ps, err := LoadFile(context.Background(), path, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 {
				t.Fatalf("got %d docs", len(ps))
			}
			p := ps[0]
			checkParsed(t, p)
			if p.Doc.Text != tt.wantText {
				t.Errorf("text %q, want %q", p.Doc.Text, tt.wantText)
			}
			if p.Doc.ID != path || p.Doc.Source != path {
				t.Errorf("id %q source %q, want %q", p.Doc.ID, p.Doc.Source, path)
			}
			if (len(p.Warnings) > 0) != tt.warn {
				t.Errorf("warnings %q, want any: %v", p.Warnings, tt.warn)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.txt")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file just over the default limit: rejected by its size, so
	// the test never reads 100 MiB.
	if err := f.Truncate(DefaultMaxFileBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name string
		path string
		opts LoadOptions
		want []error
	}{
		{"missing", filepath.Join(dir, "nope.txt"), LoadOptions{}, []error{os.ErrNotExist}},
		{"directory", dir, LoadOptions{}, []error{data.ErrInvalid}},
		{"empty", writeFile(t, dir, "empty.txt", nil), LoadOptions{}, []error{ErrEmpty, data.ErrInvalid}},
		{"blank", writeFile(t, dir, "blank.md", []byte(" \n\n\t\n")), LoadOptions{}, []error{ErrEmpty}},
		{"markup only", writeFile(t, dir, "x.html", []byte("<html><script>a()</script></html>")), LoadOptions{}, []error{ErrEmpty}},
		{"binary", writeFile(t, dir, "bin.dat", []byte("\x7fELF\x02\x01\x01\x00\x00\x00")), LoadOptions{}, []error{ErrBinary, data.ErrUnsupported}},
		{"binary txt", writeFile(t, dir, "bin.txt", []byte("abc\x00def")), LoadOptions{}, []error{ErrBinary}},
		{"huge", huge, LoadOptions{}, []error{data.ErrTooLarge}},
		{"over limit", writeFile(t, dir, "small.txt", []byte("0123456789")), LoadOptions{MaxFileBytes: 5}, []error{data.ErrTooLarge}},
		{"bad pdf", writeFile(t, dir, "bad.pdf", []byte("%PDF-1.4\nnot really\n%%EOF\n")), LoadOptions{}, []error{data.ErrInvalid}},
		{"not pdf", writeFile(t, dir, "text.pdf", []byte("just text")), LoadOptions{}, []error{data.ErrInvalid}},
		{"unknown format", writeFile(t, dir, "a.txt", []byte("x")), LoadOptions{Format: "docx"}, []error{data.ErrUnsupported}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := LoadFile(context.Background(), tt.path, tt.opts)
			if err == nil {
				t.Fatalf("no error; docs %+v", ps)
			}
			if ps != nil {
				t.Errorf("docs %+v returned with error %v", ps, err)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v is not %v", err, w)
				}
			}
			if !strings.Contains(err.Error(), filepath.Base(tt.path)) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoadReaderStdin(t *testing.T) {
	tests := []struct {
		name, format, in, wantTitle, wantText string
		wantFormat                            string
	}{
		{"sniff markdown", "", "# Hi\n\nthere [x](y)", "Hi", "Hi\n\nthere x", FormatMarkdown},
		{"sniff html", "", "<!doctype html><title>T</title><p>body</p>", "T", "body", FormatHTML},
		{"sniff text", "", "just words", "", "just words", FormatText},
		{"forced md", FormatMarkdown, "plain *em*", "", "plain em", FormatMarkdown},
		{"forced txt", FormatText, "# not a heading", "", "# not a heading", FormatText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := LoadReader(context.Background(), strings.NewReader(tt.in), "-", tt.format, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			checkParsed(t, p)
			if p.Format != tt.wantFormat {
				t.Errorf("format %q, want %q", p.Format, tt.wantFormat)
			}
			if p.Doc.Source != "stdin" || p.Doc.ID != "stdin" {
				t.Errorf("source %q id %q, want stdin", p.Doc.Source, p.Doc.ID)
			}
			if p.Doc.Title != tt.wantTitle || p.Doc.Text != tt.wantText {
				t.Errorf("got %q / %q, want %q / %q", p.Doc.Title, p.Doc.Text, tt.wantTitle, tt.wantText)
			}
		})
	}
	_, err := LoadReader(context.Background(), strings.NewReader(strings.Repeat("x", 100)), "-", "", LoadOptions{MaxFileBytes: 10})
	if !errors.Is(err, data.ErrTooLarge) {
		t.Errorf("oversized stdin: %v", err)
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := writeFile(t, t.TempDir(), "a.txt", []byte("text"))
	if _, err := LoadFile(ctx, path, LoadOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestStreamFileStopsOnCallbackError(t *testing.T) {
	path := writeFile(t, t.TempDir(), "c.jsonl", []byte(`{"_id":"1","text":"a"}`+"\n"+`{"_id":"2","text":"b"}`+"\n"))
	stop := errors.New("stop")
	n := 0
	err := StreamFile(context.Background(), path, LoadOptions{}, func(Parsed) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d docs; want stop after 1", err, n)
	}
}
