package extractive

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
)

func samplePassages() []generate.Passage {
	return []generate.Passage{
		{N: 1, Source: "bread.md", Text: "Sourdough bread is leavened with a starter of wild yeast. " +
			"The starter is fed with flour and water every day. Bakers often score the loaf before baking."},
		{N: 2, Source: "ovens.md", Text: "A Dutch oven traps steam while the bread bakes. " +
			"Preheat the oven to 250 degrees before baking sourdough. Ovens vary in temperature accuracy."},
		{N: 3, Source: "dup.md", Text: "Sourdough bread is leavened with a starter of wild yeast. The weather was mild."},
		{N: 4, Source: "stocks.md", Text: "The stock market fell today. Investors sold technology shares."},
	}
}

type sink struct {
	deltas []string
	done   *generate.Event
}

func (s *sink) emit(e generate.Event) error {
	switch e.Type {
	case generate.EventToken:
		s.deltas = append(s.deltas, e.Delta)
	case generate.EventDone:
		s.done = &e
	}
	return nil
}

func (s *sink) text() string { return strings.Join(s.deltas, "") }

var markerRE = regexp.MustCompile(`\s?\[(\d+)\]`)

// checkCitations verifies that each cited sentence occurs in the passage
// its marker names.
func checkCitations(t *testing.T, text string, ps []generate.Passage) int {
	t.Helper()
	body := strings.TrimPrefix(text, Prefix)
	rest := body
	n := 0
	for {
		loc := markerRE.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		sentence := strings.TrimSpace(rest[:loc[0]])
		num, _ := strconv.Atoi(rest[loc[2]:loc[3]])
		rest = strings.TrimLeft(rest[loc[1]:], ".!? ")
		var p *generate.Passage
		for i := range ps {
			if ps[i].N == num {
				p = &ps[i]
			}
		}
		if p == nil {
			t.Errorf("marker [%d] names no passage", num)
			continue
		}
		if !strings.Contains(p.Text, sentence) {
			t.Errorf("sentence %q cited as [%d] is not in that passage", sentence, num)
		}
		n++
	}
	return n
}

func TestAnswerPassagesQuotesRelevantSentences(t *testing.T) {
	g := New(Config{})
	ps := samplePassages()
	var s sink
	err := g.AnswerPassages(context.Background(), "How is sourdough bread leavened?", ps, generate.Request{}, s.emit)
	if err != nil {
		t.Fatal(err)
	}
	text := s.text()
	if !strings.HasPrefix(text, Prefix) {
		t.Fatalf("answer does not say it is extractive: %q", text)
	}
	if !strings.Contains(text, "Sourdough bread is leavened with a starter of wild yeast [1].") {
		t.Errorf("best sentence missing or wrongly cited: %q", text)
	}
	if strings.Contains(text, "[3]") {
		t.Errorf("duplicate sentence from passage 3 not removed: %q", text)
	}
	if strings.Contains(text, "stock market") || strings.Contains(text, "weather") {
		t.Errorf("irrelevant sentence quoted: %q", text)
	}
	if n := checkCitations(t, text, ps); n < 2 || n > 4 {
		t.Errorf("%d sentences quoted, want 2..4: %q", n, text)
	}
	// Reading order: passage 1's sentences come before passage 2's.
	if i, j := strings.Index(text, "[1]"), strings.Index(text, "[2]"); j >= 0 && i > j {
		t.Errorf("not in reading order: %q", text)
	}
	if s.done == nil || s.done.FinishReason != "stop" || s.done.Usage.CompletionTokens != len(s.deltas) || s.done.Usage.PromptTokens == 0 {
		t.Errorf("done = %+v", s.done)
	}
	// Word by word: every delta is one word (with its leading space).
	for i, d := range s.deltas {
		if strings.Count(strings.TrimSpace(d), " ") != 0 || (i > 0 && !strings.HasPrefix(d, " ")) {
			t.Fatalf("delta %d = %q is not one word", i, d)
		}
	}
}

