package generate

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestUserPromptRoundTrip(t *testing.T) {
	ps := []Passage{
		{N: 1, Source: "guide.md", Text: "First line.\n\n\nSecond paragraph after blank lines."},
		{N: 2, Title: "Only a title", Text: "Title label."},
		{N: 3, DocID: "doc-3", Text: "Falls back to the id."},
		{N: 4, Text: "No label at all."},
	}
	prompt := UserPrompt("  What is here?  ", ps)
	if strings.Contains(prompt, "blank lines.\n\n\n") || !strings.Contains(prompt, "[1] (guide.md) First line.\nSecond paragraph") {
		t.Errorf("blank lines not collapsed:\n%s", prompt)
	}
	for _, tmpl := range []string{"", "llama2", "llama3", "chatml", "mistral"} {
		src := prompt
		if tmpl != "" {
			tp, _ := LookupTemplate(tmpl)
			src = tp.Render([]Message{{Role: "system", Content: DefaultSystemPrompt}, {Role: "user", Content: prompt}}, true)
		}
		q, got := ParsePassages(src)
		if q != "What is here?" {
			t.Errorf("%s: question = %q", tmpl, q)
		}
		want := []Passage{
			{N: 1, Rank: 0, Source: "guide.md", Text: "First line.\nSecond paragraph after blank lines."},
			{N: 2, Rank: 1, Source: "Only a title", Text: "Title label."},
			{N: 3, Rank: 2, Source: "doc-3", Text: "Falls back to the id."},
			{N: 4, Rank: 3, Text: "No label at all."},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: passages = %+v", tmpl, got)
		}
	}
}

func TestParsePassagesWithoutMarkers(t *testing.T) {
	q, ps := ParsePassages("  just a question  ")
	if q != "just a question" || ps != nil {
		t.Errorf("got %q %v", q, ps)
	}
	q, ps = ParsePassages(UserPrompt("empty?", nil))
	if q != "empty?" || len(ps) != 0 {
		t.Errorf("no passages: got %q %v", q, ps)
	}
}

func TestPassagesFromHits(t *testing.T) {
	hits := []data.Hit{
		{DocID: "a", ChunkID: "a#1", Score: 0.9, Source: "a.txt", Title: "A", Text: "x", Start: 5, End: 6},
		{DocID: "b", ChunkID: "b#0", Score: 0.5, Text: "y"},
	}
	ps := PassagesFromHits(hits)
	want := []Passage{
		{Rank: 0, DocID: "a", ChunkID: "a#1", Source: "a.txt", Title: "A", Text: "x", Start: 5, End: 6, Score: 0.9},
		{Rank: 1, DocID: "b", ChunkID: "b#0", Text: "y", Score: 0.5},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("PassagesFromHits = %+v", ps)
	}
}
