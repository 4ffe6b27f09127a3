package eval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSMART(t *testing.T) {
	in := ".I 7\n.T Inline title\n.A\nsomeone\n.W\n  first line\nsecond line  \n\n.I 8\n.W\n.Tx is text, not a field\n"
	recs, err := parseSMART(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != "7" || recs[0].Fields['T'] != "Inline title" || recs[0].Fields['W'] != "first line\nsecond line" {
		t.Errorf("records = %+v", recs)
	}
	if recs[1].Fields['W'] != ".Tx is text, not a field" {
		t.Errorf("record 8 W = %q", recs[1].Fields['W'])
	}
	for _, bad := range []string{".I\n.W\nx\n", ".W\nx\n", "stray\n.I 1\n"} {
		if _, err := parseSMART(strings.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("parseSMART(%q) err = %v", bad, err)
		}
	}
}

func TestStripTitle(t *testing.T) {
	cases := []struct{ title, text, want string }{
		{"a wing study .", "a wing\nstudy .\n  the body", "the body"},
		{"a wing study", "another text", "another text"},
		{"", "text", "text"},
		{"long title here", "long title", "long title"},
	}
	for _, c := range cases {
		if got := stripTitle(c.title, c.text); got != c.want {
			t.Errorf("stripTitle(%q, %q) = %q, want %q", c.title, c.text, got, c.want)
		}
	}
}

func TestTrimZeros(t *testing.T) {
	for in, want := range map[string]string{"001": "1", "0": "0", "000": "0", "10": "10", "0a": "0a", "FT911-1": "FT911-1"} {
		if got := trimZeros(in); got != want {
			t.Errorf("trimZeros(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTopicsErrors(t *testing.T) {
	cases := []struct {
		in, field string
		want      error
	}{
		{"<top><num>1<title>x</top>", "summary", ErrConfig},
		{"no topics here", "", ErrFormat},
		{"<top><title>x</top>", "", ErrFormat},
		{"<top><num>1<title>x</top>", "desc", ErrFormat},
	}
	for _, c := range cases {
		if _, err := ParseTopics(c.in, c.field); !errors.Is(err, c.want) {
			t.Errorf("ParseTopics(%q, %q) err = %v, want %v", c.in, c.field, err, c.want)
		}
	}
	qs, err := ParseTopics("<TOP><NUM> Number: 9 <TITLE> Topic: upper case tags </TOP>", "")
	if err != nil || len(qs) != 1 || qs[0].ID != "9" || qs[0].Text != "upper case tags" {
		t.Errorf("upper-case topics = %+v, %v", qs, err)
	}
}

// JSONL errors name the file and the 1-based line, blank lines counted.
func TestReadJSONLErrorsNameTheLine(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		body, want string
	}{
		"bad-json.jsonl": {"{\"_id\":\"a\",\"text\":\"x\"}\n\n{oops}\n", "line 3"},
		"no-id.jsonl":    {"{\"_id\":\"a\"}\r\n{\"text\":\"t\"}\n", "line 2: record has no _id/id/docno"},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		err := readJSONL(path, func(jsonRecord, int) error { return nil })
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), path+" "+tc.want) {
			t.Errorf("%s: err %v, want ErrFormat naming %q", name, err, tc.want)
		}
	}
	var lines []int
	path := filepath.Join(dir, "ok.jsonl")
	if err := os.WriteFile(path, []byte("{\"id\":1}\n\n  \n{\"docno\":\"d\"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := readJSONL(path, func(_ jsonRecord, n int) error { lines = append(lines, n); return nil }); err != nil || len(lines) != 2 || lines[1] != 4 {
		t.Errorf("lines %v, err %v", lines, err)
	}
}
