package ingest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/ragd/ragd/data"
)

// skipped are elements whose content is never visible text or is page
// chrome rather than content.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: false, atom.Nav: true, atom.Header: true, atom.Footer: true,
	atom.Aside: true, atom.Form: true, atom.Head: true, atom.Iframe: true, atom.Object: true,
	atom.Canvas: true, atom.Button: true, atom.Select: true, atom.Textarea: true,
	atom.Dialog: true,
}

// paragraphs are block elements that get a paragraph break around them;
// lines get a line break.
var (
	paragraphs = map[atom.Atom]bool{
		atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
		atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Table: true, atom.Blockquote: true,
		atom.Pre: true, atom.Figure: true, atom.Hr: true, atom.Address: true, atom.Details: true,
		atom.Body: true, atom.Center: true, atom.Fieldset: true, atom.Caption: true,
		atom.Html: true, atom.Hgroup: true,
	}
	lines = map[atom.Atom]bool{
		atom.Li: true, atom.Dt: true, atom.Dd: true, atom.Tr: true, atom.Figcaption: true,
		atom.Summary: true, atom.Br: true, atom.Legend: true,
	}
	cells = map[atom.Atom]bool{atom.Td: true, atom.Th: true}
)

// parseHTML extracts the visible text of an HTML page. The title is the
// <title>, else the first <h1>. Scripts, styles, navigation, headers,
// footers, asides, forms and hidden elements (hidden attribute,
// aria-hidden="true", inline display:none or visibility:hidden) are
// dropped; block elements become paragraph breaks, list items and table
// rows line breaks; <pre> keeps its lines; entities are decoded. Headings
// h1-h6 open Sections like markdown headings do.
func parseHTML(src string) (Parsed, error) {
	root, err := html.Parse(strings.NewReader(src))
	if err != nil {
		// The tree builder refuses very deep nesting; a flat token scan
		// still gets the text out.
		p := parseHTMLTokens(src)
		p.Warnings = append(p.Warnings, fmt.Sprintf("html: %v; used a simpler parser", err))
		return p, nil
	}
	var title, firstH1 string
	visit(root, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.DataAtom == atom.Title && title == "" {
			title = collapse(textContent(n, false))
			return false
		}
		return n.Type != html.ElementNode || n.DataAtom != atom.Svg
	}, nil)

	var w textWriter
	pre := 0
	enter := func(n *html.Node) bool {
		switch n.Type {
		case html.TextNode:
			writeHTMLText(&w, n.Data, pre > 0)
			return false
		case html.ElementNode:
		default:
			return n.Type == html.DocumentNode
		}
		if skipped[n.DataAtom] || hiddenNode(n) {
			return false
		}
		switch {
		case headingLevel(n.DataAtom) > 0:
			text := collapse(textContent(n, true))
			if text != "" {
				if firstH1 == "" && n.DataAtom == atom.H1 {
					firstH1 = text
				}
				w.heading(headingLevel(n.DataAtom), text)
			}
			return false
		case n.DataAtom == atom.Pre:
			pre++
			w.breakPara()
		case paragraphs[n.DataAtom]:
			w.breakPara()
		case lines[n.DataAtom]:
			w.breakLine()
		case cells[n.DataAtom]:
			w.space()
		}
		return true
	}
	leave := func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch {
		case n.DataAtom == atom.Pre:
			if pre > 0 {
				pre--
			}
			w.breakPara()
		case paragraphs[n.DataAtom], headingLevel(n.DataAtom) > 0:
			w.breakPara()
		case lines[n.DataAtom]:
			w.breakLine()
		case cells[n.DataAtom]:
			w.space()
		}
	}
	visit(root, enter, leave)
	text, secs := w.finish()
	if title == "" {
		title = firstH1
	}
	return Parsed{Doc: data.Document{Title: title, Text: text}, Sections: secs}, nil
}

// visit walks the tree under root in document order without recursion
// (deeply nested input cannot exhaust the stack). enter reports whether to
// descend into a node; leave, if not nil, runs after a node's children.
func visit(root *html.Node, enter func(*html.Node) bool, leave func(*html.Node)) {
	n := root
	for n != nil {
		if enter(n) && n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for n != nil {
			if leave != nil {
				leave(n)
			}
			if n == root {
				return
			}
			if n.NextSibling != nil {
				n = n.NextSibling
				break
			}
			n = n.Parent
		}
	}
}

