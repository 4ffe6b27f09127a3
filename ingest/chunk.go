package ingest

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

// Chunker defaults (see ChunkOptions).
const (
	DefaultChunkSize    = 256
	DefaultChunkOverlap = 32
)

// ChunkOptions configures Chunk. The zero value uses the defaults.
type ChunkOptions struct {
	// Size is the most tokens in a chunk (as Count measures them); only a
	// single word longer than Size makes a larger chunk. Default 256.
	Size int
	// Overlap is how many tokens at the end of one chunk the next chunk
	// repeats: whole sentences when a sentence starts in that span, else
	// whole words. 0 means the default, 32; negative means no overlap. It is
	// capped at Size/2. Chunks never overlap across a section boundary.
	Overlap int
	// Count counts the tokens of one word (a run of text without white
	// space; each CJK character is a word of its own). A chunk's size is the
	// sum over its words, which is exact for tokenizers that split on white
	// space first, as WordPiece and most BPE pre-tokenizers do. Default
	// EstimateTokens.
	Count func(string) int
}

func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.Size <= 0 {
		o.Size = DefaultChunkSize
	}
	switch {
	case o.Overlap == 0:
		o.Overlap = DefaultChunkOverlap
	case o.Overlap < 0:
		o.Overlap = 0
	}
	if o.Overlap > o.Size/2 {
		o.Overlap = o.Size / 2
	}
	if o.Count == nil {
		o.Count = EstimateTokens
	}
	return o
}

// EstimateTokens estimates how many BERT WordPiece tokens s becomes without
// a vocabulary: each run of letters, digits and combining marks counts one
// token per started 6 characters ("the" 1, "tokenization" 2,
// "electroencephalography" 4), each CJK character, punctuation mark or
// symbol counts 1, white space counts 0. It tends to over-count common
// English words a little, so chunks stay within a model's limit.
func EstimateTokens(s string) int {
	n, run := 0, 0
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			run++
			continue
		case r >= utf8.RuneSelf && isCJK(r):
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			run++
			continue
		case unicode.IsSpace(r):
			n += (run + 5) / 6
			run = 0
			continue
		}
		n += (run+5)/6 + 1
		run = 0
	}
	return n + (run+5)/6
}

// Gap strengths between two words, weakest first: where a chunk prefers to end.
const (
	gapWord = iota + 1
	gapLine
	gapSentence
	gapParagraph
)

// word is a run of text without white space (or one CJK character).
type word struct {
	start, end int
	tokens     int
	gap        int // strength of the gap after this word
}

// Chunk splits a parsed document into chunks of at most opts.Size tokens.
//
// It cuts at paragraph breaks first, then sentence ends, then line breaks,
// then between words: among the places where the chunk would hold at least
// a quarter of Size tokens (and more than Overlap), it takes the strongest
// kind, latest first. A word is never cut; a word longer than Size is a
// chunk of its own. Chunk i+1 starts with the last Overlap tokens of chunk
// i, as whole sentences when possible.
//
// Chunks do not cross Sections: each chunk takes the Headings of its
// section (the chunks of one section share that slice; do not modify it). A section with fewer than Size/4 tokens (typically a heading
// followed directly by a sub-heading) is merged into the section after it,
// whose headings the merged chunks take. Text outside every section has no
// headings.
//
// Every chunk has Text == p.Doc.Text[Start:End], starts and ends with a
// non-space character and is never empty; ids are data.ChunkID(doc id,
// ordinal). Chunk runs in time linear in the text. Invalid Sections
// (unsorted, overlapping, out of range) are repaired, never a panic.
func Chunk(p Parsed, opts ChunkOptions) []data.Chunk {
	opts = opts.withDefaults()
	text := p.Doc.Text
	words := splitWords(text, opts.Count)
	if len(words) == 0 {
		return nil
	}
	minFill := max(opts.Size/4, opts.Overlap+1)
	var out []data.Chunk
	for _, seg := range segments(text, p.Sections, words, minFill) {
		out = chunkSegment(out, p.Doc.ID, text, words[seg.from:seg.to], seg.headings, opts, minFill)
	}
	return out
}

// chunkSegment appends the chunks of one segment's words to out.
func chunkSegment(out []data.Chunk, docID, text string, ws []word, headings []string, opts ChunkOptions, minFill int) []data.Chunk {
	for a := 0; a < len(ws); {
		// The longest run of words from a that fits, at least one word.
		b, tok := a, 0
		for b < len(ws) && (b == a || tok+ws[b].tokens <= opts.Size) {
			tok += ws[b].tokens
			b++
		}
		c := b // the chunk is ws[a:c]
		if b < len(ws) {
			best, bestGap, acc := -1, 0, 0
			for j := a; j < b; j++ {
				acc += ws[j].tokens
				if acc >= minFill && ws[j].gap >= bestGap {
					best, bestGap = j, ws[j].gap
				}
			}
			if best >= 0 {
				c = best + 1
			}
		}
		start, end := ws[a].start, ws[c-1].end
		out = append(out, data.Chunk{
			ID:       data.ChunkID(docID, len(out)),
			DocID:    docID,
			Ordinal:  len(out),
			Text:     text[start:end],
			Headings: headings,
			Start:    start,
			End:      end,
		})
		if c >= len(ws) {
			break
		}
		next := c
		if opts.Overlap > 0 {
			acc, sentence := 0, -1
			for k := c - 1; k > a; k-- {
				acc += ws[k].tokens
				if acc > opts.Overlap {
					break
				}
				next = k
				if ws[k-1].gap >= gapSentence {
					sentence = k
				}
			}
			if sentence >= 0 {
				next = sentence
			}
		}
		a = next
	}
	return out
}

