package ingest

import (
	"html"
	"strings"

	"github.com/ragd/ragd/data"
)

// textWriter accumulates a loader's output text with paragraph breaks and
// heading sections. Breaks are written lazily, before the next content, so
// the text never starts or ends with a break.
type textWriter struct {
	sb       strings.Builder
	brk      int // pending break: 0 none, 1 line, 2 paragraph, 3 space
	sections []Section
	open     bool // the last section is still open
	stack    []heading
}

type heading struct {
	level int
	text  string
}

func (w *textWriter) breakLine() {
	if w.brk < 1 || w.brk == 3 {
		w.brk = 1
	}
}

func (w *textWriter) breakPara() { w.brk = 2 }

func (w *textWriter) space() {
	if w.brk == 0 {
		w.brk = 3
	}
}

func (w *textWriter) write(s string) {
	if s == "" {
		return
	}
	if w.sb.Len() > 0 {
		switch w.brk {
		case 1:
			w.sb.WriteByte('\n')
		case 2:
			w.sb.WriteString("\n\n")
		case 3:
			w.sb.WriteByte(' ')
		}
	}
	w.brk = 0
	w.sb.WriteString(s)
}

// heading closes the open section and opens one for a level-n heading
// whose text is written next.
func (w *textWriter) heading(level int, text string) {
	w.closeSection()
	for len(w.stack) > 0 && w.stack[len(w.stack)-1].level >= level {
		w.stack = w.stack[:len(w.stack)-1]
	}
	w.stack = append(w.stack, heading{level, text})
	path := make([]string, len(w.stack))
	for i, h := range w.stack {
		path[i] = h.text
	}
	w.breakPara()
	start := w.sb.Len()
	if start > 0 {
		start += 2 // the paragraph break written before the heading text
	}
	w.sections = append(w.sections, Section{Start: start, Headings: path})
	w.open = true
	w.write(text)
	w.breakPara()
}

func (w *textWriter) closeSection() {
	if w.open {
		w.sections[len(w.sections)-1].End = w.sb.Len()
		w.open = false
	}
}

func (w *textWriter) finish() (string, []Section) {
	w.closeSection()
	var secs []Section
	for _, s := range w.sections {
		if s.End > s.Start {
			secs = append(secs, s)
		}
	}
	return w.sb.String(), secs
}

// parseMarkdown converts markdown to readable text with heading sections.
// Headings become paragraphs of their own and open a Section; link and
// image URLs, emphasis marks, HTML tags and comments, reference
// definitions, thematic breaks and table rules are dropped; link text,
// image alt text and code (inline and fenced, verbatim) are kept. YAML
// front matter and <script> and <style> blocks are dropped. The title is
// the front matter's "title:", else the first level-1 heading.
func parseMarkdown(src string) Parsed {
	var w textWriter
	var title string
	lines := strings.Split(src, "\n")
	i := 0
	// YAML front matter.
	if len(lines) > 1 && strings.TrimRight(lines[0], " \t") == "---" {
		for j := 1; j < len(lines) && j < 1000; j++ {
			l := strings.TrimRight(lines[j], " \t")
			if l == "---" || l == "..." {
				for _, fl := range lines[1:j] {
					if v, ok := strings.CutPrefix(fl, "title:"); ok && title == "" {
						title = strings.Trim(strings.TrimSpace(v), `"'`)
					}
				}
				i = j + 1
				break
			}
		}
	}
	var para []string // inline-processed lines of the open paragraph
	flush := func() {
		if len(para) > 0 {
			w.breakPara()
			for _, l := range para {
				w.breakLine()
				w.write(l)
			}
			w.breakPara()
			para = para[:0]
		}
	}
	emitHeading := func(level int, text string) {
		text = strings.Join(strings.Fields(text), " ")
		if text == "" {
			return
		}
		if level == 1 && title == "" {
			title = text
		}
		w.heading(level, text)
	}
	var fence string // the open code fence, "" outside code
	inComment := false
	rawEnd := "" // closing tag of an open <script> or <style> block
	for ; i < len(lines); i++ {
		raw := lines[i]
		if fence != "" {
			t := strings.TrimSpace(raw)
			if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				fence = ""
				w.breakPara()
				continue
			}
			w.breakLine()
			if strings.TrimSpace(raw) == "" {
				w.breakPara()
				continue
			}
			w.write(strings.TrimRight(raw, " \t"))
			continue
		}
		line := strings.TrimSpace(raw)
		if inComment {
			if j := strings.Index(line, "-->"); j >= 0 {
				inComment = false
				line = strings.TrimSpace(line[j+3:])
			} else {
				continue
			}
		}
		if strings.HasPrefix(line, "<!--") && !strings.Contains(line[4:], "-->") {
			inComment = true
			continue
		}
		if rawEnd != "" {
			if strings.Contains(strings.ToLower(line), rawEnd) {
				rawEnd = ""
			}
			continue
		}
		if tag := rawBlock(line); tag != "" {
			flush()
			if !strings.Contains(strings.ToLower(line), "</"+tag+">") {
				rawEnd = "</" + tag + ">"
			}
			continue
		}
		// Block quotes: drop the markers.
		for strings.HasPrefix(line, ">") {
			line = strings.TrimSpace(line[1:])
		}
		if line == "" {
			flush()
			continue
		}
		if f := fenceOpen(line); f != "" {
			flush()
			fence = f
			w.breakPara()
			continue
		}
		if level, text, ok := atxHeading(line); ok {
			flush()
			emitHeading(level, mdInline(text))
			continue
		}
		if isRule(line, '=') && len(para) > 0 {
			text := strings.Join(para, " ")
			para = para[:0]
			emitHeading(1, text)
			continue
		}
		if isRule(line, '-') && len(para) > 0 && !strings.Contains(line, " ") {
			text := strings.Join(para, " ")
			para = para[:0]
			emitHeading(2, text)
			continue
		}
		if isRule(line, '-') || isRule(line, '*') || isRule(line, '_') {
			flush()
			continue
		}
		if isTableRule(line) || isRefDef(line) {
			continue
		}
		if l := strings.TrimSpace(mdInline(line)); l != "" {
			para = append(para, l)
		}
	}
	flush()
	text, secs := w.finish()
	return Parsed{Doc: data.Document{Title: title, Text: text}, Sections: secs}
}

