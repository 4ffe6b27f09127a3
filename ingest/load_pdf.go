package ingest

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"

	"github.com/ragd/ragd/data"
)

// maxPDFPages bounds the pages read from one PDF (a malformed page count
// must not make the loader spin).
const maxPDFPages = 100000

// parsePDF extracts the text of each page with github.com/ledongthuc/pdf,
// pages separated by paragraph breaks. Panics inside the library become
// errors wrapping data.ErrInvalid. A page that fails is skipped with a
// warning; a file with no readable page fails. Encrypted files are
// unsupported. The title is the document information dictionary's Title.
func parsePDF(ctx context.Context, b []byte) (p Parsed, err error) {
	defer func() {
		if r := recover(); r != nil {
			p = Parsed{}
			err = fmt.Errorf("%w: malformed PDF: %v", data.ErrInvalid, r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if strings.Contains(err.Error(), "encrypt") || strings.Contains(err.Error(), "password") {
			return Parsed{}, fmt.Errorf("%w: encrypted PDF: %v", data.ErrUnsupported, err)
		}
		return Parsed{}, fmt.Errorf("%w: malformed PDF: %v", data.ErrInvalid, err)
	}
	var warns []string
	var title string
	func() {
		defer func() { _ = recover() }()
		title, _ = sanitize(r.Trailer().Key("Info").Key("Title").Text(), nil)
		title = collapse(title)
	}()
	n := r.NumPage()
	if n <= 0 {
		return Parsed{}, fmt.Errorf("%w: PDF has no pages", data.ErrInvalid)
	}
	if n > maxPDFPages {
		warns = append(warns, fmt.Sprintf("PDF claims %d pages; reading at most %d", n, maxPDFPages))
		n = maxPDFPages
	}
	var sb strings.Builder
	read, failed := 0, 0
	for i := 1; i <= n; i++ {
		if err := ctx.Err(); err != nil {
			return Parsed{}, err
		}
		text, perr := pdfPage(r, i)
		if perr == errNoPage {
			break
		}
		if perr != nil {
			failed++
			if failed <= 10 {
				warns = append(warns, fmt.Sprintf("page %d: %v", i, perr))
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

var errNoPage = fmt.Errorf("no such page")

// pdfPage reads one page's text, turning library panics into errors.
func pdfPage(r *pdf.Reader, i int) (text string, err error) {
	defer func() {
		if x := recover(); x != nil {
			text, err = "", fmt.Errorf("malformed page: %v", x)
		}
	}()
	pg := r.Page(i)
	if pg.V.IsNull() {
		return "", errNoPage
	}
	// Each page gets its own fonts: resource names repeat across pages.
	return pg.GetPlainText(pageFonts(pg))
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
			if blank > 1 {
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
