package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
)

// Formats understood by the loaders.
const (
	FormatText     = "txt"
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatPDF      = "pdf"
	FormatJSONL    = "jsonl"
)

// Sentinel errors of the loaders. Both wrap a data sentinel, so callers may
// test either: errors.Is(err, ErrBinary) or errors.Is(err, data.ErrUnsupported).
var (
	// ErrBinary: the content is not text (NUL bytes, mostly control bytes or
	// mostly invalid UTF-8) and has no loader of its own.
	ErrBinary = fmt.Errorf("ingest: binary content: %w", data.ErrUnsupported)
	// ErrEmpty: the input holds no text once markup is removed.
	ErrEmpty = fmt.Errorf("ingest: no text: %w", data.ErrInvalid)
)

// Default limits (see LoadOptions).
const (
	DefaultMaxFileBytes = 100 << 20
	DefaultMaxLineBytes = 16 << 20
	DefaultPDFTimeout   = 5 * time.Minute
	// MaxLineErrors is how many bad-line errors a PartialError keeps; it
	// still counts all of them.
	MaxLineErrors = 100
)

// LoadOptions configures the loaders. The zero value is ready to use.
type LoadOptions struct {
	// MaxFileBytes bounds a whole-file document (txt, md, html, pdf). A file
	// larger than this is rejected by its size before it is read, with an
	// error wrapping data.ErrTooLarge. JSONL is streamed and bounded per line
	// instead. Default DefaultMaxFileBytes (100 MiB).
	MaxFileBytes int64
	// MaxLineBytes bounds one JSONL line; a longer line is skipped and
	// reported like any other bad line. Default DefaultMaxLineBytes (16 MiB).
	MaxLineBytes int
	// Format forces a format (FormatText, FormatMarkdown, ...) instead of
	// detecting it from the file name and content.
	Format string
	// PDFTimeout bounds the text extraction of one PDF. The PDF library
	// can loop forever on some malformed files; such a load then fails
	// with data.ErrInvalid and leaves the stuck goroutine behind. Default
	// DefaultPDFTimeout (5 minutes).
	PDFTimeout time.Duration
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.PDFTimeout <= 0 {
		o.PDFTimeout = DefaultPDFTimeout
	}
	return o
}

// Parsed is one loaded document plus what the loader learned about it.
type Parsed struct {
	// Doc has ID (the given id, else the source path), Title, Text, Source,
	// Metadata (JSONL only) and Hash = data.ContentHash(Title, Text).
	Doc data.Document
	// Sections are the heading structure of Doc.Text (markdown and HTML),
	// sorted and non-overlapping, as byte offsets into Doc.Text. Text before
	// the first heading belongs to no section. Nil for other formats.
	Sections []Section
	// Format is the loader that read it (FormatText, FormatMarkdown, ...).
	Format string
	// Warnings are problems that were repaired (invalid UTF-8, a PDF page
	// that could not be read, a JSONL record without id...).
	Warnings []string
}

// Section is a span of a document's text under one heading path.
type Section struct {
	// Start and End are byte offsets into Doc.Text.
	Start, End int
	// Headings is the path from the outermost heading to the one that opens
	// this section, e.g. ["Guide", "Install", "Linux"].
	Headings []string
}

