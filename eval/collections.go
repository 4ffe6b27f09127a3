package eval

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/internal/jsonl"
)

// jsonID accepts a JSON string or number as an id.
type jsonID string

func (id *jsonID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*id = jsonID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("%w: id %s is neither a string nor a number", ErrFormat, b)
	}
	*id = jsonID(n.String())
	return nil
}

// jsonRecord covers the BEIR and common JSONL document and query shapes.
type jsonRecord struct {
	ID       jsonID `json:"_id"`
	AltID    jsonID `json:"id"`
	DocNo    jsonID `json:"docno"`
	QueryID  jsonID `json:"query_id"`
	Title    string `json:"title"`
	Text     string `json:"text"`
	Contents string `json:"contents"`
	Body     string `json:"body"`
	Query    string `json:"query"`
}

func (r jsonRecord) id() string {
	for _, v := range []jsonID{r.ID, r.AltID, r.DocNo, r.QueryID} {
		if v != "" {
			return string(v)
		}
	}
	return ""
}

func (r jsonRecord) text() string {
	for _, v := range []string{r.Text, r.Contents, r.Body, r.Query} {
		if v != "" {
			return v
		}
	}
	return ""
}

// openMaybeGzip opens path, decompressing it when it ends in .gz.
func openMaybeGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, nil
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, path, err) //nolint:errorlint // cause kept as text: an io.EOF inside must not read as a clean end of input
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}

// maxJSONLLine bounds one line of a JSONL collection file.
const maxJSONLLine = 64 << 20

// readJSONL calls fn for each non-blank line of a JSONL file.
func readJSONL(path string, fn func(rec jsonRecord, line int) error) error {
	rc, err := openMaybeGzip(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := jsonl.NewReader(rc, maxJSONLLine)
	for {
		b, line, err := lr.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, jsonl.ErrLineTooLong):
			return fmt.Errorf("%w: %s line %d: longer than %d bytes", ErrFormat, path, line, maxJSONLLine)
		case err != nil:
			return fmt.Errorf("eval: read %s: %w", path, err)
		}
		var rec jsonRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("%w: %s line %d: %w", ErrFormat, path, line, err)
		}
		if rec.id() == "" {
			return fmt.Errorf("%w: %s line %d: record has no _id/id/docno", ErrFormat, path, line)
		}
		if err := fn(rec, line); err != nil {
			return err
		}
	}
}

func loadJSONLDocs(path string, opts LoadOptions) ([]data.Document, error) {
	var docs []data.Document
	err := readJSONL(path, func(rec jsonRecord, _ int) error {
		d := data.Document{ID: rec.id(), Title: rec.Title, Text: rec.text(), Source: path}
		if opts.StripTitle {
			d.Text = stripTitle(d.Title, d.Text)
		}
		docs = append(docs, d)
		return nil
	})
	return docs, err
}

func loadJSONLQueries(path string) ([]Query, error) {
	var qs []Query
	err := readJSONL(path, func(rec jsonRecord, line int) error {
		qs = append(qs, Query{ID: rec.id(), Text: rec.text()})
		return nil
	})
	return qs, err
}

// loadBEIR reads corpus.jsonl, queries.jsonl and qrels/test.tsv (plus
// qrels/dev.tsv, which becomes the dev split). An override Qrels file is
// read alone and the splits come from SplitByHash.
func loadBEIR(dir string, opts LoadOptions) (*Dataset, error) {
	docsPath, err := resolve(dir, opts.Docs, findFile(dir, "corpus.jsonl"), "corpus.jsonl")
	if err != nil {
		return nil, err
	}
	qPath, err := resolve(dir, opts.Queries, findFile(dir, "queries.jsonl"), "queries.jsonl")
	if err != nil {
		return nil, err
	}
	gain := opts.Gain
	if gain == nil {
		gain = PositiveGain
	}
	ds := &Dataset{Name: filepath.Base(dir), Qrels: Qrels{}}
	if ds.Docs, err = loadJSONLDocs(docsPath, opts); err != nil {
		return nil, err
	}
	if ds.Queries, err = loadJSONLQueries(qPath); err != nil {
		return nil, err
	}
	if opts.Qrels != "" {
		p, _ := resolve(dir, opts.Qrels, "", "qrels")
		if _, err := readBEIRQrels(p, ds.Qrels, gain); err != nil {
			return nil, err
		}
		return ds, nil
	}
	qdir := filepath.Join(dir, "qrels")
	test := findFile(qdir, "test.tsv")
	dev := findFile(qdir, "dev.tsv")
	if test == "" && dev == "" {
		return nil, fmt.Errorf("%w: no qrels/test.tsv or qrels/dev.tsv in %q", ErrFormat, dir)
	}
	splits := map[string][]string{}
	for name, p := range map[string]string{"test": test, "dev": dev} {
		if p == "" {
			continue
		}
		ids, err := readBEIRQrels(p, ds.Qrels, gain)
		if err != nil {
			return nil, err
		}
		splits[name] = ids
	}
	if test != "" && dev != "" {
		ds.Splits = orderSplits(ds, splits)
	}
	return ds, nil
}

// orderSplits keeps, per split, the judged queries in query-file order.
func orderSplits(ds *Dataset, sets map[string][]string) map[string][]string {
	out := map[string][]string{}
	for name, ids := range sets {
		in := make(map[string]bool, len(ids))
		for _, id := range ids {
			in[id] = true
		}
		out[name] = []string{}
		for _, q := range ds.Queries {
			if in[q.ID] && ds.Qrels.NumRelevant(q.ID) > 0 {
				out[name] = append(out[name], q.ID)
			}
		}
	}
	return out
}

