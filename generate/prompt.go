package generate

import (
	"strconv"
	"strings"

	"github.com/ragd/ragd/data"
)

// DefaultSystemPrompt instructs the model to answer from the numbered
// passages only, to cite them as [n], and to say so when they do not hold
// the answer.
const DefaultSystemPrompt = "You answer questions using only the numbered passages the user provides. " +
	"Support every statement with the number of the passage it comes from in square brackets, " +
	"for example [1] or [2][3]. " +
	"If the passages do not contain the answer, say plainly that the provided passages do not contain it; " +
	"do not guess and do not use outside knowledge. Be concise."

// Markers of the user prompt built by UserPrompt; ParsePassages looks for them.
const (
	passagesHeader = "Passages:"
	questionPrefix = "Question: "
	noPassages     = "(no passages were retrieved)"
)

// Passage is one retrieved chunk as it is shown to a model.
type Passage struct {
	// N is the 1-based number the passage carries in the prompt ("[N]");
	// 0 for a passage that was not included.
	N int `json:"n"`
	// Rank is the 0-based position of the hit in the retrieval results.
	Rank    int     `json:"rank"`
	DocID   string  `json:"doc_id,omitempty"`
	ChunkID string  `json:"chunk_id,omitempty"`
	Source  string  `json:"source,omitempty"`
	Title   string  `json:"title,omitempty"`
	Text    string  `json:"text"`
	Start   int     `json:"start"`
	End     int     `json:"end"`
	Score   float64 `json:"score,omitempty"`
}

// PassagesFromHits converts retrieval hits, best first, into passages with
// their Rank set and N still 0 (Pack numbers the ones it keeps).
func PassagesFromHits(hits []data.Hit) []Passage {
	ps := make([]Passage, len(hits))
	for i, h := range hits {
		ps[i] = Passage{
			Rank: i, DocID: h.DocID, ChunkID: h.ChunkID, Source: h.Source, Title: h.Title,
			Text: h.Text, Start: h.Start, End: h.End, Score: h.Score,
		}
	}
	return ps
}

// Label is the short provenance shown in parentheses: the source, else the
// title, else the document id.
func (p Passage) Label() string {
	for _, s := range []string{p.Source, p.Title, p.DocID} {
		if s = strings.TrimSpace(s); s != "" {
			return oneLine(s)
		}
	}
	return ""
}

// FormatPassage renders one passage as "[n] (label) text". Blank lines
// inside the text are collapsed so that passages stay separated by exactly
// one blank line, which keeps the prompt parseable (see ParsePassages).
func FormatPassage(n int, p Passage) string {
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(strconv.Itoa(n))
	b.WriteString("] ")
	if l := p.Label(); l != "" {
		b.WriteByte('(')
		b.WriteString(l)
		b.WriteString(") ")
	}
	b.WriteString(compactText(p.Text))
	return b.String()
}

// UserPrompt renders the user turn of a RAG request: the numbered passages
// (each passage's N is used) followed by the question.
//
//	Passages:
//
//	[1] (handbook.md) Text of the first passage.
//
//	[2] (faq.md) Text of the second passage.
//
//	Question: How do I ...?
func UserPrompt(question string, passages []Passage) string {
	var b strings.Builder
	b.WriteString(passagesHeader)
	b.WriteString("\n\n")
	if len(passages) == 0 {
		b.WriteString(noPassages)
		b.WriteString("\n\n")
	}
	for _, p := range passages {
		b.WriteString(FormatPassage(p.N, p))
		b.WriteString("\n\n")
	}
	b.WriteString(questionPrefix)
	b.WriteString(strings.TrimSpace(question))
	return b.String()
}

// ParsePassages recovers the question and the numbered passages from a
// prompt built by UserPrompt, also when it is embedded in a larger rendered
// prompt (a chat template around it). It is the documented fallback for
// generators that only see a Request: the extractive generator uses it when
// Answer did not hand it the passages directly. The label in parentheses
// comes back as Source. Text it cannot recognise yields no passages and the
// trimmed whole text as the question.
func ParsePassages(prompt string) (question string, passages []Passage) {
	start := strings.LastIndex(prompt, passagesHeader+"\n")
	if start < 0 {
		return strings.TrimSpace(prompt), nil
	}
	body := prompt[start+len(passagesHeader):]
	qi := strings.LastIndex(body, "\n"+questionPrefix)
	if qi < 0 {
		return strings.TrimSpace(prompt), nil
	}
	question = body[qi+1+len(questionPrefix):]
	question = trimTemplateTail(question)
	body = body[:qi]
	for _, block := range strings.Split(body, "\n\n") {
		block = strings.TrimSpace(block)
		p, ok := parsePassageBlock(block)
		if !ok {
			continue
		}
		p.Rank = len(passages)
		passages = append(passages, p)
	}
	return question, passages
}

// trimTemplateTail cuts chat-template markup that follows the question in a
// rendered prompt (an end-of-turn token or a [/INST] marker).
func trimTemplateTail(q string) string {
	for _, m := range []string{"<|eot_id|>", "<|im_end|>", "[/INST]", "</s>", "<|start_header_id|>", "<|im_start|>"} {
		if i := strings.Index(q, m); i >= 0 {
			q = q[:i]
		}
	}
	return strings.TrimSpace(q)
}

func parsePassageBlock(block string) (Passage, bool) {
	if len(block) < 3 || block[0] != '[' {
		return Passage{}, false
	}
	end := strings.IndexByte(block, ']')
	if end < 2 {
		return Passage{}, false
	}
	n, err := strconv.Atoi(block[1:end])
	if err != nil || n <= 0 {
		return Passage{}, false
	}
	rest := strings.TrimSpace(block[end+1:])
	var p Passage
	p.N = n
	if strings.HasPrefix(rest, "(") {
		if c := strings.Index(rest, ") "); c > 0 {
			p.Source = rest[1:c]
			rest = rest[c+2:]
		} else if strings.HasSuffix(rest, ")") && !strings.Contains(rest, " ") {
			p.Source, rest = rest[1:len(rest)-1], ""
		}
	}
	p.Text = strings.TrimSpace(rest)
	return p, true
}

// compactText trims text and collapses blank lines (and trailing spaces on
// lines) so that it contains no empty line.
func compactText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := lines[:0]
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
