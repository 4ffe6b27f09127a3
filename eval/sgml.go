package eval

import (
	"fmt"
	"strings"

	"github.com/ragd/ragd/data"
)

// indexFold is strings.Index with ASCII case folding.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

// elements returns the contents of every <tag ...>...</tag> in s (ASCII
// case-insensitive; not nested).
func elements(s, tag string) []string {
	var out []string
	open, closeTag := "<"+tag, "</"+tag+">"
	for {
		i := indexFold(s, open)
		if i < 0 {
			return out
		}
		rest := s[i+len(open):]
		if len(rest) == 0 || (rest[0] != '>' && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\n') {
			s = rest
			continue
		}
		gt := strings.IndexByte(rest, '>')
		if gt < 0 {
			return out
		}
		body := rest[gt+1:]
		j := indexFold(body, closeTag)
		if j < 0 {
			out = append(out, body)
			return out
		}
		out = append(out, body[:j])
		s = body[j+len(closeTag):]
	}
}

// stripTags removes <...> tags and collapses whitespace.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return oneLine(b.String())
}

// parseTRECDocs reads <DOC> blocks: the id from <DOCNO>, the title from
// <TITLE>, <HEADLINE> or <HEAD>, the text from the <TEXT> elements (or, when
// there are none, everything but the DOCNO and title).
func parseTRECDocs(s, source string) ([]data.Document, error) {
	blocks := elements(s, "DOC")
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%w: %s has no <DOC> elements", ErrFormat, source)
	}
	docs := make([]data.Document, 0, len(blocks))
	for i, b := range blocks {
		nos := elements(b, "DOCNO")
		if len(nos) == 0 || strings.TrimSpace(nos[0]) == "" {
			return nil, fmt.Errorf("%w: %s: <DOC> %d has no <DOCNO>", ErrFormat, source, i+1)
		}
		d := data.Document{ID: strings.TrimSpace(nos[0]), Source: source}
		for _, t := range []string{"TITLE", "HEADLINE", "HEAD"} {
			if v := elements(b, t); len(v) > 0 {
				d.Title = stripTags(v[0])
				break
			}
		}
		texts := elements(b, "TEXT")
		if len(texts) == 0 {
			rest := b
			for _, t := range []string{"DOCNO", "TITLE", "HEADLINE", "HEAD"} {
				for _, v := range elements(rest, t) {
					rest = strings.Replace(rest, v, " ", 1)
				}
			}
			texts = []string{rest}
		}
		parts := make([]string, 0, len(texts))
		for _, t := range texts {
			if v := stripTags(t); v != "" {
				parts = append(parts, v)
			}
		}
		d.Text = strings.Join(parts, "\n")
		docs = append(docs, d)
	}
	return docs, nil
}

// topicFields are the SGML fields of a TREC topic, with the labels older
// topic files put after the tag.
var topicFields = []struct{ tag, label string }{
	{"num", "Number:"},
	{"title", "Topic:"},
	{"desc", "Description:"},
	{"narr", "Narrative:"},
}

// ParseTopics reads TREC <top> topics. field picks the query text:
// "title" (default), "desc", "narr" or "title+desc". Fields may be left
// unclosed, as in the classic ad hoc topics.
func ParseTopics(s, field string) ([]Query, error) {
	if field == "" {
		field = "title"
	}
	want := strings.Split(field, "+")
	for _, w := range want {
		if w != "title" && w != "desc" && w != "narr" {
			return nil, fmt.Errorf("%w: topic field %q (want title, desc, narr or title+desc)", ErrConfig, field)
		}
	}
	tops := elements(s, "top")
	if len(tops) == 0 {
		return nil, fmt.Errorf("%w: no <top> topics", ErrFormat)
	}
	qs := make([]Query, 0, len(tops))
	for i, t := range tops {
		f := topicParts(t)
		if f["num"] == "" {
			return nil, fmt.Errorf("%w: topic %d has no <num>", ErrFormat, i+1)
		}
		var parts []string
		for _, w := range want {
			if f[w] != "" {
				parts = append(parts, f[w])
			}
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("%w: topic %s has no %s", ErrFormat, f["num"], field)
		}
		qs = append(qs, Query{ID: f["num"], Text: strings.Join(parts, " ")})
	}
	return qs, nil
}

// topicParts finds each field's text: from its tag to the next tag.
func topicParts(t string) map[string]string {
	out := map[string]string{}
	for _, tf := range topicFields {
		i := indexFold(t, "<"+tf.tag+">")
		if i < 0 {
			continue
		}
		rest := t[i+len(tf.tag)+2:]
		if j := strings.IndexByte(rest, '<'); j >= 0 {
			rest = rest[:j]
		}
		rest = strings.TrimSpace(rest)
		if len(rest) >= len(tf.label) && strings.EqualFold(rest[:len(tf.label)], tf.label) {
			rest = rest[len(tf.label):]
		}
		out[tf.tag] = oneLine(rest)
	}
	return out
}
