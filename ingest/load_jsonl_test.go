package ingest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestJSONLRecords(t *testing.T) {
	long := strings.Repeat("long text ", 20000) // 200 KB: over bufio.Scanner's 64 KiB default
	lines := []string{
		`{"_id": "d1", "title": "First", "text": "alpha", "metadata": {"year": 1999, "tags": ["a", "b"], "ok": true}}`,
		`{"id": "d2", "text": "beta"}`,
		`{"_id": "d3", "id": "ignored", "text": "gamma", "url": "https://x.invalid", "score": 2.5}`,
		`{"_id": 42, "text": "numeric id"}`,
		`not json at all`,
		``,
		`   `,
		`{"_id": "d5", "text": "` + long + `"}`,
		`{"_id": "d6", "title": "Title only"}`,
		`{"_id": "d7", "text": 12}`,
		`{"text": "no id here"}`,
		`{"_id": "d9", "text": "nested", "metadata": {"a": {"b": "c"}, "n": null, "mix": [1, {"x": 1}]}}`,
		`{"_id": "d10", "contents": "pyserini shape"}`,
		`[1, 2, 3]`,
		`{"_id": "d12", "text": "x"} trailing`,
		`{"_id": "d13", "text": "   "}`,
		`{"_id": "d14", "text": "meta not object", "metadata": [1]}`,
		"{\"_id\": \"d15\", \"text\": \"crlf\"}\r",
	}
	src := strings.Join(lines, "\n")
	ps, err := LoadReader(context.Background(), strings.NewReader(src), "corpus.jsonl", "", LoadOptions{})
	var pe *PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v, want *PartialError", err)
	}
	if !errors.Is(err, data.ErrInvalid) {
		t.Errorf("PartialError is not data.ErrInvalid")
	}
	var badLines []int
	for _, le := range pe.Lines {
		badLines = append(badLines, le.Line)
		if !strings.Contains(le.Error(), "corpus.jsonl:") {
			t.Errorf("line error %q does not name the source", le)
		}
	}
	if want := []int{5, 10, 14, 15, 16, 17}; !reflect.DeepEqual(badLines, want) || pe.Count != len(want) {
		t.Errorf("bad lines %v (count %d), want %v", badLines, pe.Count, want)
	}
	if !strings.Contains(pe.Error(), "corpus.jsonl:5") {
		t.Errorf("PartialError message %q lacks the first line number", pe.Error())
	}
	byID := map[string]Parsed{}
	var ids []string
	for _, p := range ps {
		checkParsed(t, p)
		byID[p.Doc.ID] = p
		ids = append(ids, p.Doc.ID)
		if p.Doc.Source != "corpus.jsonl" {
			t.Errorf("%s: source %q", p.Doc.ID, p.Doc.Source)
		}
	}
	wantIDs := []string{"d1", "d2", "d3", "42", "d5", "d6", "corpus.jsonl:11", "d9", "d10", "d15"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("ids %q, want %q", ids, wantIDs)
	}
	d1 := byID["d1"].Doc
	if d1.Title != "First" || d1.Text != "alpha" {
		t.Errorf("d1 %+v", d1)
	}
	if want := map[string]any{"year": 1999.0, "tags": []any{"a", "b"}, "ok": true}; !reflect.DeepEqual(d1.Metadata, want) {
		t.Errorf("d1 metadata %#v, want %#v", d1.Metadata, want)
	}
	if byID["d2"].Doc.Metadata != nil {
		t.Errorf("d2 metadata %#v, want nil", byID["d2"].Doc.Metadata)
	}
	if want := map[string]any{"url": "https://x.invalid", "score": 2.5}; !reflect.DeepEqual(byID["d3"].Doc.Metadata, want) {
		t.Errorf("d3 metadata %#v", byID["d3"].Doc.Metadata)
	}
	if byID["d5"].Doc.Text != long {
		t.Errorf("d5 text has %d bytes, want %d", len(byID["d5"].Doc.Text), len(long))
	}
	if d := byID["d6"]; d.Doc.Text != "Title only" || len(d.Warnings) == 0 {
		t.Errorf("d6 %+v", d)
	}
	if d := byID["corpus.jsonl:11"]; len(d.Warnings) == 0 {
		t.Errorf("missing-id record has no warning")
	}
	if want := map[string]any{"a.b": "c", "mix": `[1,{"x":1}]`}; !reflect.DeepEqual(byID["d9"].Doc.Metadata, want) {
		t.Errorf("d9 metadata %#v, want %#v", byID["d9"].Doc.Metadata, want)
	}
	if byID["d15"].Doc.Text != "crlf" {
		t.Errorf("d15 text %q", byID["d15"].Doc.Text)
	}
}

