package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
)

// buildPDF writes a minimal valid PDF 1.4: one page per entry of pages,
// each line of a page drawn with Helvetica, an information dictionary with
// title (when not empty) and a cross-reference table with exact offsets.
func buildPDF(title string, pages ...string) []byte {
	streams := make([]string, len(pages))
	for p, text := range pages {
		var content strings.Builder
		content.WriteString("BT /F1 12 Tf 14 TL 72 720 Td\n")
		for i, line := range strings.Split(text, "\n") {
			if i > 0 {
				content.WriteString("T*\n")
			}
			fmt.Fprintf(&content, "(%s) Tj\n", pdfEscape(line))
		}
		content.WriteString("ET")
		streams[p] = content.String()
	}
	return buildPDFStreams(title, false, streams...)
}

// buildPDFStreams is buildPDF with raw content streams; widths gives the
// font a /Widths array (every glyph 500/1000 em), as embedded fonts have.
func buildPDFStreams(title string, widths bool, streams ...string) []byte {
	var objs []string // objs[i] is object i+1
	add := func(s string) int {
		objs = append(objs, s)
		return len(objs)
	}
	catalog := add("") // filled in below
	pagesObj := add("")
	fontDict := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding"
	if widths {
		fontDict += " /FirstChar 32 /LastChar 126 /Widths [" + strings.TrimSpace(strings.Repeat("500 ", 95)) + "]"
	}
	font := add(fontDict + " >>")
	var kids []string
	for _, content := range streams {
		stream := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
		page := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>",
			pagesObj, font, stream))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj)
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	info := 0
	if title != "" {
		info = add(fmt.Sprintf("<< /Title (%s) /Producer (ragd test) >>", pdfEscape(title)))
	}
	return writePDF(objs, catalog, info)
}

// writePDF lays out objects (objs[i] is object i+1) with a header, a
// cross-reference table with exact offsets and a trailer.
func writePDF(objs []string, root, info int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R", len(objs)+1, root)
	if info > 0 {
		fmt.Fprintf(&b, " /Info %d 0 R", info)
	}
	fmt.Fprintf(&b, " >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(s)
}

func TestPDFExtractsPages(t *testing.T) {
	pdf := buildPDF("A (small) test", "Hello PDF world.\nSecond line here.", "Page two text.", "")
	path := writeFile(t, t.TempDir(), "doc.pdf", pdf)
	ps, err := LoadFile(context.Background(), path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	checkParsed(t, p)
	if p.Doc.Title != "A (small) test" {
		t.Errorf("title %q", p.Doc.Title)
	}
	want := "Hello PDF world.\nSecond line here.\n\nPage two text."
	if p.Doc.Text != want {
		t.Errorf("text %q, want %q", p.Doc.Text, want)
	}
	// Sniffed from content when the name says nothing.
	ps, err = LoadReader(context.Background(), bytes.NewReader(pdf), "-", "", LoadOptions{})
	if err != nil || ps[0].Doc.Text != want {
		t.Fatalf("stdin pdf: %v %+v", err, ps)
	}
}

func TestPDFMalformed(t *testing.T) {
	good := buildPDF("", "Some text.")
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"truncated", good[:len(good)/2], data.ErrInvalid},
		{"bad xref offset", bytes.Replace(good, []byte("startxref\n"), []byte("startxref\n9"), 1), data.ErrInvalid},
		{"garbage body", append([]byte("%PDF-1.4\n"), append(bytes.Repeat([]byte("(x) obj << >> "), 50), []byte("\nstartxref\n10\n%%EOF\n")...)...), data.ErrInvalid},
		{"no pages", buildPDF("t"), data.ErrInvalid},
		{"blank pages", buildPDF("t", "", " "), ErrEmpty},
		{"header only", []byte("%PDF-1.7\n"), data.ErrInvalid},
		{"empty", nil, ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := LoadReader(context.Background(), bytes.NewReader(tt.b), "x.pdf", "", LoadOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v (docs %+v)", err, tt.want, ps)
			}
		})
	}
}

