package wordpiece

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestNormalization(t *testing.T) {
	tk := loadMiniLM(t)
	cases := []struct {
		name string
		text string
		want []string
		same string // when set: tokens equal those of this text
	}{
		{"lowercase", "Hello WORLD", []string{"hello", "world"}, ""},
		{"accents stripped", "Crème Brûlée", nil, "creme brulee"},
		{"punctuation split", "don't stop!", []string{"don", "'", "t", "stop", "!"}, ""},
		{"ascii symbols are punctuation", "a$b^c`d", []string{"a", "$", "b", "^", "c", "`", "d"}, ""},
		{"unicode punctuation", "a\u2014b\u00bfc", []string{"a", "\u2014", "b", "\u00bf", "c"}, ""},
		{"cjk split", "\u6211\u60f3ab", nil, "\u6211 \u60f3 ab"},
		{"cjk extension split", "a\U0002B920b", []string{"a", "[UNK]", "b"}, ""},
		{"reference range gap is not split", "a\U0002B820b", []string{"[UNK]"}, ""},
		{"control chars dropped", "he\x00l\u200blo\ufffd", []string{"hello"}, ""},
		{"whitespace kinds", "a\tb\nc\u00a0d\u3000e", []string{"a", "b", "c", "d", "e"}, ""},
		{"subwords", "unaffable", []string{"una", "##ffa", "##ble"}, ""},
		{"dotted capital i", "\u0130stanbul", []string{"istanbul"}, ""},
		{"word of 100 chars", strings.Repeat("a", 100), nil, ""},
		{"word of 101 chars is unknown", strings.Repeat("a", 101), []string{"[UNK]"}, ""},
		{"unknown symbol", "x \U0001F999 y", []string{"x", "[UNK]", "y"}, ""},
		{"word with unknown part is unknown", "x\U0001F999y", []string{"[UNK]"}, ""},
		{"special token kept whole", "a [SEP] b", []string{"a", "[SEP]", "b"}, ""},
		{"empty", "", []string{}, ""},
		{"only spaces", " \t\n ", []string{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			toks, ids := tk.Tokenize(c.text)
			if len(toks) != len(ids) {
				t.Fatalf("%d tokens, %d ids", len(toks), len(ids))
			}
			for i, tok := range toks {
				if id, _ := tk.TokenID(tok); id != ids[i] {
					t.Errorf("token %q has id %d, TokenID says %d", tok, ids[i], id)
				}
			}
			if c.same != "" {
				if want, _ := tk.Tokenize(c.same); !slices.Equal(toks, want) {
					t.Errorf("tokens %q, want %q", toks, want)
				}
				return
			}
			if c.want == nil { // a long word: it splits into pieces, none unknown
				if len(toks) == 0 || slices.Contains(toks, "[UNK]") {
					t.Errorf("tokens %q", toks)
				}
				return
			}
			if !slices.Equal(toks, c.want) {
				t.Errorf("tokens %q, want %q", toks, c.want)
			}
		})
	}
}

func TestEncodePair(t *testing.T) {
	tk := loadMiniLM(t)
	e := tk.EncodePair("what is go", "go is a language", -1)
	wantToks := []string{"[CLS]", "what", "is", "go", "[SEP]", "go", "is", "a", "language", "[SEP]"}
	if !slices.Equal(e.Tokens, wantToks) {
		t.Fatalf("tokens %q", e.Tokens)
	}
	if want := []int32{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}; !slices.Equal(e.TypeIDs, want) {
		t.Errorf("type ids %v", e.TypeIDs)
	}
	if len(e.IDs) != len(e.AttentionMask) || e.Truncated {
		t.Errorf("mask %v truncated %v", e.AttentionMask, e.Truncated)
	}

	a := strings.Repeat("x ", 10) // 10 tokens
	b := strings.Repeat("y ", 30) // 30 tokens
	cases := []struct {
		maxLen       int
		wantA, wantB int
	}{
		{100, 10, 30},
		{43, 10, 30},
		{33, 10, 20}, // the shorter fits in half: the longer is cut
		{23, 10, 10},
		{21, 9, 9}, // both cut to half the budget of 18
		{22, 9, 10},
		{3, 0, 0},
		{1, 0, 0}, // raised to fit the special tokens
	}
	for _, c := range cases {
		e := tk.EncodePair(a, b, c.maxLen)
		var na, nb int
		for i, tok := range e.Tokens {
			switch {
			case tok == "x" && e.TypeIDs[i] == 0:
				na++
			case tok == "y" && e.TypeIDs[i] == 1:
				nb++
			}
		}
		if na != c.wantA || nb != c.wantB {
			t.Errorf("maxLen %d: a %d b %d, want %d %d", c.maxLen, na, nb, c.wantA, c.wantB)
		}
		if e.Truncated != (c.wantA+c.wantB < 40) {
			t.Errorf("maxLen %d: Truncated %v", c.maxLen, e.Truncated)
		}
		// Swapping the pair swaps which side keeps the odd token.
		s := tk.EncodePair(b, a, c.maxLen)
		if s.Len() != e.Len() {
			t.Errorf("maxLen %d: swapped length %d vs %d", c.maxLen, s.Len(), e.Len())
		}
	}
}

