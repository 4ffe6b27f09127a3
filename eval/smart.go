package eval

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ragd/ragd/data"
)

// smartFiles names the three files of each SMART/Cornell collection.
var smartFiles = map[string][3]string{
	"cranfield": {"cran.all.1400", "cran.qry", "cranqrel"},
	"cisi":      {"CISI.ALL", "CISI.QRY", "CISI.REL"},
	"med":       {"MED.ALL", "MED.QRY", "MED.REL"},
	"cacm":      {"cacm.all", "query.text", "qrels.text"},
}

// smartRecord is one .I record: its id and its fields by letter.
type smartRecord struct {
	ID     string
	Fields map[byte]string
}

// parseSMART reads a SMART/Cornell file: records start with ".I <id>";
// fields start with a line ".X" (X a letter; text may follow on the same
// line) and run to the next field or record. Field lines are joined with
// newlines and trimmed.
func parseSMART(r io.Reader) ([]smartRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var (
		recs  []smartRecord
		cur   *smartRecord
		field byte
		buf   []string
		line  int
	)
	flush := func() {
		if cur != nil && field != 0 {
			cur.Fields[field] = strings.TrimSpace(strings.Join(buf, "\n"))
		}
		buf = buf[:0]
	}
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), " \t\r")
		if isSMARTMarker(s) {
			flush()
			letter := s[1]
			rest := strings.TrimSpace(s[2:])
			if letter == 'I' {
				if rest == "" {
					return nil, fmt.Errorf("%w: line %d: .I without an id", ErrFormat, line)
				}
				recs = append(recs, smartRecord{ID: rest, Fields: map[byte]string{}})
				cur = &recs[len(recs)-1]
				field = 0
				continue
			}
			if cur == nil {
				return nil, fmt.Errorf("%w: line %d: field .%c before the first .I", ErrFormat, line, letter)
			}
			field = letter
			if rest != "" {
				buf = append(buf, rest)
			}
			continue
		}
		if cur == nil {
			if strings.TrimSpace(s) == "" {
				continue
			}
			return nil, fmt.Errorf("%w: line %d: text before the first .I", ErrFormat, line)
		}
		if field != 0 {
			buf = append(buf, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read SMART file: %w", err)
	}
	flush()
	return recs, nil
}

// isSMARTMarker reports whether a line is ".X" or ".X <text>" with X an
// upper-case letter.
func isSMARTMarker(s string) bool {
	if len(s) < 2 || s[0] != '.' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	return len(s) == 2 || s[2] == ' ' || s[2] == '\t'
}

func loadSMART(format, dir string, opts LoadOptions) (*Dataset, error) {
	names, known := smartFiles[format]
	var found [3]string
	if known {
		for i, n := range names {
			found[i] = findFile(dir, n)
		}
	}
	docsPath, err := resolve(dir, opts.Docs, found[0], "documents")
	if err != nil {
		return nil, err
	}
	qryPath, err := resolve(dir, opts.Queries, found[1], "queries")
	if err != nil {
		return nil, err
	}
	relPath, err := resolve(dir, opts.Qrels, found[2], "relevance")
	if err != nil {
		return nil, err
	}
	gain := opts.Gain
	if gain == nil {
		gain = PositiveGain
		if format == "cranfield" {
			gain = CranfieldGain
		}
	}
	ds := &Dataset{Name: format, Qrels: Qrels{}}
	if format == "smart" {
		ds.Name = "smart"
	}

	docRecs, err := parseSMARTFile(docsPath)
	if err != nil {
		return nil, err
	}
	for _, r := range docRecs {
		d := data.Document{ID: trimZeros(r.ID), Title: oneLine(r.Fields['T']), Text: r.Fields['W'], Source: docsPath}
		if opts.StripTitle {
			d.Text = stripTitle(d.Title, d.Text)
		}
		ds.Docs = append(ds.Docs, d)
	}

	qRecs, err := parseSMARTFile(qryPath)
	if err != nil {
		return nil, err
	}
	byPosition := format == "cranfield"
	for i, r := range qRecs {
		text := r.Fields['W']
		if text == "" {
			text = r.Fields['T']
		}
		q := Query{ID: r.ID, Text: oneLine(text)}
		if byPosition {
			// Cranfield's judgements number queries 1..225 by position,
			// while the .I numbers skip (001, 002, 004, 008, ...).
			q.ID, q.Number = strconv.Itoa(i+1), r.ID
		} else {
			q.ID = trimZeros(r.ID)
		}
		ds.Queries = append(ds.Queries, q)
	}

	f, err := os.Open(relPath)
	if err != nil {
		return nil, fmt.Errorf("eval: relevance file: %w", err)
	}
	defer f.Close()
	if err := readSMARTRel(f, ds.Qrels, gain, !byPosition); err != nil {
		return nil, fmt.Errorf("%s: %w", relPath, err)
	}
	return ds, nil
}

func parseSMARTFile(path string) ([]smartRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	recs, err := parseSMART(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: %s has no .I records", ErrFormat, path)
	}
	return recs, nil
}

// readSMARTRel reads the relevance layouts of the SMART collections:
//
//	cranqrel:                      <query> <doc> <rel>
//	CISI.REL, qrels.text (CACM):   <query> <doc> <x> <y>   (binary: rel 1)
//	MED.REL:                       <query> 0 <doc> <rel>   (TREC layout)
//
// A four-column file whose second column is 0 on every line is read as the
// TREC layout (no document has id 0 in these collections). Query ids lose
// leading zeros when trim is set, to match the .I numbers.
func readSMARTRel(r io.Reader, q Qrels, gain func(int) float64, trim bool) error {
	type row struct {
		f    []string
		line int
	}
	var rows []row
	sc := bufio.NewScanner(r)
	line := 0
	cols := 0
	trecLayout := true
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if cols == 0 {
			cols = len(f)
			if cols != 3 && cols != 4 {
				return fmt.Errorf("%w: line %d: want 3 or 4 columns, got %d", ErrFormat, line, cols)
			}
		}
		if len(f) != cols {
			return fmt.Errorf("%w: line %d: want %d columns, got %d", ErrFormat, line, cols, len(f))
		}
		if cols == 4 && f[1] != "0" {
			trecLayout = false
		}
		rows = append(rows, row{f, line})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("eval: read relevance: %w", err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("%w: relevance file is empty", ErrFormat)
	}
	for _, rw := range rows {
		qid, doc, rel := rw.f[0], rw.f[1], 1
		switch {
		case cols == 3:
			v, err := strconv.Atoi(rw.f[2])
			if err != nil {
				return fmt.Errorf("%w: line %d: relevance %q is not an integer", ErrFormat, rw.line, rw.f[2])
			}
			rel = v
		case trecLayout:
			doc = rw.f[2]
			v, err := strconv.Atoi(rw.f[3])
			if err != nil {
				return fmt.Errorf("%w: line %d: relevance %q is not an integer", ErrFormat, rw.line, rw.f[3])
			}
			rel = v
		}
		if trim {
			qid = trimZeros(qid)
		}
		q.add(qid, trimZeros(doc), gain(rel))
	}
	return nil
}

// trimZeros drops leading zeros from a numeric id ("001" -> "1").
func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" && s != "" {
		return "0"
	}
	if _, err := strconv.Atoi(t); err != nil {
		return s
	}
	return t
}

// oneLine collapses whitespace runs to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