// readBEIRQrels reads "query-id corpus-id score" lines (tab or space
// separated, header optional) and returns the query ids it saw.
func readBEIRQrels(path string, q Qrels, gain func(int) float64) ([]string, error) {
	rc, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	line := 0
	seen := map[string]bool{}
	var ids []string
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if line == 1 && len(f) == 3 && f[0] == "query-id" {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: %s line %d: want query-id corpus-id score", ErrFormat, path, line)
		}
		rel, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("%w: %s line %d: score %q is not an integer", ErrFormat, path, line, f[2])
		}
		q.add(f[0], f[1], gain(rel))
		if !seen[f[0]] {
			seen[f[0]] = true
			ids = append(ids, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", path, err)
	}
	return ids, nil
}

// loadTREC reads a TREC collection directory: a qrels file ("qid iter docno
// rel"), topics (<top> SGML, or JSONL/TSV queries) and documents (JSONL or
// <DOC> SGML; a file or a directory of files, optionally gzipped).
func loadTREC(dir string, opts LoadOptions) (*Dataset, error) {
	qrelsPath, err := resolve(dir, opts.Qrels, matchFile(dir, "qrels"), "qrels")
	if err != nil {
		return nil, err
	}
	topics := matchFile(dir, "topics")
	if topics == "" {
		topics = matchFile(dir, "queries")
	}
	topicsPath, err := resolve(dir, opts.Queries, topics, "topics")
	if err != nil {
		return nil, err
	}
	docs := findFile(dir, "docs")
	for _, n := range []string{"corpus.jsonl", "docs.jsonl", "documents.jsonl", "corpus", "documents"} {
		if docs == "" {
			docs = findFile(dir, n)
		}
	}
	docsPath, err := resolve(dir, opts.Docs, docs, "documents (docs/, corpus.jsonl)")
	if err != nil {
		return nil, err
	}
	gain := opts.Gain
	if gain == nil {
		gain = PositiveGain
	}
	ds := &Dataset{Name: filepath.Base(dir), Qrels: Qrels{}}
	if ds.Docs, err = loadTRECDocs(docsPath, opts); err != nil {
		return nil, err
	}
	if ds.Queries, err = loadTopics(topicsPath, opts.TopicField); err != nil {
		return nil, err
	}
	rc, err := openMaybeGzip(qrelsPath)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if err := readTRECQrels(rc, ds.Qrels, gain); err != nil {
		return nil, fmt.Errorf("%s: %w", qrelsPath, err)
	}
	return ds, nil
}

// ReadTRECQrels reads a TREC qrels stream ("qid iter docno rel" per line)
// into gains.
func ReadTRECQrels(r io.Reader, gain func(rel int) float64) (Qrels, error) {
	if gain == nil {
		gain = PositiveGain
	}
	q := Qrels{}
	if err := readTRECQrels(r, q, gain); err != nil {
		return nil, err
	}
	return q, nil
}

func readTRECQrels(r io.Reader, q Qrels, gain func(int) float64) error {
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return fmt.Errorf("%w: qrels line %d: want \"qid iter docno rel\", got %d fields", ErrFormat, line, len(f))
		}
		rel, err := strconv.Atoi(f[3])
		if err != nil {
			return fmt.Errorf("%w: qrels line %d: relevance %q is not an integer", ErrFormat, line, f[3])
		}
		q.add(f[0], f[2], gain(rel))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("eval: read qrels: %w", err)
	}
	if len(q) == 0 {
		return fmt.Errorf("%w: qrels are empty", ErrFormat)
	}
	return nil
}

// loadTRECDocs reads one file or every regular file of a directory (sorted
// by name), each JSONL or <DOC> SGML by its first non-blank byte.
func loadTRECDocs(path string, opts LoadOptions) ([]data.Document, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("eval: documents: %w", err)
	}
	files := []string{path}
	if st.IsDir() {
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("eval: documents: %w", err)
		}
		files = files[:0]
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(files)
	}
	var docs []data.Document
	for _, f := range files {
		rc, err := openMaybeGzip(f)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("eval: read %s: %w", f, err)
		}
		t := bytes.TrimSpace(b)
		switch {
		case len(t) == 0:
			continue
		case t[0] == '{':
			ds, err := loadJSONLDocs(f, opts)
			if err != nil {
				return nil, err
			}
			docs = append(docs, ds...)
		case t[0] == '<':
			ds, err := parseTRECDocs(string(b), f)
			if err != nil {
				return nil, err
			}
			for i := range ds {
				if opts.StripTitle {
					ds[i].Text = stripTitle(ds[i].Title, ds[i].Text)
				}
			}
			docs = append(docs, ds...)
		default:
			return nil, fmt.Errorf("%w: %s is neither JSONL nor <DOC> SGML", ErrFormat, f)
		}
	}
	return docs, nil
}

func loadTopics(path, field string) ([]Query, error) {
	switch strings.ToLower(filepath.Ext(strings.TrimSuffix(path, ".gz"))) {
	case ".jsonl", ".json":
		return loadJSONLQueries(path)
	case ".tsv":
		return loadTSVQueries(path)
	}
	rc, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", path, err)
	}
	qs, err := ParseTopics(string(b), field)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return qs, nil
}

// loadTSVQueries reads "qid<TAB>text" lines.
func loadTSVQueries(path string) ([]Query, error) {
	rc, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var qs []Query
	sc := bufio.NewScanner(rc)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		id, text, ok := strings.Cut(s, "\t")
		if !ok {
			return nil, fmt.Errorf("%w: %s line %d: want qid<TAB>text", ErrFormat, path, line)
		}
		qs = append(qs, Query{ID: strings.TrimSpace(id), Text: strings.TrimSpace(text)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", path, err)
	}
	return qs, nil
}