func TestEncodeTruncation(t *testing.T) {
	tk := loadMiniLM(t)
	text := strings.Repeat("word ", 300)
	cases := []struct {
		maxLen, want int
		truncated    bool
	}{
		{0, 128, true}, // the tokenizer file's truncation max_length
		{-1, 302, false},
		{10, 10, true},
		{302, 302, false},
		{1, 2, true},
	}
	for _, c := range cases {
		e := tk.Encode(text, c.maxLen)
		if e.Len() != c.want || e.Truncated != c.truncated {
			t.Errorf("maxLen %d: len %d truncated %v, want %d %v", c.maxLen, e.Len(), e.Truncated, c.want, c.truncated)
		}
		if e.Tokens[0] != "[CLS]" || e.Tokens[e.Len()-1] != "[SEP]" {
			t.Errorf("maxLen %d: ends %q %q", c.maxLen, e.Tokens[0], e.Tokens[e.Len()-1])
		}
	}
	if tk.MaxLength() != 128 || tk.VocabSize() != 30522 || tk.PadID() != 0 {
		t.Errorf("MaxLength %d VocabSize %d PadID %d", tk.MaxLength(), tk.VocabSize(), tk.PadID())
	}
}

func writeVocab(t *testing.T, toks ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vocab.txt")
	if err := os.WriteFile(p, []byte(strings.Join(toks, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadVocabTxt(t *testing.T) {
	path := writeVocab(t, "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Cafe", "cafe", "café", "##s", "!", "x")
	cased := DefaultOptions()
	cased.Lowercase, cased.StripAccents = false, false
	noStrip := DefaultOptions()
	noStrip.StripAccents = false
	cases := []struct {
		name string
		opts Options
		text string
		want []int32
	}{
		{"uncased", DefaultOptions(), "Cafés!", []int32{2, 6, 8, 9, 3}},
		{"cased", cased, "Cafes!", []int32{2, 5, 8, 9, 3}},
		{"cased keeps accents", cased, "café", []int32{2, 7, 3}},
		{"lowercase without strip", noStrip, "CAFÉ", []int32{2, 7, 3}},
		{"zero options take defaults for names", Options{Lowercase: true}, "cafe x", []int32{2, 6, 10, 3}},
		{"unknown word", DefaultOptions(), "tea", []int32{2, 1, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk, err := LoadVocabTxt(path, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := tk.Encode(c.text, 0).IDs; !slices.Equal(got, c.want) {
				t.Errorf("ids %v, want %v", got, c.want)
			}
		})
	}
	tk, err := LoadVocabTxt(path, Options{MaxLength: 4})
	if err != nil {
		t.Fatal(err)
	}
	if e := tk.Encode("x x x x", 0); e.Len() != 4 || !e.Truncated {
		t.Errorf("MaxLength option: %v", e.Tokens)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const bert = `"pre_tokenizer":{"type":"BertPreTokenizer"}`
	cases := []struct {
		name string
		load func() error
	}{
		{"missing json", func() error { _, err := LoadTokenizerJSON(filepath.Join(dir, "nope.json")); return err }},
		{"missing vocab", func() error { _, err := LoadVocabTxt(filepath.Join(dir, "nope.txt"), DefaultOptions()); return err }},
		{"bad json", func() error { _, err := LoadTokenizerJSON(write("a.json", "{")); return err }},
		{"bpe model", func() error {
			_, err := LoadTokenizerJSON(write("b.json", `{`+bert+`,"model":{"type":"BPE","vocab":{"a":0}}}`))
			return err
		}},
		{"unk missing", func() error {
			_, err := LoadTokenizerJSON(write("c.json", `{`+bert+`,"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"a":0}}}`))
			return err
		}},
		{"empty vocab", func() error {
			_, err := LoadTokenizerJSON(write("d.json", `{`+bert+`,"model":{"type":"WordPiece","vocab":{}}}`))
			return err
		}},
		{"unsupported normalizer", func() error {
			_, err := LoadTokenizerJSON(write("e.json", `{"normalizer":{"type":"Precompiled"},`+bert+`,"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`))
			return err
		}},
		{"unsupported pre-tokenizer", func() error {
			_, err := LoadTokenizerJSON(write("f.json", `{"pre_tokenizer":{"type":"Metaspace"},"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`))
			return err
		}},
		{"template token undefined", func() error {
			_, err := LoadTokenizerJSON(write("g.json", `{`+bert+`,"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}}],"special_tokens":{}},"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`))
			return err
		}},
		{"vocab without cls", func() error { _, err := LoadVocabTxt(write("v.txt", "[UNK]\na\n"), DefaultOptions()); return err }},
		{"negative id", func() error {
			_, err := LoadTokenizerJSON(write("h.json", `{`+bert+`,"model":{"type":"WordPiece","vocab":{"[UNK]":-1}}}`))
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.load(); !errors.Is(err, ErrBadTokenizer) {
				t.Errorf("error %v, want ErrBadTokenizer", err)
			}
		})
	}
}

func TestBertProcessing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.json")
	body := `{"normalizer":{"type":"BertNormalizer","lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},
	"post_processor":{"type":"BertProcessing","cls":["[CLS]",1],"sep":["[SEP]",2]},
	"model":{"vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"go":3,"##pher":4},"continuing_subword_prefix":"##"}}`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := LoadTokenizerJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	e := tk.EncodePair("Gopher", "go", 0)
	if want := []int32{1, 3, 4, 2, 3, 2}; !slices.Equal(e.IDs, want) {
		t.Errorf("ids %v, want %v", e.IDs, want)
	}
	if want := []int32{0, 0, 0, 0, 1, 1}; !slices.Equal(e.TypeIDs, want) {
		t.Errorf("type ids %v, want %v", e.TypeIDs, want)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tk := loadMiniLM(t)
	texts := []string{"The quick brown fox.", "Crème brûlée, s'il vous plaît!", "我想在apple工作", strings.Repeat("tokenization ", 50)}
	want := make([][]int32, len(texts))
	for i, s := range texts {
		want[i] = tk.Encode(s, 0).IDs
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 50 {
				i := (g + k) % len(texts)
				if got := tk.Encode(texts[i], 0).IDs; !slices.Equal(got, want[i]) {
					errs <- texts[i]
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%q) differed", s)
	}
}
