package eval

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ragd/ragd/internal/testutil"
)

// sharedDir finds ../shared/<rel> beside the repository root (the directory
// holding go.mod), skipping the test when it is absent.
func sharedDir(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(testutil.SharedDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s absent: %v", rel, err)
	}
	return p
}

func TestLoadCranfield(t *testing.T) {
	dir := sharedDir(t, "datasets/cranfield")
	ds, err := LoadDataset("", dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "cranfield" {
		t.Errorf("name %q, want cranfield (detected)", ds.Name)
	}
	if len(ds.Docs) != 1400 || len(ds.Queries) != 225 {
		t.Fatalf("docs %d queries %d, want 1400 and 225", len(ds.Docs), len(ds.Queries))
	}
	if n := ds.Qrels.Judgements(); n != 1837 {
		t.Errorf("judgements %d, want 1837 (one per cranqrel line)", n)
	}
	// Queries are numbered by position; the .I numbers skip.
	for _, c := range []struct {
		pos                int
		id, number, prefix string
	}{
		{0, "1", "001", "what similarity laws must be obeyed"},
		{2, "3", "004", "what problems of heat conduction in composite slabs"},
		{3, "4", "008", "can a criterion be developed"},
	} {
		q := ds.Queries[c.pos]
		if q.ID != c.id || q.Number != c.number || !strings.HasPrefix(q.Text, c.prefix) {
			t.Errorf("query %d = %+v, want id %s number %s text %q...", c.pos, q, c.id, c.number, c.prefix)
		}
	}
	// Gains: "1 184 2" -> 3; "1 51 3" -> 2; the last line "225 1188 -1"
	// (no trailing newline) is judged with gain 0.
	if g := ds.Qrels["1"]["184"]; g != 3 {
		t.Errorf("gain(1,184) = %v, want 3", g)
	}
	if g := ds.Qrels["1"]["51"]; g != 2 {
		t.Errorf("gain(1,51) = %v, want 2", g)
	}
	last, ok := ds.Qrels["225"]["1188"]
	if !ok || last != 0 {
		t.Errorf("last judgement (225,1188) = %v,%v, want judged with gain 0", last, ok)
	}
	if got := len(ds.JudgedQueryIDs()); got != 225 {
		t.Errorf("judged queries %d, want 225", got)
	}
	d := ds.Docs[0]
	if d.ID != "1" || d.Title != "experimental investigation of the aerodynamics of a wing in a slipstream ." {
		t.Errorf("doc 1 = %q %q", d.ID, d.Title)
	}
	if !strings.HasPrefix(d.Text, "experimental investigation") {
		t.Errorf("doc 1 text starts %q; want the collection's text (which repeats the title)", d.Text[:30])
	}
	dev, test := ds.Splits["dev"], ds.Splits["test"]
	if len(dev)+len(test) != 225 || len(dev) < 80 || len(test) < 80 {
		t.Errorf("split sizes dev %d test %d", len(dev), len(test))
	}

	stripped, err := LoadDataset("cranfield", dir, LoadOptions{StripTitle: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(stripped.Docs[0].Text, "experimental investigation") || !strings.HasPrefix(stripped.Docs[0].Text, "an experimental study") {
		t.Errorf("StripTitle text starts %q", stripped.Docs[0].Text[:30])
	}
}

func TestLoadBEIR(t *testing.T) {
	ds, err := LoadDataset("", "testdata/beir", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Docs) != 4 || ds.Docs[2].ID != "3" || ds.Docs[0].Title != "Solar wind" {
		t.Errorf("docs = %+v", ds.Docs)
	}
	if len(ds.Queries) != 4 {
		t.Errorf("queries %d, want 4", len(ds.Queries))
	}
	want := Qrels{"q1": {"d1": 2, "d2": 1}, "q2": {"3": 1, "d1": 0}, "q3": {"d4": 1}}
	if !reflect.DeepEqual(ds.Qrels, want) {
		t.Errorf("qrels = %v, want %v", ds.Qrels, want)
	}
	if !reflect.DeepEqual(ds.Splits["test"], []string{"q1", "q2"}) || !reflect.DeepEqual(ds.Splits["dev"], []string{"q3"}) {
		t.Errorf("splits = %v", ds.Splits)
	}
	if got := ds.JudgedQueryIDs(); !reflect.DeepEqual(got, []string{"q1", "q2", "q3"}) {
		t.Errorf("judged = %v (q4 has no judgements)", got)
	}
}

func TestLoadTREC(t *testing.T) {
	ds, err := LoadDataset("", "testdata/trec", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	for i, d := range ds.Docs {
		byID[d.ID] = i
	}
	if len(ds.Docs) != 4 {
		t.Fatalf("docs %d, want 4: %+v", len(ds.Docs), ds.Docs)
	}
	ft1 := ds.Docs[byID["FT911-1"]]
	if ft1.Title != "Crime syndicates expand" || ft1.Text != "International criminal groups are expanding." {
		t.Errorf("FT911-1 = %q / %q", ft1.Title, ft1.Text)
	}
	if got := ds.Docs[byID["FT911-2"]].Text; got != "Polio vaccination rates rise.\nSecond part." {
		t.Errorf("FT911-2 text %q", got)
	}
	if got := ds.Docs[byID["FT911-3"]].Text; got != "Plain body without a text tag." {
		t.Errorf("FT911-3 text %q", got)
	}
	if la := ds.Docs[byID["LA0101-7"]]; la.Title != "Mafia trial" || la.Text != "The trial of the crime family began." {
		t.Errorf("LA0101-7 = %+v", la)
	}
	wantQ := []Query{{ID: "301", Text: "International Organized Crime"}, {ID: "302", Text: "Poliomyelitis and Post-Polio"}, {ID: "303", Text: "Hubble Telescope Achievements"}}
	if !reflect.DeepEqual(ds.Queries, wantQ) {
		t.Errorf("queries = %+v", ds.Queries)
	}
	if got := ds.JudgedQueryIDs(); !reflect.DeepEqual(got, []string{"301", "302"}) {
		t.Errorf("judged = %v (303 has only a non-relevant judgement)", got)
	}
	if ds.Qrels["301"]["LA0101-7"] != 2 || ds.Qrels["301"]["FT911-2"] != 0 {
		t.Errorf("qrels 301 = %v", ds.Qrels["301"])
	}

	desc, err := LoadDataset("trec", "testdata/trec", LoadOptions{TopicField: "title+desc"})
	if err != nil {
		t.Fatal(err)
	}
	if got := desc.Queries[0].Text; got != "International Organized Crime Identify organizations that participate in international criminal activity." {
		t.Errorf("title+desc = %q", got)
	}
}

func TestLoadSMARTLayouts(t *testing.T) {
	cisi, err := LoadDataset("", "testdata/cisi", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cisi.Name != "cisi" || len(cisi.Docs) != 3 || cisi.Docs[0].Title != "18 Editions of the Dewey Decimal Classifications" {
		t.Errorf("cisi docs = %+v", cisi.Docs)
	}
	if want := (Qrels{"1": {"1": 1, "3": 1}, "2": {"2": 1}}); !reflect.DeepEqual(cisi.Qrels, want) {
		t.Errorf("cisi qrels = %v, want %v", cisi.Qrels, want)
	}
	if cisi.Queries[1].Text != "How are technical libraries used?" {
		t.Errorf("cisi query 2 = %q (want the .W text)", cisi.Queries[1].Text)
	}
	med, err := LoadDataset("med", "testdata/med", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Qrels{"1": {"1": 1}, "2": {"2": 1, "1": 1}}); !reflect.DeepEqual(med.Qrels, want) {
		t.Errorf("med qrels (TREC layout) = %v, want %v", med.Qrels, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		format string
		setup  func()
		want   error
	}{
		{"unknown format", "nope", func() {}, ErrConfig},
		{"undetectable", "", func() {}, ErrFormat},
		{"bad qrels", "cranfield", func() {
			write("cran.all.1400", ".I 1\n.W\nx\n")
			write("cran.qry", ".I 001\n.W\nq\n")
			write("cranqrel", "1 1\n")
		}, ErrFormat},
		{"text before .I", "cranfield", func() {
			write("cran.all.1400", "junk\n.I 1\n.W\nx\n")
			write("cranqrel", "1 1 1\n")
		}, ErrFormat},
		{"nothing relevant", "cranfield", func() {
			write("cran.all.1400", ".I 1\n.W\nx\n")
			write("cranqrel", "1 1 -1")
		}, ErrNoQueries},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.setup()
			_, err := LoadDataset(c.format, dir, LoadOptions{})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := LoadDataset("beir", filepath.Join(dir, "missing"), LoadOptions{}); err == nil {
		t.Error("missing directory: no error")
	}
}

func TestSplitByHash(t *testing.T) {
	ids := make([]string, 400)
	for i := range ids {
		ids[i] = "q" + strings.Repeat("x", i%3) + strconv.Itoa(i)
	}
	a := SplitByHash(ids, 0.5)
	rev := append([]string(nil), ids...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b := SplitByHash(rev, 0.5)
	in := map[string]bool{}
	for _, id := range a["dev"] {
		in[id] = true
	}
	for _, id := range b["dev"] {
		if !in[id] {
			t.Fatalf("%s is dev in one order only", id)
		}
	}
	if len(a["dev"]) != len(b["dev"]) || len(a["dev"])+len(a["test"]) != 400 {
		t.Fatalf("sizes %d/%d vs %d", len(a["dev"]), len(a["test"]), len(b["dev"]))
	}
	if n := len(a["dev"]); n < 150 || n > 250 {
		t.Errorf("dev has %d of 400 at fraction 0.5", n)
	}
	if n := len(SplitByHash(ids, 0.2)["dev"]); n < 40 || n > 120 {
		t.Errorf("dev has %d of 400 at fraction 0.2", n)
	}
}

func TestSmartFormatDetectsKnownCollection(t *testing.T) {
	dir := sharedDir(t, "datasets/cranfield")
	generic, err := LoadDataset("smart", dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	named, err := LoadDataset("cranfield", dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if generic.Name != named.Name || len(generic.Queries) != len(named.Queries) || len(generic.Qrels) != len(named.Qrels) {
		t.Fatalf("--format smart on Cranfield: %s %d queries %d judged, want %s %d %d",
			generic.Name, len(generic.Queries), len(generic.Qrels), named.Name, len(named.Queries), len(named.Qrels))
	}
}