// rawBlock returns "script" or "style" when line opens such an HTML block,
// whose content is not text.
func rawBlock(line string) string {
	l := strings.ToLower(line)
	for _, tag := range []string{"script", "style"} {
		if strings.HasPrefix(l, "<"+tag) && (len(l) == len(tag)+1 || l[len(tag)+1] == '>' || l[len(tag)+1] == ' ') {
			return tag
		}
	}
	return ""
}

// fenceOpen returns the fence (``` or ~~~, at least 3) that line opens.
func fenceOpen(line string) string {
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(line) && line[n] == c {
			n++
		}
		if n >= 3 && (c == '~' || !strings.Contains(line[n:], "`")) {
			return line[:n]
		}
	}
	return ""
}

// atxHeading parses "## text ##".
func atxHeading(line string) (int, string, bool) {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(line) && line[n] != ' ' && line[n] != '\t') {
		return 0, "", false
	}
	text := strings.TrimSpace(line[n:])
	if t := strings.TrimRight(text, "#"); t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t") {
		text = strings.TrimSpace(t)
	}
	return n, text, true
}

// isRule reports whether line is three or more c, spaces allowed.
func isRule(line string, c byte) bool {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3 || (c == '=' && n >= 1)
}

// isTableRule matches a table's header rule like "|---|:--:|".
func isTableRule(line string) bool {
	dash := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '-':
			dash = true
		case '|', ':', ' ', '\t':
		default:
			return false
		}
	}
	return dash && strings.Contains(line, "|")
}

// isRefDef matches a link reference definition "[ref]: url".
func isRefDef(line string) bool {
	if !strings.HasPrefix(line, "[") || strings.HasPrefix(line, "[^") {
		return false
	}
	j := strings.Index(line, "]:")
	return j > 1 && !strings.Contains(line[1:j], "]") && strings.TrimSpace(line[j+2:]) != ""
}

// maxLinkNesting bounds how deep link labels are rendered recursively.
const maxLinkNesting = 8

// mdInline renders one line's inline markdown as text.
func mdInline(s string) string { return mdInlineDepth(s, 0) }