// LineError is one JSONL line that could not be loaded.
type LineError struct {
	Source string
	Line   int // 1-based
	Err    error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// PartialError reports JSONL lines that were skipped while the other lines
// loaded. The loaders return it together with the documents that did load,
// so check for it with errors.As before treating an error as fatal.
// errors.Is(err, data.ErrInvalid) holds for it.
type PartialError struct {
	Source string
	// Count is the number of skipped lines; Lines holds the first
	// MaxLineErrors of them.
	Count int
	Lines []*LineError
}

func (e *PartialError) Error() string {
	if len(e.Lines) == 0 {
		return fmt.Sprintf("%s: %d bad lines skipped", e.Source, e.Count)
	}
	more := ""
	if e.Count > 1 {
		more = fmt.Sprintf(" (and %d more)", e.Count-1)
	}
	return fmt.Sprintf("%d bad lines skipped in %s: first: %v%s", e.Count, e.Source, e.Lines[0], more)
}

// Unwrap makes errors.Is(err, data.ErrInvalid) true.
func (e *PartialError) Unwrap() error { return data.ErrInvalid }

func (e *PartialError) add(le *LineError) {
	e.Count++
	if len(e.Lines) < MaxLineErrors {
		e.Lines = append(e.Lines, le)
	}
}

// LoadFile loads the documents in one file: one for txt, md, html and pdf,
// one per line for JSONL. The format comes from opts.Format, else the file
// extension, else the content (see DetectFormat).
//
// When some JSONL lines are bad, LoadFile returns the good documents and a
// *PartialError. Any other error means no documents.
func LoadFile(ctx context.Context, path string, opts LoadOptions) ([]Parsed, error) {
	var out []Parsed
	err := StreamFile(ctx, path, opts, func(p Parsed) error {
		out = append(out, p)
		return nil
	})
	var pe *PartialError
	if err != nil && !errors.As(err, &pe) {
		return nil, err
	}
	return out, err
}

// LoadReader is LoadFile for a reader. name is the source path ("-" means
// standard input, recorded as source and id "stdin"); format may be empty
// to detect it from name and content.
func LoadReader(ctx context.Context, r io.Reader, name, format string, opts LoadOptions) ([]Parsed, error) {
	var out []Parsed
	if format != "" {
		opts.Format = format
	}
	err := StreamReader(ctx, r, name, opts, func(p Parsed) error {
		out = append(out, p)
		return nil
	})
	var pe *PartialError
	if err != nil && !errors.As(err, &pe) {
		return nil, err
	}
	return out, err
}

// StreamFile is LoadFile that hands each document to fn as soon as it is
// parsed instead of collecting them: the way to read a large JSONL corpus.
// An error from fn stops the load and is returned as is. Bad JSONL lines are
// returned as a *PartialError after all good documents were delivered.
func StreamFile(ctx context.Context, path string, opts LoadOptions, fn func(Parsed) error) error {
	if path == "-" {
		return StreamReader(ctx, os.Stdin, "-", opts, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	opts = opts.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if info.IsDir() {
		return fmt.Errorf("ingest %s: is a directory: %w", path, data.ErrInvalid)
	}
	format := opts.Format
	if format == "" {
		format = formatFromName(path)
	}
	if format != FormatJSONL && info.Size() > opts.MaxFileBytes {
		return fmt.Errorf("ingest %s: %d bytes, limit %d: %w", path, info.Size(), opts.MaxFileBytes, data.ErrTooLarge)
	}
	return streamReader(ctx, f, path, path, opts, fn)
}

// StreamReader is StreamFile for a reader; see LoadReader for name.
func StreamReader(ctx context.Context, r io.Reader, name string, opts LoadOptions, fn func(Parsed) error) error {
	source := name
	if name == "-" || name == "" {
		source = "stdin"
	}
	return streamReader(ctx, r, name, source, opts.withDefaults(), fn)
}

func streamReader(ctx context.Context, r io.Reader, name, source string, opts LoadOptions, fn func(Parsed) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	format := opts.Format
	if format != "" {
		if !knownFormat(format) {
			return fmt.Errorf("ingest %s: format %q (want txt, md, html, pdf or jsonl): %w", source, format, data.ErrUnsupported)
		}
	} else {
		format = formatFromName(name)
	}
	if format == FormatJSONL {
		return loadJSONL(ctx, r, source, opts, fn)
	}
	b, err := io.ReadAll(io.LimitReader(r, opts.MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("ingest %s: %w", source, err)
	}
	if int64(len(b)) > opts.MaxFileBytes {
		return fmt.Errorf("ingest %s: more than %d bytes: %w", source, opts.MaxFileBytes, data.ErrTooLarge)
	}
	if format == "" {
		format, err = DetectFormat(name, b)
		if err != nil {
			return fmt.Errorf("ingest %s: %w", source, err)
		}
		if format == FormatJSONL {
			return loadJSONL(ctx, bytes.NewReader(b), source, opts, fn)
		}
	}
	p, err := parseWhole(ctx, b, format, opts)
	if err != nil {
		return fmt.Errorf("ingest %s: %w", source, err)
	}
	p.Doc.ID = source
	p.Doc.Source = source
	p.Format = format
	p.Doc.Hash = data.ContentHash(p.Doc.Title, p.Doc.Text)
	return fn(p)
}

// parseWhole runs the loader of a whole-file format.
func parseWhole(ctx context.Context, b []byte, format string, opts LoadOptions) (Parsed, error) {
	if len(b) == 0 {
		return Parsed{}, ErrEmpty
	}
	var (
		p   Parsed
		err error
	)
	switch format {
	case FormatPDF:
		p, err = parsePDF(ctx, b, opts.PDFTimeout)
	case FormatText, FormatMarkdown, FormatHTML:
		text, warns, terr := decodeText(b)
		if terr != nil {
			return Parsed{}, terr
		}
		switch format {
		case FormatText:
			p = parseText(text)
		case FormatMarkdown:
			p = parseMarkdown(text)
		default:
			p, err = parseHTML(text)
		}
		p.Warnings = append(warns, p.Warnings...)
	default:
		return Parsed{}, fmt.Errorf("format %q: %w", format, data.ErrUnsupported)
	}
	if err != nil {
		return Parsed{}, err
	}
	if strings.TrimSpace(p.Doc.Text) == "" {
		return Parsed{}, ErrEmpty
	}
	return p, nil
}

func knownFormat(f string) bool {
	switch f {
	case FormatText, FormatMarkdown, FormatHTML, FormatPDF, FormatJSONL:
		return true
	}
	return false
}

// formatFromName maps a file extension to a format; "" when unknown.
func formatFromName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".txt", ".text":
		return FormatText
	case ".md", ".markdown", ".mdown", ".mkd":
		return FormatMarkdown
	case ".html", ".htm", ".xhtml":
		return FormatHTML
	case ".pdf":
		return FormatPDF
	case ".jsonl", ".ndjson":
		return FormatJSONL
	}
	return ""
}

// DetectFormat picks a format from a file name's extension, else from the
// first bytes of its content: "%PDF-" is pdf; an HTML doctype or <html>,
// <head> or <body> tag is html; a first line holding a JSON object is jsonl;
// an ATX heading ("# ") on the first line is markdown; other text is txt.
// Content that is not text gives an error wrapping ErrBinary.
func DetectFormat(name string, head []byte) (string, error) {
	if f := formatFromName(name); f != "" {
		return f, nil
	}
	if bytes.HasPrefix(head, []byte("%PDF-")) {
		return FormatPDF, nil
	}
	if looksBinary(head) {
		return "", ErrBinary
	}
	h := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	lower := bytes.ToLower(h[:min(len(h), 512)])
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<!--"} {
		if bytes.HasPrefix(lower, []byte(p)) {
			if p != "<!--" || bytes.Contains(lower, []byte("<html")) {
				return FormatHTML, nil
			}
		}
	}
	first := h
	if i := bytes.IndexByte(h, '\n'); i >= 0 {
		first = h[:i]
	}
	first = bytes.TrimSpace(first)
	if len(first) > 1 && first[0] == '{' && first[len(first)-1] == '}' {
		return FormatJSONL, nil
	}
	if bytes.HasPrefix(first, []byte("# ")) || bytes.HasPrefix(first, []byte("## ")) {
		return FormatMarkdown, nil
	}
	return FormatText, nil
}
