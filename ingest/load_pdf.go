package ingest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/ragd/ragd/data"
)

// Bounds on what one PDF may make the loader do.
const (
	// maxPDFPages bounds the pages read from one PDF.
	maxPDFPages = 100000
	// maxPDFTreeDepth and maxPDFTreeNodes bound the walk of the page tree,
	// which a malformed file can make cyclic.
	maxPDFTreeDepth = 64
	maxPDFTreeNodes = 4 * maxPDFPages
)

// parsePDF runs extractPDF under a deadline: the PDF library can loop
// forever on some malformed files (cyclic object streams, for one), and Go
// cannot stop a goroutine, so after timeout the load fails and the stuck
// goroutine is abandoned. ctx cancels the wait at once.
func parsePDF(ctx context.Context, b []byte, timeout time.Duration) (Parsed, error) {
	type result struct {
		p   Parsed
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // also stops a running extraction between pages
	ch := make(chan result, 1)
	go func() {
		p, err := extractPDF(ctx, b)
		ch <- result{p, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r.p, r.err
	case <-ctx.Done():
		return Parsed{}, ctx.Err()
	case <-timer.C:
		return Parsed{}, fmt.Errorf("%w: PDF text extraction did not finish within %v (malformed file?)", data.ErrInvalid, timeout)
	}
}

// extractPDF extracts the text of each page with github.com/ledongthuc/pdf,
// pages separated by paragraph breaks. Panics inside the library become
// errors wrapping data.ErrInvalid. A page that fails is skipped with a
// warning; a file with no readable page fails. Encrypted files are
// unsupported. The title is the document information dictionary's Title.
func extractPDF(ctx context.Context, b []byte) (p Parsed, err error) {
	defer func() {
		if r := recover(); r != nil {
			p = Parsed{}
			err = fmt.Errorf("%w: malformed PDF: %v", data.ErrInvalid, r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if strings.Contains(err.Error(), "encrypt") || strings.Contains(err.Error(), "password") {
			return Parsed{}, fmt.Errorf("%w: encrypted PDF: %v", data.ErrUnsupported, err) //nolint:errorlint // cause kept as text: an io.EOF inside must not read as a clean end of input
		}
		return Parsed{}, fmt.Errorf("%w: malformed PDF: %v", data.ErrInvalid, err) //nolint:errorlint // cause kept as text: an io.EOF inside must not read as a clean end of input
	}
	var warns []string
	var title string
	func() {
		defer func() { _ = recover() }()
		title, _ = sanitize(r.Trailer().Key("Info").Key("Title").Text(), nil)
		title = collapse(title)
	}()
	pages, truncated := pdfPages(r)
	if len(pages) == 0 {
		return Parsed{}, fmt.Errorf("%w: PDF has no pages", data.ErrInvalid)
	}
	if truncated {
		warns = append(warns, fmt.Sprintf("page tree too large or cyclic; read its first %d pages", len(pages)))
	}
	var sb strings.Builder
	read, failed := 0, 0
	for i, pg := range pages {
		if err := ctx.Err(); err != nil {
			return Parsed{}, err
		}
		text, perr := pdfPage(pg)
		if perr != nil {
			failed++
			if failed <= 10 {
				warns = append(warns, fmt.Sprintf("page %d: %v", i+1, perr))
			}
			continue
		}
		read++
		text, _ = sanitize(text, nil)
		text = tidyLines(text)
		if text == "" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteString("\n\n")
		}
		sb.WriteString(text)
	}
	if read == 0 {
		return Parsed{}, fmt.Errorf("%w: no readable PDF page (%d failed)", data.ErrInvalid, failed)
	}
	if sb.Len() == 0 {
		return Parsed{}, fmt.Errorf("%w (a scanned PDF without a text layer?)", ErrEmpty)
	}
	return Parsed{Doc: data.Document{Title: title, Text: sb.String()}, Warnings: warns}, nil
}

// pdfPages lists the pages in document order by walking the page tree
// with bounded depth and size (the library's own lookup loops forever on a
// cyclic tree). truncated reports that a bound was hit.
func pdfPages(r *pdf.Reader) (pages []pdf.Page, truncated bool) {
	nodes := 0
	var walk func(v pdf.Value, depth int)
	walk = func(v pdf.Value, depth int) {
		nodes++
		if depth > maxPDFTreeDepth || nodes > maxPDFTreeNodes || len(pages) >= maxPDFPages {
			truncated = true
			return
		}
		kids := v.Key("Kids")
		switch {
		case v.Key("Type").Name() == "Page", kids.Kind() != pdf.Array && !v.Key("Contents").IsNull():
			pages = append(pages, pdf.Page{V: v})
		case kids.Kind() == pdf.Array:
			for i := 0; i < kids.Len() && !truncated; i++ {
				walk(kids.Index(i), depth+1)
			}
		}
	}
	walk(r.Trailer().Key("Root").Key("Pages"), 0)
	return pages, truncated
}

var errCyclicParent = fmt.Errorf("cyclic page tree")

// pdfPage reads one page's text, turning library panics into errors. It
// lays the page's glyphs out by position (see layoutGlyphs), which keeps
// the spaces that PDF writers such as TeX express as glyph offsets rather
// than space characters; when that fails it falls back to the library's
// plain text.
func pdfPage(pg pdf.Page) (text string, err error) {
	defer func() {
		if x := recover(); x != nil {
			text, err = "", fmt.Errorf("malformed page: %v", x)
		}
	}()
	// Inherited resources are looked up along Parent links, without a
	// bound in the library.
	v := pg.V
	for i := 0; !v.IsNull(); i++ {
		if i > maxPDFTreeDepth {
			return "", errCyclicParent
		}
		v = v.Key("Parent")
	}
	if text, ok := positionedText(pg); ok {
		return text, nil
	}
	return pg.GetPlainText(pageFonts(pg))
}

// positionedText lays out the page's glyphs; ok is false when the library
// panicked on the page.
func positionedText(pg pdf.Page) (text string, ok bool) {
	defer func() {
		if x := recover(); x != nil {
			text, ok = "", false
		}
	}()
	return layoutGlyphs(pg.Content().Text), true
}

// layoutGlyphs joins glyphs in content-stream order: a vertical move of
// more than half the font size starts a line (more than twice the font
// size, a paragraph); a horizontal gap of more than 0.15 of the font size
// after the previous glyph's end, or a move back to the left, is a space.
func layoutGlyphs(glyphs []pdf.Text) string {
	var sb strings.Builder
	var prev *pdf.Text
	for i := range glyphs {
		g := &glyphs[i]
		if g.S == "" || g.S == "\n" {
			continue
		}
		if prev != nil {
			fs := max(abs(prev.FontSize), abs(g.FontSize), 1)
			dy := abs(g.Y - prev.Y)
			gap := g.X - (prev.X + prev.W)
			switch {
			case dy > 2*fs:
				sb.WriteString("\n\n")
			case dy > fs/2:
				sb.WriteByte('\n')
			case gap > 0.15*fs || g.X < prev.X-fs:
				if !strings.HasSuffix(sb.String(), " ") && g.S != " " {
					sb.WriteByte(' ')
				}
			}
		}
		sb.WriteString(g.S)
		prev = g
	}
	return sb.String()
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// pageFonts returns a page's fonts by resource name.
func pageFonts(pg pdf.Page) map[string]*pdf.Font {
	m := map[string]*pdf.Font{}
	for _, name := range pg.Fonts() {
		f := pg.Font(name)
		m[name] = &f
	}
	return m
}

// tidyLines trims trailing spaces from lines and collapses runs of blank
// lines into one paragraph break.
func tidyLines(s string) string {
	var sb strings.Builder
	blank := 0
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, " \t\f")
		if strings.TrimSpace(l) == "" {
			blank++
			continue
		}
		if sb.Len() > 0 {
			if blank > 0 {
				sb.WriteString("\n\n")
			} else {
				sb.WriteByte('\n')
			}
		}
		blank = 0
		sb.WriteString(l)
	}
	return sb.String()
}