// mdInlineDepth runs in time linear in s times the nesting bound: brackets
// are matched once with a stack, other searches are cached or bounded.
func mdInlineDepth(s string, depth int) string {
	if !strings.ContainsAny(s, "\\`[]<*_~&!") {
		return s
	}
	match := matchBrackets(s)
	var out, plain strings.Builder
	flushPlain := func() {
		p := plain.String()
		if strings.Contains(p, "&") {
			p = html.UnescapeString(p)
		}
		out.WriteString(p)
		plain.Reset()
	}
	noTicks := map[int]bool{} // backtick run lengths with no closer ahead
	nextGT := -1              // cached index of the next '>' after i
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && isASCIIPunct(s[i+1]) {
				plain.WriteByte(s[i+1])
				i += 2
				continue
			}
		case '`':
			n := 0
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			if !noTicks[n] {
				if end := findTicks(s, i+n, n); end >= 0 {
					flushPlain()
					code := s[i+n : end]
					if len(code) > 2 && code[0] == ' ' && code[len(code)-1] == ' ' {
						code = code[1 : len(code)-1]
					}
					out.WriteString(code)
					i = end + n
					continue
				}
				noTicks[n] = true
			}
			plain.WriteString(s[i : i+n])
			i += n
			continue
		case '!', '[':
			open := i
			if c == '!' {
				if i+1 >= len(s) || s[i+1] != '[' {
					break
				}
				open = i + 1
			}
			closing, ok := match[open]
			if !ok || closing < 0 || depth >= maxLinkNesting {
				break
			}
			label := s[open+1 : closing]
			rest := closing + 1
			if rest < len(s) && s[rest] == '(' {
				if end := linkDestEnd(s, rest+1); end >= 0 {
					plain.WriteString(mdInlineDepth(label, depth+1))
					i = end + 1
					continue
				}
			} else if rest < len(s) && s[rest] == '[' {
				if k := strings.IndexByte(s[rest+1:min(len(s), rest+1+256)], ']'); k >= 0 {
					plain.WriteString(mdInlineDepth(label, depth+1))
					i = rest + 1 + k + 1
					continue
				}
			}
			if c == '!' {
				break
			}
			// "[text]" alone: a shortcut reference or plain brackets; keep the text.
			if strings.HasPrefix(label, "^") {
				i = rest // footnote marker
				continue
			}
			plain.WriteString(mdInlineDepth(label, depth+1))
			i = rest
			continue
		case '<':
			if nextGT <= i {
				if k := strings.IndexByte(s[i+1:], '>'); k >= 0 {
					nextGT = i + 1 + k
				} else {
					nextGT = len(s)
				}
			}
			if end := nextGT - i - 1; nextGT < len(s) && end <= 2048 {
				inner := s[i+1 : i+1+end]
				switch {
				case strings.HasPrefix(inner, "!--") && strings.HasSuffix(inner, "--"):
					i += end + 2
					continue
				case isAutolink(inner):
					plain.WriteString(inner)
					i += end + 2
					continue
				case isTag(inner):
					i += end + 2
					continue
				}
			}
		case '*', '_', '~':
			n := 0
			for i+n < len(s) && s[i+n] == c {
				n++
			}
			if (c != '~' || n == 2) && n <= 3 && emphasisRun(s, i, i+n, c) {
				i += n
				continue
			}
			plain.WriteString(s[i : i+n])
			i += n
			continue
		}
		plain.WriteByte(c)
		i++
	}
	flushPlain()
	return out.String()
}

// matchBrackets maps the index of each '[' to the index of its matching
// ']' (-1 when unmatched); backslash escapes are skipped.
func matchBrackets(s string) map[int]int {
	m := map[int]int{}
	var stack []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			stack = append(stack, i)
			m[i] = -1
		case ']':
			if len(stack) > 0 {
				m[stack[len(stack)-1]] = i
				stack = stack[:len(stack)-1]
			}
		}
	}
	return m
}

func findTicks(s string, from, n int) int {
	for i := from; i < len(s); {
		j := strings.IndexByte(s[i:], '`')
		if j < 0 {
			return -1
		}
		j += i
		k := j
		for k < len(s) && s[k] == '`' {
			k++
		}
		if k-j == n {
			return j
		}
		i = k
	}
	return -1
}

// linkDestEnd finds the ')' that closes a link destination starting at
// from, allowing balanced parentheses inside; -1 if there is none within
// 2 KiB or the destination holds a space-free mess of newlines.
func linkDestEnd(s string, from int) int {
	depth := 0
	for i := from; i < len(s) && i < from+2048; i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// emphasisRun reports whether the delimiter run s[i:j] opens or closes
// emphasis: it touches a word on exactly one side, or on both sides for '*'
// and '~' with no letter/digit on both (so snake_case and 2*3 are kept).
func emphasisRun(s string, i, j int, c byte) bool {
	before := i == 0 || isSpaceOrPunct(s[i-1])
	after := j >= len(s) || isSpaceOrPunct(s[j])
	if before && after {
		return false // surrounded by spaces: "a * b"
	}
	if !before && !after {
		return false // intraword
	}
	if before && j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		return false
	}
	if after && i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
		return false
	}
	return true
}

func isSpaceOrPunct(b byte) bool {
	return b == ' ' || b == '\t' || (b < 0x80 && isASCIIPunct(b))
}

func isASCIIPunct(b byte) bool {
	return strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", b) >= 0
}

func isASCIILetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func isASCIIAlnum(r rune) bool {
	return isASCIILetter(r) || r >= '0' && r <= '9'
}

func isAutolink(s string) bool {
	if strings.ContainsAny(s, " <>\t") || s == "" {
		return false
	}
	k := strings.Index(s, ":")
	if k > 1 && k < 33 {
		for _, r := range s[:k] {
			if !isASCIIAlnum(r) && r != '+' && r != '.' && r != '-' {
				return false
			}
		}
		return true
	}
	at := strings.IndexByte(s, '@')
	return at > 0 && strings.Contains(s[at:], ".")
}

func isTag(s string) bool {
	s = strings.TrimPrefix(s, "/")
	if s == "" || !isASCIILetter(rune(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isASCIIAlnum(rune(c)) && c != '-' {
			return c == ' ' || c == '/' || c == '\t'
		}
	}
	return true
}
