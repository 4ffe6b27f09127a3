package extractive

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// stopWords are common English function words that carry no topic.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be because been
		before being below between both but by can could did do does doing down during each few for from further
		had has have having he her here hers herself him himself his how i if in into is it its itself just me more
		most my myself no nor not now of off on once only or other our ours ourselves out over own same she should
		so some such than that the their theirs them themselves then there these they this those through to too
		under until up very was we were what when where which while who whom why will with would you your yours
		yourself yourselves tell explain describe please much many does also may might must shall`) {
		m[w] = true
	}
	return m
}()

// words splits text into lowercased runs of letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// terms returns the stemmed content words of text.
func terms(text string) []string {
	var out []string
	for _, w := range words(text) {
		if stopWords[w] || (len(w) < 2 && !unicode.IsDigit(rune(w[0]))) {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// stem strips common English inflections so that "engines", "engine" and
// "engined" meet. It is deliberately light: plural and verb endings only,
// keeping at least three letters; words of three letters stay as they are.
func stem(w string) string {
	n := utf8.RuneCountInString(w)
	if n <= 3 {
		return w
	}
	type rule struct{ suffix, repl string }
	for _, r := range []rule{
		{"sses", "ss"}, {"ies", "y"}, {"ied", "y"}, {"ing", ""}, {"ed", ""}, {"es", ""}, {"s", ""},
	} {
		if !strings.HasSuffix(w, r.suffix) {
			continue
		}
		if r.suffix == "s" && (strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "us") || strings.HasSuffix(w, "is")) {
			return w
		}
		if r.suffix == "es" {
			esPlural := strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") ||
				strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "zes") || strings.HasSuffix(w, "oes")
			if !esPlural {
				continue // "engines" → "engine" via the "s" rule
			}
		}
		base := w[:len(w)-len(r.suffix)] + r.repl
		if utf8.RuneCountInString(base) < 3 {
			return w
		}
		// "running" → "runn" → "run": undo a doubled final consonant.
		if (r.suffix == "ing" || r.suffix == "ed") && len(base) >= 4 && base[len(base)-1] == base[len(base)-2] &&
			!strings.ContainsRune("aeiouls", rune(base[len(base)-1])) {
			base = base[:len(base)-1]
		}
		return trimE(base)
	}
	return trimE(w)
}

// trimE drops a final silent "e" from words of four letters or more
// ("engine" and "engines" both become "engin").
func trimE(w string) string {
	if len(w) >= 4 && strings.HasSuffix(w, "e") {
		return w[:len(w)-1]
	}
	return w
}

// splitSentences cuts text at sentence ends (., ! or ? followed by space
// and a non-lowercase letter) and at line breaks. Common abbreviations and
// decimals do not end a sentence. Text without any capital letter (some
// corpora are lowercased) and tokenised text with a space before the full
// stop ("ends here . next") are cut at every sentence mark.
func splitSentences(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	caseless := strings.IndexFunc(text, unicode.IsUpper) < 0
	var out []string
	// Hard-wrapped text (`go doc` output, e-mail, plain-text docs) runs
	// sentences across line breaks: a break is joined when the next line
	// continues in lower case, or the line before is long and does not end
	// a sentence. Other breaks (lists, headings, short lines) separate.
	lines := strings.Split(text, "\n")
	cur := ""
	flush := func() {
		out = append(out, splitLine(cur, caseless)...)
		cur = ""
	}
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" {
			flush()
			continue
		}
		if cur != "" && continues(cur, t) {
			cur += " " + t
			continue
		}
		flush()
		cur = t
	}
	flush()
	return out
}

// continues reports whether line next carries on the sentence of prev.
func continues(prev, next string) bool {
	r, _ := utf8.DecodeRuneInString(next)
	if unicode.IsLower(r) {
		return true
	}
	last, _ := utf8.DecodeLastRuneInString(prev)
	return len(prev) >= 50 && !strings.ContainsRune(".!?:;", last)
}

func splitLine(line string, caseless bool) []string {
	var out []string
	rs := []rune(line)
	start := 0
	for i := 0; i < len(rs); i++ {
		if rs[i] != '.' && rs[i] != '!' && rs[i] != '?' {
			continue
		}
		j := i + 1
		for j < len(rs) && (rs[j] == '"' || rs[j] == '\'' || rs[j] == ')' || rs[j] == '”' || rs[j] == '’') {
			j++
		}
		if j < len(rs) && !unicode.IsSpace(rs[j]) {
			continue // 3.5, e.g, file.txt
		}
		spaced := i > 0 && unicode.IsSpace(rs[i-1])
		k := j
		for k < len(rs) && unicode.IsSpace(rs[k]) {
			k++
		}
		if k < len(rs) && unicode.IsLower(rs[k]) && !caseless && !spaced {
			continue
		}
		if rs[i] == '.' && !spaced && isAbbreviation(lastWord(rs[start:i])) {
			continue
		}
		if s := strings.TrimSpace(string(rs[start:j])); s != "" && strings.IndexFunc(s, isWordRune) >= 0 {
			out = append(out, s)
		}
		start = j
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" && strings.IndexFunc(s, isWordRune) >= 0 {
		out = append(out, s)
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "etc": true, "e.g": true, "i.e": true, "fig": true, "no": true, "vol": true, "approx": true, "al": true,
}

// lastWord returns the run of non-space runes that ends rs.
func lastWord(rs []rune) string {
	k := len(rs)
	for k > 0 && !unicode.IsSpace(rs[k-1]) {
		k--
	}
	return string(rs[k:])
}

// isAbbreviation reports whether the word before a period is a known
// abbreviation or a single capital initial.
func isAbbreviation(word string) bool {
	if word == "" {
		return false
	}
	if abbreviations[strings.ToLower(strings.TrimLeft(word, "(\"'"))] {
		return true
	}
	r, size := utf8.DecodeRuneInString(word)
	return size == len(word) && unicode.IsUpper(r)
}