func TestPDFCorruptPageIsSkipped(t *testing.T) {
	// A page whose content stream has an operator with the wrong number of
	// operands makes the library panic; that page is skipped with a
	// warning while the others load.
	pdf := buildPDF("", "Good page.", "PLACEHOLDER")
	pdf = bytes.Replace(pdf, []byte("(PLACEHOLDER) Tj"), []byte("1 2 3 Tf (XY) Tj"), 1)
	// The replacement changed lengths: rebuild offsets by re-parsing is
	// overkill, so keep the byte count equal instead.
	if len(pdf) != len(buildPDF("", "Good page.", "PLACEHOLDER")) {
		t.Fatalf("test PDF length changed")
	}
	ps, err := LoadReader(context.Background(), bytes.NewReader(pdf), "x.pdf", "", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	if !strings.Contains(p.Doc.Text, "Good page.") || strings.Contains(p.Doc.Text, "XY") {
		t.Errorf("text %q", p.Doc.Text)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "page 2") {
		t.Errorf("warnings %q", p.Warnings)
	}
}

func TestPDFLayoutSpaces(t *testing.T) {
	// TeX-style output: no space characters, words placed by TJ offsets
	// and Td moves. Kerning (small offsets) must not split words.
	tests := []struct {
		name   string
		widths bool
		stream string
		want   string
	}{
		{"TJ offsets with widths", true, "BT /F1 10 Tf 72 700 Td [(Word)-20(s) -400 (are) -400 (apart)] TJ ET", "Words are apart"},
		{"TJ offsets without widths", false, "BT /F1 10 Tf 72 700 Td [(Two) -400 (words)] TJ ET", "Two words"},
		{"Td moves", true, "BT /F1 10 Tf 72 700 Td (left) Tj 40 0 Td (right) Tj ET", "left right"},
		{"lines and paragraphs", true, "BT /F1 10 Tf 72 700 Td (one) Tj 0 -12 Td (two) Tj 0 -40 Td (three) Tj ET", "one\ntwo\n\nthree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := buildPDFStreams("", tt.widths, tt.stream)
			ps, err := LoadReader(context.Background(), bytes.NewReader(b), "x.pdf", "", LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ps[0].Doc.Text; got != tt.want {
				t.Errorf("text %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPDFCyclesAndTimeout(t *testing.T) {
	const content = "<< /Length 24 >>\nstream\nBT /F1 12 Tf (x) Tj ET\nendstream"
	const font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	tests := []struct {
		name string
		objs []string
	}{
		// The page tree lists itself as a kid: the library's own page
		// lookup would loop forever.
		{"cyclic kids", []string{
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [2 0 R 4 0 R] /Count 2 >>",
			font,
			"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
			content,
		}},
		// A page without resources is its own parent: the inherited
		// resource lookup would loop forever.
		{"cyclic parent", []string{
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
			font,
			"<< /Type /Page /Parent 4 0 R /Contents 5 0 R >>",
			content,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := writePDF(tt.objs, 1, 0)
			_, err := LoadReader(context.Background(), bytes.NewReader(b), "c.pdf", "", LoadOptions{})
			if !errors.Is(err, data.ErrInvalid) {
				t.Fatalf("err %v, want data.ErrInvalid", err)
			}
		})
	}

	pages := make([]string, 300)
	for i := range pages {
		pages[i] = fmt.Sprintf("page %d", i)
	}
	big := buildPDF("", pages...)
	_, err := LoadReader(context.Background(), bytes.NewReader(big), "slow.pdf", "", LoadOptions{PDFTimeout: time.Nanosecond})
	if !errors.Is(err, data.ErrInvalid) || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("err %v, want a timeout", err)
	}
	ps, err := LoadReader(context.Background(), bytes.NewReader(big), "slow.pdf", "", LoadOptions{})
	if err != nil || !strings.HasSuffix(ps[0].Doc.Text, "page 299") {
		t.Fatalf("without timeout: %v", err)
	}
}