// splitWords finds the words of text, their token counts and the gaps
// between them.
func splitWords(text string, count func(string) int) []word {
	// About one word per 6 bytes of prose; sized up front, since growing
	// the slice by appending dominated the run time.
	ws := make([]word, 0, len(text)/6+8)
	start := -1
	prevCJK := false
	emit := func(end int) {
		if start >= 0 {
			n := min(max(count(text[start:end]), 0), 1<<30) // no overflow in sums
			ws = append(ws, word{start: start, end: end, tokens: n})
			start = -1
		}
	}
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf { // ASCII fast path
			if asciiSpace[c] {
				if start >= 0 {
					emit(i)
				}
			} else {
				if prevCJK {
					emit(i)
				}
				if start < 0 {
					start = i
				}
			}
			prevCJK = false
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case isSpaceRune(r):
			emit(i)
			prevCJK = false
		case r >= utf8.RuneSelf && isCJK(r):
			emit(i)
			start = i
			prevCJK = true
		default:
			if prevCJK && !isCJKPunct(r) {
				emit(i)
			}
			if start < 0 {
				start = i
			}
			prevCJK = false
		}
		i += n
	}
	emit(len(text))
	for k := range ws {
		if k+1 == len(ws) {
			ws[k].gap = gapParagraph
			break
		}
		ws[k].gap = gapStrength(text, ws[k], ws[k+1])
	}
	return ws
}

var asciiSpace = [utf8.RuneSelf]bool{' ': true, '\n': true, '\t': true, '\r': true, '\f': true, '\v': true}

func isSpaceRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f' || r == '\v'
	}
	return unicode.IsSpace(r)
}

// isCJK reports Han ideographs and kana, which are written without spaces.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// isCJKPunct reports CJK and full-width punctuation, which sticks to the
// character before it.
func isCJKPunct(r rune) bool {
	return (r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFF65) && !isCJK(r)
}

func gapStrength(text string, w, next word) int {
	gap := text[w.end:next.start]
	nl := strings.Count(gap, "\n")
	if nl >= 2 || strings.ContainsRune(gap, '\f') {
		return gapParagraph
	}
	if endsSentence(text[w.start:w.end], text[next.start:next.end]) {
		return gapSentence
	}
	if nl == 1 {
		return gapLine
	}
	return gapWord
}

// endsSentence reports whether w ends a sentence before next: it ends in
// . ! ? or … (closing quotes and brackets allowed after) and next does not
// start with a lower-case letter; or it ends in a CJK full stop.
func endsSentence(w, next string) bool {
	i := len(w)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(w[:i])
		if strings.ContainsRune(")]\"'”’»」』", r) {
			i -= n
			continue
		}
		switch r {
		case '。', '！', '？':
			return true
		case '.', '!', '?', '…':
			first, _ := utf8.DecodeRuneInString(next)
			return !unicode.IsLower(first)
		}
		return false
	}
	return false
}

// segment is a run of words chunked on its own.
type segment struct {
	from, to int // word indexes
	headings []string
	tokens   int
}

// segments cuts the words into runs by section: sections are repaired
// (sorted, clipped, made disjoint), gaps between them are segments without
// headings, and segments under minFill tokens merge into the next.
func segments(text string, secs []Section, ws []word, minFill int) []segment {
	if len(secs) == 0 {
		return []segment{{from: 0, to: len(ws)}}
	}
	clean := make([]Section, 0, len(secs))
	for _, s := range secs {
		s.Start = min(max(s.Start, 0), len(text))
		s.End = min(max(s.End, 0), len(text))
		if s.End > s.Start {
			clean = append(clean, s)
		}
	}
	sort.SliceStable(clean, func(i, j int) bool { return clean[i].Start < clean[j].Start })
	// Section boundaries as byte offsets, each with the headings after it.
	type mark struct {
		at       int
		headings []string
	}
	marks := []mark{{at: 0}}
	end := 0
	for _, s := range clean {
		if s.Start < end {
			s.Start = end
		}
		if s.End <= s.Start {
			continue
		}
		if s.Start > end {
			marks = append(marks, mark{at: s.Start}) // no headings before this section
		}
		h := s.Headings[:len(s.Headings):len(s.Headings)]
		if marks[len(marks)-1].at == s.Start {
			marks[len(marks)-1].headings = h
		} else {
			marks = append(marks, mark{at: s.Start, headings: h})
		}
		marks = append(marks, mark{at: s.End})
		end = s.End
	}
	// Assign words to segments by their start offset.
	var segs []segment
	wi := 0
	for m := range marks {
		limit := len(text) + 1
		if m+1 < len(marks) {
			limit = marks[m+1].at
		}
		seg := segment{from: wi, headings: marks[m].headings}
		for wi < len(ws) && ws[wi].start < limit {
			seg.tokens += ws[wi].tokens
			wi++
		}
		seg.to = wi
		if seg.to > seg.from {
			segs = append(segs, seg)
		}
	}
	// Merge small segments into the next one.
	merged := segs[:0]
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		for s.tokens < minFill && i+1 < len(segs) {
			i++
			s = segment{from: s.from, to: segs[i].to, headings: segs[i].headings, tokens: s.tokens + segs[i].tokens}
		}
		merged = append(merged, s)
	}
	return merged
}
