package wordpiece

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer holds the BertNormalizer switches.
type normalizer struct {
	clean, cjk, strip, lower bool
}

// addedToken is a token matched verbatim in the raw input.
type addedToken struct {
	content string
	id      int32
}

// ASCII character classes for the fast path.
const (
	clsDrop  = iota // control characters removed by clean text
	clsSpace        // whitespace: ends a word
	clsPunct        // punctuation: a word of its own
	clsWord         // part of a word
)

var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c == '\t' || c == '\n' || c == '\r' || c == ' ':
			asciiClass[c] = clsSpace
		case c < 0x20 || c == 0x7f:
			asciiClass[c] = clsDrop
		case isASCIIPunct(rune(c)):
			asciiClass[c] = clsPunct
		default:
			asciiClass[c] = clsWord
		}
	}
}

// isASCIIPunct reports the ASCII symbol ranges that BERT treats as
// punctuation even though Unicode files some of them as symbols.
func isASCIIPunct(r rune) bool {
	return (r >= 33 && r <= 47) || (r >= 58 && r <= 64) ||
		(r >= 91 && r <= 96) || (r >= 123 && r <= 126)
}

func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIPunct(r)
	}
	return unicode.IsPunct(r)
}

// isSpace is the Unicode White_Space property (tab, newline and carriage
// return included).
func isSpace(r rune) bool { return unicode.IsSpace(r) }

// assigned lists every general category, so a rune in none of them is
// unassigned (Cn).
var assigned = []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C}

// isControl: Cc, Cf, Co, Cs and unassigned code points, except tab,
// newline and carriage return, which count as whitespace.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	return !unicode.IsOneOf(assigned, r)
}

