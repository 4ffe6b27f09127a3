package eval

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ragd/ragd/data"
)

// Sentinel errors of this package; they are wrapped with context.
var (
	// ErrFormat: a dataset, run or qrels file is malformed.
	ErrFormat = errors.New("eval: bad format")
	// ErrNoQueries: nothing to evaluate (no judged queries, empty split).
	ErrNoQueries = errors.New("eval: no judged queries")
	// ErrConfig: a RunConfig, sweep spec or option is invalid.
	ErrConfig = errors.New("eval: invalid configuration")
)

// Query is one test query.
type Query struct {
	// ID is the id judgements refer to (for Cranfield: the 1-based position
	// of the query in cran.qry).
	ID string `json:"id"`
	// Number is the id written in the query file when it differs from ID
	// (Cranfield's .I number); otherwise empty.
	Number string `json:"number,omitempty"`
	Text   string `json:"text"`
}

// Qrels maps query id -> document id -> gain.
type Qrels map[string]map[string]float64

// Dataset is a loaded test collection.
type Dataset struct {
	// Name is the collection name (the format's name or the directory's).
	Name string
	// Docs are the documents in file order.
	Docs []data.Document
	// Queries are every query in the query file, in file order.
	Queries []Query
	// Qrels holds the judgements as gains (see LoadOptions.Gain).
	Qrels Qrels
	// Splits maps "dev" and "test" to the ids of judged queries, in query
	// order. They come from the collection when it has them, else from
	// SplitByHash.
	Splits map[string][]string
}

// LoadOptions tune LoadDataset. The zero value is ready to use.
type LoadOptions struct {
	// Docs, Queries and Qrels override the files LoadDataset would find in
	// the dataset directory (paths may be absolute or relative to it).
	Docs, Queries, Qrels string
	// Gain maps a judgement's relevance value to a gain. Default:
	// CranfieldGain for Cranfield, PositiveGain for every other format.
	Gain func(rel int) float64
	// DevFraction is the share of judged queries SplitByHash puts in the dev
	// split when the collection has no splits of its own. Default 0.5.
	DevFraction float64
	// TopicField picks the part of a TREC topic used as query text:
	// "title" (default), "desc", "narr" or "title+desc".
	TopicField string
	// StripTitle removes the title from the start of a document's text when
	// the text repeats it (as almost every Cranfield .W does). Default false:
	// documents are kept as the collection has them.
	StripTitle bool
}

// CranfieldGain inverts Cranfield's relevance codes: 1 (complete answer)
// -> 4, 2 -> 3, 3 -> 2, 4 (minimum interest) -> 1; -1 and anything else -> 0.
func CranfieldGain(rel int) float64 {
	if rel >= 1 && rel <= 4 {
		return float64(5 - rel)
	}
	return 0
}

// PositiveGain uses a relevance value as its gain; negative values give 0.
func PositiveGain(rel int) float64 {
	if rel > 0 {
		return float64(rel)
	}
	return 0
}

// Formats lists the names LoadDataset accepts ("" and "auto" detect).
var Formats = []string{"cranfield", "cisi", "med", "cacm", "smart", "beir", "trec"}

// LoadDataset reads the collection at path (a directory, or for SMART
// formats a directory holding the three files) in the given format.
func LoadDataset(format, path string, opts LoadOptions) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("eval: dataset %q: %w", path, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: dataset path %q must be a directory", ErrConfig, path)
	}
	if opts.DevFraction < 0 || opts.DevFraction >= 1 {
		return nil, fmt.Errorf("%w: DevFraction %v must be in [0, 1)", ErrConfig, opts.DevFraction)
	}
	if opts.DevFraction == 0 {
		opts.DevFraction = 0.5
	}
	format = strings.ToLower(strings.TrimSpace(format))
	if format == "" || format == "auto" {
		format, err = DetectFormat(path)
		if err != nil {
			return nil, err
		}
	}
	if format == "smart" && opts.Docs == "" {
		// A known SMART collection behind the generic name gets its own
		// quirks (Cranfield numbers queries by position, for one).
		if f, derr := DetectFormat(path); derr == nil {
			if _, known := smartFiles[f]; known {
				format = f
			}
		}
	}
	var ds *Dataset
	switch format {
	case "cranfield", "cisi", "med", "cacm", "smart":
		ds, err = loadSMART(format, path, opts)
	case "beir":
		ds, err = loadBEIR(path, opts)
	case "trec":
		ds, err = loadTREC(path, opts)
	default:
		return nil, fmt.Errorf("%w: unknown dataset format %q (want one of %s)", ErrConfig, format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return nil, err
	}
	if err := ds.check(); err != nil {
		return nil, err
	}
	if ds.Splits == nil {
		ds.Splits = SplitByHash(ds.JudgedQueryIDs(), opts.DevFraction)
	}
	return ds, nil
}