func TestJSONLLimitsAndEdges(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		opts    LoadOptions
		ids     []string
		bad     []int
		errIs   error
		warning bool
	}{
		{"line too long", `{"_id":"a","text":"short"}` + "\n" + `{"_id":"b","text":"` + strings.Repeat("x", 200) + `"}` + "\n" + `{"_id":"c","text":"after"}`,
			LoadOptions{MaxLineBytes: 100}, []string{"a", "c"}, []int{2}, data.ErrInvalid, false},
		{"no final newline", `{"_id":"a","text":"x"}`, LoadOptions{}, []string{"a"}, nil, nil, false},
		{"only blank lines", "\n\n  \n", LoadOptions{}, nil, nil, ErrEmpty, false},
		{"all bad", "nope\n{]", LoadOptions{}, nil, []int{1, 2}, data.ErrInvalid, false},
		{"invalid utf8", "{\"_id\":\"a\",\"text\":\"caf\xe9\"}", LoadOptions{}, []string{"a"}, nil, nil, true},
		{"control chars", `{"_id":"a","text":"x\u0000y\u0007z"}`, LoadOptions{}, []string{"a"}, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := LoadReader(context.Background(), strings.NewReader(tt.src), "c.jsonl", "", tt.opts)
			if tt.errIs == nil && err != nil || tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Fatalf("err %v, want %v", err, tt.errIs)
			}
			var ids []string
			for _, p := range ps {
				checkParsed(t, p)
				ids = append(ids, p.Doc.ID)
				if (len(p.Warnings) > 0) != tt.warning {
					t.Errorf("%s warnings %q", p.Doc.ID, p.Warnings)
				}
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("ids %q, want %q", ids, tt.ids)
			}
			var bad []int
			var pe *PartialError
			if errors.As(err, &pe) {
				for _, le := range pe.Lines {
					bad = append(bad, le.Line)
				}
			}
			if !reflect.DeepEqual(bad, tt.bad) {
				t.Errorf("bad lines %v, want %v", bad, tt.bad)
			}
		})
	}
}

func TestJSONLControlCharsRemoved(t *testing.T) {
	ps, err := LoadReader(context.Background(), strings.NewReader(`{"_id":"a","text":"x\u0000y\r\nz"}`), "c.jsonl", "", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Doc.Text != "xy\nz" {
		t.Errorf("text %q", ps[0].Doc.Text)
	}
}

func TestJSONLPartialErrorKeepsFirstLines(t *testing.T) {
	src := strings.Repeat("bad\n", MaxLineErrors+50) + `{"_id":"ok","text":"fine"}`
	ps, err := LoadReader(context.Background(), strings.NewReader(src), "c.jsonl", "", LoadOptions{})
	var pe *PartialError
	if !errors.As(err, &pe) || len(ps) != 1 {
		t.Fatalf("err %v, %d docs", err, len(ps))
	}
	if pe.Count != MaxLineErrors+50 || len(pe.Lines) != MaxLineErrors || pe.Lines[MaxLineErrors-1].Line != MaxLineErrors {
		t.Errorf("count %d, kept %d", pe.Count, len(pe.Lines))
	}
}

func TestJSONLStreamsPastFileLimit(t *testing.T) {
	// MaxFileBytes bounds whole-file formats; a JSONL corpus is streamed
	// and bounded per line, so a corpus larger than the limit loads.
	var sb strings.Builder
	for i := range 50 {
		sb.WriteString(`{"_id":"d` + string(rune('A'+i%26)) + strings.Repeat("x", i) + `","text":"some text"}` + "\n")
	}
	path := writeFile(t, t.TempDir(), "big.jsonl", []byte(sb.String()))
	n := 0
	err := StreamFile(context.Background(), path, LoadOptions{MaxFileBytes: 100}, func(p Parsed) error {
		checkParsed(t, p)
		n++
		return nil
	})
	if err != nil || n != 50 {
		t.Fatalf("err %v, %d docs, want 50", err, n)
	}
	// The same bytes as a text file are over the limit.
	txt := writeFile(t, t.TempDir(), "big.txt", []byte(sb.String()))
	if _, err := LoadFile(context.Background(), txt, LoadOptions{MaxFileBytes: 100}); !errors.Is(err, data.ErrTooLarge) {
		t.Fatalf("txt over limit: %v", err)
	}
}

func TestJSONLCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := strings.Repeat(`{"_id":"a","text":"x"}`+"\n", 1000)
	n := 0
	err := StreamReader(ctx, strings.NewReader(src), "c.jsonl", LoadOptions{}, func(Parsed) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n >= 1000 {
		t.Fatalf("err %v after %d docs", err, n)
	}
}