// isCJK reports CJK Unified Ideographs (and extensions) and compatibility
// ideographs: the ranges BERT splits into single-character words. Like the
// Hugging Face implementation, it starts the fifth range at U+2B920, so
// U+2B820..U+2B91F stay inside words.
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// appendIDs tokenizes text (no special tokens added) and appends the ids.
// Added tokens found verbatim in the text are kept whole: the leftmost
// match wins, the longest at equal positions.
func (t *Tokenizer) appendIDs(ids []int32, text string) []int32 {
	s := splitter{t: t, ids: ids}
	if len(t.added) == 0 {
		s.run(text)
		return s.ids
	}
	// next[i] caches the absolute position of added token i at or after
	// the cursor (-1: none left), so each token's scan only moves forward
	// and the whole split stays linear.
	next := make([]int, len(t.added))
	for i := range next {
		next[i] = -2 // not searched yet
	}
	cur := 0
	for cur < len(text) {
		best := -1
		for i, a := range t.added {
			if next[i] == -1 {
				continue
			}
			if next[i] < cur {
				at := strings.Index(text[cur:], a.content)
				if at < 0 {
					next[i] = -1
					continue
				}
				next[i] = cur + at
			}
			if best < 0 || next[i] < next[best] ||
				(next[i] == next[best] && len(a.content) > len(t.added[best].content)) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		s.run(text[cur:next[best]])
		s.ids = append(s.ids, t.added[best].id)
		cur = next[best] + len(t.added[best].content)
	}
	s.run(text[cur:])
	return s.ids
}

// splitter runs normalisation, pre-tokenisation and WordPiece in one pass
// over the input, collecting the normalised bytes of the current word.
type splitter struct {
	t     *Tokenizer
	ids   []int32
	word  []byte
	chars int
	dec   []byte
	tbl   []runeEntry
	// collect and broke serve table building (see tableFor).
	collect, broke bool
}

func (s *splitter) run(text string) {
	n := s.t.norm
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch asciiClass[c] {
			case clsDrop:
				if !n.clean {
					s.add(rune(c))
				}
			case clsSpace:
				s.flush()
			case clsPunct:
				s.flush()
				s.word = append(s.word, c)
				s.chars = 1
				s.flush()
			default:
				if n.lower && c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				s.word = append(s.word, c)
				s.chars++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r == utf8.RuneError && size == 1 && n.clean {
			// Invalid UTF-8 reads as U+FFFD, which clean text drops.
			continue
		}
		if r < tableEnd {
			if s.tbl == nil {
				s.tbl = tableFor(n)
			}
			e := &s.tbl[r-utf8.RuneSelf]
			switch {
			case e.drop:
			case e.plain:
				s.word = append(s.word, e.norm...)
				s.chars += int(e.n)
			default:
				for _, x := range e.norm {
					s.add(x)
				}
			}
			continue
		}
		if n.cjk && isCJK(r) {
			s.flush()
			if r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 {
				s.normalized(r) // compatibility ideographs decompose
			} else {
				s.word = utf8.AppendRune(s.word, r)
				s.chars = 1
			}
			s.flush()
			continue
		}
		if n.clean && (r == 0xFFFD || isControl(r)) {
			continue
		}
		s.normalized(r)
	}
	s.flush()
}

// tableEnd bounds the precomputed normalisation table: Latin, Greek,
// Cyrillic and the other alphabets below the CJK blocks.
const tableEnd = 0x3000

// runeEntry is the precomputed normalisation of one rune.
type runeEntry struct {
	norm  string // the rune after accent stripping and lowercasing
	n     uint8  // runes in norm
	drop  bool   // removed by clean text
	plain bool   // norm holds only word characters
}

var tables [16]struct {
	once sync.Once
	t    []runeEntry
}

// tableFor returns the shared normalisation table of a normalizer,
// building it on first use.
func tableFor(n normalizer) []runeEntry {
	k := 0
	for i, b := range []bool{n.clean, n.cjk, n.strip, n.lower} {
		if b {
			k |= 1 << i
		}
	}
	e := &tables[k]
	e.once.Do(func() {
		e.t = make([]runeEntry, tableEnd-utf8.RuneSelf)
		tmp := splitter{t: &Tokenizer{norm: n}}
		for r := rune(utf8.RuneSelf); r < tableEnd; r++ {
			ent := &e.t[r-utf8.RuneSelf]
			if n.clean && (r == 0xFFFD || isControl(r)) {
				ent.drop = true
				continue
			}
			tmp.word, tmp.chars = tmp.word[:0], 0
			tmp.collect = true
			tmp.normalized(r)
			ent.norm, ent.n, ent.plain = string(tmp.word), uint8(tmp.chars), !tmp.broke
			tmp.broke = false
		}
	})
	return e.t
}

// normalized strips accents from and lowercases one non-ASCII rune and
// feeds the resulting runes to add.
func (s *splitter) normalized(r rune) {
	n := s.t.norm
	if !n.strip {
		s.lowered(r)
		return
	}
	var buf [utf8.UTFMax]byte
	k := utf8.EncodeRune(buf[:], r)
	if norm.NFD.IsNormal(buf[:k]) {
		if !unicode.Is(unicode.Mn, r) {
			s.lowered(r)
		}
		return
	}
	s.dec = norm.NFD.Append(s.dec[:0], buf[:k]...)
	for j := 0; j < len(s.dec); {
		d, size := utf8.DecodeRune(s.dec[j:])
		j += size
		if !unicode.Is(unicode.Mn, d) {
			s.lowered(d)
		}
	}
}

func (s *splitter) lowered(r rune) {
	if !s.t.norm.lower {
		s.add(r)
		return
	}
	if r == 0x130 {
		// Capital I with dot above lowercases to two characters.
		s.add('i')
		s.add(0x307)
		return
	}
	s.add(unicode.ToLower(r))
}

// add classifies one normalised rune.
func (s *splitter) add(r rune) {
	if s.collect {
		// Building the table: record the runes and whether any of them
		// splits words.
		if isSpace(r) || isPunct(r) {
			s.broke = true
		}
		s.word = utf8.AppendRune(s.word, r)
		s.chars++
		return
	}
	switch {
	case isSpace(r):
		s.flush()
	case isPunct(r):
		s.flush()
		s.word = utf8.AppendRune(s.word, r)
		s.chars = 1
		s.flush()
	default:
		s.word = utf8.AppendRune(s.word, r)
		s.chars++
	}
}

// flush runs WordPiece on the current word.
func (s *splitter) flush() {
	if len(s.word) == 0 {
		return
	}
	s.ids = s.t.wordPiece(s.ids, s.word, s.chars)
	s.word = s.word[:0]
	s.chars = 0
}

// wordPiece splits one word greedily, longest match first. The whole word
// becomes the unknown token when it is too long or has no complete split.
func (t *Tokenizer) wordPiece(ids []int32, word []byte, chars int) []int32 {
	if chars > t.maxCharsPerWord {
		return append(ids, t.unkID)
	}
	mark := len(ids)
	for start := 0; start < len(word); {
		vocab, longest := t.first, t.maxFirst
		if start > 0 {
			vocab, longest = t.cont, t.maxCont
		}
		end := min(len(word), start+longest)
		found := false
		for ; end > start; end-- {
			if end < len(word) && !utf8.RuneStart(word[end]) {
				continue
			}
			if id, ok := vocab[string(word[start:end])]; ok {
				ids = append(ids, id)
				found = true
				break
			}
		}
		if !found {
			return append(ids[:mark], t.unkID)
		}
		start = end
	}
	return ids
}