// DetectFormat guesses a dataset directory's format from its file names.
func DetectFormat(dir string) (string, error) {
	has := func(names ...string) bool {
		for _, n := range names {
			if findFile(dir, n) == "" {
				return false
			}
		}
		return true
	}
	switch {
	case has("cran.all.1400", "cran.qry", "cranqrel"):
		return "cranfield", nil
	case has("CISI.ALL", "CISI.QRY", "CISI.REL"):
		return "cisi", nil
	case has("MED.ALL", "MED.QRY", "MED.REL"):
		return "med", nil
	case has("cacm.all", "query.text", "qrels.text"):
		return "cacm", nil
	case has("corpus.jsonl", "queries.jsonl"):
		return "beir", nil
	}
	if matchFile(dir, "qrels") != "" && (matchFile(dir, "topics") != "" || matchFile(dir, "queries") != "") {
		return "trec", nil
	}
	return "", fmt.Errorf("%w: cannot tell the format of %q; name it (%s)", ErrFormat, dir, strings.Join(Formats, ", "))
}

// findFile returns the path of the entry of dir named name, compared
// case-insensitively, or "".
func findFile(dir, name string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if strings.EqualFold(e.Name(), name) {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

// matchFile returns the first regular file of dir (by name) whose name
// contains part, compared case-insensitively, or "".
func matchFile(dir, part string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if !e.IsDir() && strings.Contains(strings.ToLower(e.Name()), part) {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

// resolve picks the override (relative to dir) or the found default.
func resolve(dir, override, found, what string) (string, error) {
	if override != "" {
		if !filepath.IsAbs(override) {
			override = filepath.Join(dir, override)
		}
		return override, nil
	}
	if found == "" {
		return "", fmt.Errorf("%w: no %s file in %q", ErrFormat, what, dir)
	}
	return found, nil
}

func (ds *Dataset) check() error {
	if len(ds.Docs) == 0 {
		return fmt.Errorf("%w: dataset %s has no documents", ErrFormat, ds.Name)
	}
	seen := make(map[string]bool, len(ds.Docs))
	for _, d := range ds.Docs {
		if d.ID == "" {
			return fmt.Errorf("%w: dataset %s has a document without an id", ErrFormat, ds.Name)
		}
		if seen[d.ID] {
			return fmt.Errorf("%w: dataset %s: duplicate document id %q", ErrFormat, ds.Name, d.ID)
		}
		seen[d.ID] = true
	}
	qs := make(map[string]bool, len(ds.Queries))
	for _, q := range ds.Queries {
		if qs[q.ID] {
			return fmt.Errorf("%w: dataset %s: duplicate query id %q", ErrFormat, ds.Name, q.ID)
		}
		qs[q.ID] = true
	}
	if len(ds.JudgedQueryIDs()) == 0 {
		return fmt.Errorf("%w: dataset %s: no query has a relevant judgement", ErrNoQueries, ds.Name)
	}
	return nil
}

// NumRelevant counts the documents of query qid with gain >= 1.
func (q Qrels) NumRelevant(qid string) int {
	n := 0
	for _, g := range q[qid] {
		if g >= relevanceLevel {
			n++
		}
	}
	return n
}

// Judgements counts all (query, document) judgements.
func (q Qrels) Judgements() int {
	n := 0
	for _, m := range q {
		n += len(m)
	}
	return n
}

// add records a judgement; a repeated pair keeps the larger gain.
func (q Qrels) add(qid, docID string, gain float64) {
	m := q[qid]
	if m == nil {
		m = make(map[string]float64)
		q[qid] = m
	}
	if old, ok := m[docID]; !ok || gain > old {
		m[docID] = gain
	}
}

// JudgedQueryIDs returns, in query order, the ids of the queries that have
// at least one relevant document: the queries that are evaluated.
func (ds *Dataset) JudgedQueryIDs() []string {
	var ids []string
	for _, q := range ds.Queries {
		if ds.Qrels.NumRelevant(q.ID) > 0 {
			ids = append(ids, q.ID)
		}
	}
	return ids
}

// QueryIDs returns the judged query ids of a split; "" or "all" means every
// judged query.
func (ds *Dataset) QueryIDs(split string) ([]string, error) {
	if split == "" || split == "all" {
		return ds.JudgedQueryIDs(), nil
	}
	ids, ok := ds.Splits[split]
	if !ok {
		names := make([]string, 0, len(ds.Splits))
		for k := range ds.Splits {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w: dataset %s has no split %q (has %s)", ErrConfig, ds.Name, split, strings.Join(names, ", "))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: split %q of %s is empty", ErrNoQueries, split, ds.Name)
	}
	return ids, nil
}

// SplitByHash divides query ids into "dev" and "test" by the FNV-1a hash of
// each id: an id goes to dev when hash mod 10000 < devFraction*10000. The
// result depends only on the ids, never on their order or on a run.
func SplitByHash(ids []string, devFraction float64) map[string][]string {
	cut := uint32(devFraction * 10000)
	out := map[string][]string{"dev": {}, "test": {}}
	for _, id := range ids {
		h := fnv.New32a()
		h.Write([]byte(id))
		if h.Sum32()%10000 < cut {
			out["dev"] = append(out["dev"], id)
		} else {
			out["test"] = append(out["test"], id)
		}
	}
	return out
}

// stripTitle removes a leading copy of title from text, comparing with
// whitespace collapsed.
func stripTitle(title, text string) string {
	tw := strings.Fields(title)
	if len(tw) == 0 {
		return text
	}
	rest := text
	for _, w := range tw {
		rest = strings.TrimLeft(rest, " \t\r\n")
		if !strings.HasPrefix(rest, w) {
			return text
		}
		rest = rest[len(w):]
	}
	return strings.TrimLeft(rest, " \t\r\n")
}