// textContent is the text under n; visible=true skips what parseHTML drops.
func textContent(n *html.Node, visible bool) string {
	var sb strings.Builder
	visit(n, func(c *html.Node) bool {
		switch c.Type {
		case html.TextNode:
			sb.WriteString(c.Data)
			sb.WriteByte(' ')
			return false
		case html.ElementNode:
			return !visible || (!skipped[c.DataAtom] && !hiddenNode(c))
		}
		return c == n
	}, nil)
	return sb.String()
}

func writeHTMLText(w *textWriter, s string, pre bool) {
	if pre {
		for i, l := range strings.Split(s, "\n") {
			if i > 0 {
				w.breakLine()
			}
			l = strings.TrimRight(l, " \t\r")
			if l == "" && i > 0 {
				w.breakPara()
			}
			w.write(l)
		}
		return
	}
	if s == "" {
		return
	}
	if first, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(first) {
		w.space()
	}
	if t := collapse(s); t != "" {
		w.write(t)
		if last, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(last) {
			w.space()
		}
	}
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

// hiddenNode reports an element hidden by attribute or inline style.
func hiddenNode(n *html.Node) bool {
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "type":
			if n.DataAtom == atom.Input && strings.EqualFold(a.Val, "hidden") {
				return true
			}
		case "style":
			st := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.Contains(st, "display:none") || strings.Contains(st, "visibility:hidden") {
				return true
			}
		}
	}
	return false
}

// parseHTMLTokens is parseHTML on the token stream instead of the tree: the
// fallback for pages the tree builder rejects. It drops the same elements
// (tracking their nesting by name) and breaks at the same block elements.
func parseHTMLTokens(src string) Parsed {
	z := html.NewTokenizer(strings.NewReader(src))
	var w textWriter
	var title, firstH1, head strings.Builder
	var skip []atom.Atom // open elements whose content is dropped
	inTitle, headLevel, pre := false, 0, 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		a := tok.DataAtom
		switch tt {
		case html.TextToken:
			switch {
			case inTitle:
				title.WriteString(tok.Data)
			case len(skip) > 0:
			case headLevel > 0:
				head.WriteString(tok.Data)
			default:
				writeHTMLText(&w, tok.Data, pre > 0)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			n := &html.Node{Type: html.ElementNode, DataAtom: a, Attr: tok.Attr}
			if a == atom.Title && tt == html.StartTagToken {
				inTitle = true
				continue
			}
			if len(skip) > 0 || skipped[a] || hiddenNode(n) {
				if tt == html.StartTagToken && !voidElement(a) {
					skip = append(skip, a)
				}
				continue
			}
			switch {
			case headingLevel(a) > 0:
				headLevel = headingLevel(a)
				head.Reset()
			case a == atom.Pre:
				pre++
				w.breakPara()
			case paragraphs[a]:
				w.breakPara()
			case lines[a]:
				w.breakLine()
			case cells[a]:
				w.space()
			}
		case html.EndTagToken:
			if a == atom.Title {
				inTitle = false
				continue
			}
			if len(skip) > 0 {
				if skip[len(skip)-1] == a {
					skip = skip[:len(skip)-1]
				}
				continue
			}
			switch {
			case headingLevel(a) > 0 && headLevel > 0:
				if text := collapse(head.String()); text != "" {
					if firstH1.Len() == 0 && headLevel == 1 {
						firstH1.WriteString(text)
					}
					w.heading(headLevel, text)
				}
				headLevel = 0
			case a == atom.Pre:
				pre = max(pre-1, 0)
				w.breakPara()
			case paragraphs[a]:
				w.breakPara()
			case lines[a]:
				w.breakLine()
			case cells[a]:
				w.space()
			}
		}
	}
	if headLevel > 0 { // an unclosed heading keeps its text
		w.write(collapse(head.String()))
	}
	text, secs := w.finish()
	t := collapse(title.String())
	if t == "" {
		t = firstH1.String()
	}
	return Parsed{Doc: data.Document{Title: t, Text: text}, Sections: secs}
}

func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Link, atom.Meta, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}