func TestAnswerPassagesLimits(t *testing.T) {
	g := New(Config{})
	q := "How is sourdough bread leavened?"
	full := g.Compose(q, samplePassages())

	var s sink
	if err := g.AnswerPassages(context.Background(), q, samplePassages(), generate.Request{MaxTokens: 5}, s.emit); err != nil {
		t.Fatal(err)
	}
	if len(s.deltas) != 5 || s.done.FinishReason != "length" || s.text() != strings.Join(strings.Fields(full)[:5], " ") {
		t.Errorf("max tokens: %q finish %q", s.text(), s.done.FinishReason)
	}

	s = sink{}
	if err := g.AnswerPassages(context.Background(), q, samplePassages(), generate.Request{Stop: []string{"wild", "zzz"}}, s.emit); err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(full[:strings.Index(full, "wild")]); s.text() != want || s.done.FinishReason != "stop" {
		t.Errorf("stop: %q, want %q", s.text(), want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := g.AnswerPassages(ctx, q, samplePassages(), generate.Request{}, func(e generate.Event) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("cancel: err = %v after %d events", err, n)
	}

	stop := errors.New("stop")
	if err := g.AnswerPassages(context.Background(), q, samplePassages(), generate.Request{}, func(generate.Event) error { return stop }); err != stop {
		t.Errorf("emit error: %v", err)
	}
	if err := g.AnswerPassages(context.Background(), q, nil, generate.Request{MaxTokens: -1}, s.emit); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("negative max tokens: %v", err)
	}
}

func TestComposeFallbacks(t *testing.T) {
	g := New(Config{})
	if got := g.Compose("anything", nil); !strings.HasPrefix(got, Prefix) || !strings.Contains(got, "no passages") {
		t.Errorf("no passages: %q", got)
	}
	got := g.Compose("quantum chromodynamics", samplePassages())
	if !strings.Contains(got, "do not appear to answer") || !strings.Contains(got, "Sourdough bread is leavened with a starter of wild yeast [1].") {
		t.Errorf("no overlap: %q", got)
	}
	// Passages without numbers are cited by position.
	got = g.Compose("stock market", []generate.Passage{{Text: "Unrelated."}, {Text: "The stock market fell today"}})
	if !strings.Contains(got, "The stock market fell today [2].") {
		t.Errorf("unnumbered: %q", got)
	}
}

func TestMaxSentences(t *testing.T) {
	texts := []string{
		"Rivers flow downhill toward the sea.",
		"Most rivers carry silt and sand.",
		"Large rivers form deltas at their mouths.",
		"Some rivers dry up in summer heat.",
		"Canals differ from rivers in being built.",
	}
	var ps []generate.Passage
	for i, tx := range texts {
		ps = append(ps, generate.Passage{N: i + 1, Text: tx})
	}
	for _, max := range []int{1, 2, 3} {
		got := New(Config{MaxSentences: max, MinRelativeScore: 0.01}).Compose("What do rivers do?", ps)
		if n := len(markerRE.FindAllString(got, -1)); n != max {
			t.Errorf("MaxSentences %d: %d sentences: %q", max, n, got)
		}
	}
}

func TestGenerateParsesRenderedPrompt(t *testing.T) {
	ps := samplePassages()
	user := generate.UserPrompt("How is sourdough bread leavened?", ps)
	tmpl := generate.TemplateFor("llama3", "")
	g := New(Config{})
	want := g.Compose("How is sourdough bread leavened?", ps)
	for name, req := range map[string]generate.Request{
		"messages": {Messages: []generate.Message{{Role: "system", Content: "sys"}, {Role: "user", Content: user}}},
		"prompt":   {Prompt: tmpl.Render([]generate.Message{{Role: "user", Content: user}}, true)},
	} {
		var s sink
		if err := g.Generate(context.Background(), req, s.emit); err != nil {
			t.Fatal(err)
		}
		if got := s.text(); got != strings.Join(strings.Fields(want), " ") {
			t.Errorf("%s: %q\nwant %q", name, got, want)
		}
	}
}

func TestAnswerIntegration(t *testing.T) {
	hits := []data.Hit{
		{DocID: "bread", ChunkID: "bread#0", Source: "bread.md", Text: samplePassages()[0].Text},
		{DocID: "ovens", ChunkID: "ovens#0", Source: "ovens.md", Text: samplePassages()[1].Text},
	}
	ans, err := generate.Answer(context.Background(), New(Config{}), "What temperature should the oven be for sourdough?", hits, generate.AnswerOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ans.Text, "Preheat the oven to 250 degrees before baking sourdough [2].") {
		t.Errorf("text = %q", ans.Text)
	}
	found := false
	for _, c := range ans.Citations {
		if c.N == 2 && c.ChunkID == "ovens#0" {
			found = true
		}
	}
	if !found || ans.Generator.Backend != "extractive" {
		t.Errorf("citations = %+v, generator = %+v", ans.Citations, ans.Generator)
	}
}

func TestStem(t *testing.T) {
	groups := [][]string{
		{"engine", "engines", "engined"},
		{"bake", "baking", "bakes", "baked"},
		{"run", "running", "runs"},
		{"apply", "applies", "applied"},
		{"class", "classes"},
		{"use", "uses"},
	}
	for _, g := range groups {
		for _, w := range g[1:] {
			if stem(w) != stem(g[0]) {
				t.Errorf("stem(%q) = %q, stem(%q) = %q", w, stem(w), g[0], stem(g[0]))
			}
		}
	}
	for _, w := range []string{"bus", "analysis", "is", "gas"} {
		if got := stem(w); got != w {
			t.Errorf("stem(%q) = %q, want unchanged", w, got)
		}
	}
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"One. Two! Three?", []string{"One.", "Two!", "Three?"}},
		{"Pi is 3.14 roughly. Next one.", []string{"Pi is 3.14 roughly.", "Next one."}},
		{"Dr. Smith arrived. He sat.", []string{"Dr. Smith arrived.", "He sat."}},
		{"Use e.g. flour, etc. and water. Done.", []string{"Use e.g. flour, etc. and water.", "Done."}},
		{"J. R. Tolkien wrote. Yes.", []string{"J. R. Tolkien wrote.", "Yes."}},
		{"Mixed case after. dot continues", []string{"Mixed case after. dot continues"}},
		{"Line one\nLine two", []string{"Line one", "Line two"}},
		// Hard-wrapped prose: the sentence continues across the break.
		{"For incoming server requests, the context is canceled when the client's\nconnection closes. Done.", []string{"For incoming server requests, the context is canceled when the client's connection closes.", "Done."}},
		{"A long wrapped line that does not end a sentence at all here\nContinues On The Next Line.", []string{"A long wrapped line that does not end a sentence at all here Continues On The Next Line."}},
		{"Para one.\n\nPara two.", []string{"Para one.", "Para two."}},
		{"He said \"stop.\" Then left.", []string{"He said \"stop.\"", "Then left."}},
		{"all lowercase here. another one. e.g. this", []string{"all lowercase here.", "another one.", "e.g. this"}},
		{"Tokenised text . next part . End", []string{"Tokenised text .", "next part .", "End"}},
		{"Real text. . . Ok", []string{"Real text.", "Ok"}},
	}
	for _, tt := range tests {
		if got := splitSentences(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitSentences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestComposeLargeInputIsFast(t *testing.T) {
	// Many non-splitting periods on one line must not be quadratic.
	big := strings.Repeat("Dr. e.g. mr. x ", 60000) + "bread end."
	start := time.Now()
	got := New(Config{}).Compose("bread", []generate.Passage{{N: 1, Text: big}, {N: 2, Text: strings.Repeat("Bread is good. ", 20000)}})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Compose took %v on %d bytes", d, len(big))
	}
	if !strings.HasPrefix(got, Prefix) || !strings.Contains(got, "[2]") {
		t.Errorf("answer = %.200q", got)
	}
}
