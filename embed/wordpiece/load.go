package wordpiece

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// LoadTokenizerJSON reads a Hugging Face tokenizer.json whose model is
// WordPiece.
func LoadTokenizerJSON(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTokenizer, err)
	}
	t, err := ParseTokenizerJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// LoadVocabTxt reads a BERT vocab.txt (one token per line, the line number
// is the id) and configures it with opts (see Options for defaults).
func LoadVocabTxt(path string, opts Options) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTokenizer, err)
	}
	defer f.Close()
	var toks []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		toks = append(toks, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, errorf("%s: %v", path, err)
	}
	t, err := NewFromVocab(toks, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// NewFromVocab builds a tokenizer from a vocabulary given in id order (the
// contents of a vocab.txt) and opts (see Options for defaults). A token
// that appears twice keeps its first id.
func NewFromVocab(tokens []string, opts Options) (*Tokenizer, error) {
	vocab := make(map[string]int32, len(tokens))
	for i, tok := range tokens {
		if _, dup := vocab[tok]; !dup {
			vocab[tok] = int32(i)
		}
	}
	return newFromVocab(vocab, opts)
}

// newFromVocab builds a tokenizer from a vocabulary and options: the BERT
// single and pair templates, and the special tokens matched in the input.
func newFromVocab(vocab map[string]int32, opts Options) (*Tokenizer, error) {
	o := opts.withDefaults()
	t := &Tokenizer{
		norm:            normalizer{clean: o.CleanText, cjk: o.HandleCJK, strip: o.StripAccents, lower: o.Lowercase},
		prefix:          "##",
		maxCharsPerWord: o.MaxInputCharsPerWord,
		maxLength:       o.MaxLength,
		truncateLeft:    o.TruncateLeft,
		addedIDs:        map[string]int32{},
	}
	for _, name := range []string{o.UnkToken, o.ClsToken, o.SepToken, o.PadToken, "[MASK]"} {
		if id, ok := vocab[name]; ok {
			t.addedIDs[name] = id
		}
	}
	if err := t.setVocab(vocab, o.UnkToken); err != nil {
		return nil, err
	}
	cls, okC := t.TokenID(o.ClsToken)
	sep, okS := t.TokenID(o.SepToken)
	if !okC || !okS {
		return nil, errorf("special tokens %q/%q not in vocabulary", o.ClsToken, o.SepToken)
	}
	c := piece{special: true, ids: []int32{cls}, tokens: []string{o.ClsToken}}
	s := piece{special: true, ids: []int32{sep}, tokens: []string{o.SepToken}}
	s1 := s
	s1.typeID = 1
	t.single = []piece{c, {seq: 0}, s}
	t.pair = []piece{c, {seq: 0}, s, {seq: 1, typeID: 1}, s1}
	t.padToken = o.PadToken
	t.padID, _ = t.TokenID(o.PadToken)
	return t, nil
}

// setVocab indexes the vocabulary and the added tokens in t.addedIDs.
func (t *Tokenizer) setVocab(vocab map[string]int32, unk string) error {
	if len(vocab) == 0 {
		return errorf("empty vocabulary")
	}
	t.first = make(map[string]int32, len(vocab))
	t.cont = make(map[string]int32)
	maxID := int32(-1)
	for tok, id := range vocab {
		if id < 0 {
			return errorf("negative id %d for %q", id, tok)
		}
		maxID = max(maxID, id)
		t.first[tok] = id
		t.maxFirst = max(t.maxFirst, len(tok))
		if rest, ok := strings.CutPrefix(tok, t.prefix); ok && rest != "" {
			t.cont[rest] = id
			t.maxCont = max(t.maxCont, len(rest))
		}
	}
	for _, id := range t.addedIDs {
		maxID = max(maxID, id)
	}
	if maxID >= 1<<24 {
		return errorf("token id %d too large", maxID)
	}
	t.idToToken = make([]string, maxID+1)
	for tok, id := range vocab {
		if t.idToToken[id] == "" || tok < t.idToToken[id] {
			t.idToToken[id] = tok
		}
	}
	for tok, id := range t.addedIDs {
		t.idToToken[id] = tok
	}
	t.vocabSize = int(maxID) + 1
	id, ok := t.TokenID(unk)
	if !ok {
		return errorf("unknown token %q not in vocabulary", unk)
	}
	t.unkID, t.unkToken = id, unk
	t.added = t.added[:0]
	for tok, id := range t.addedIDs {
		if tok != "" {
			t.added = append(t.added, addedToken{content: tok, id: id})
		}
	}
	slices.SortFunc(t.added, func(a, b addedToken) int { return strings.Compare(a.content, b.content) })
	return nil
}

// tokenizerFile is the subset of tokenizer.json that WordPiece uses.
type tokenizerFile struct {
	Truncation *struct {
		MaxLength int    `json:"max_length"`
		Direction string `json:"direction"`
	} `json:"truncation"`
	Padding *struct {
		PadID           int32  `json:"pad_id"`
		PadToken        string `json:"pad_token"`
		PadToMultipleOf *int   `json:"pad_to_multiple_of"`
	} `json:"padding"`
	AddedTokens []struct {
		ID      int32  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    *normalizerJSON   `json:"normalizer"`
	PreTokenizer  *preTokenizerJSON `json:"pre_tokenizer"`
	PostProcessor *postJSON         `json:"post_processor"`
	Model         struct {
		Type                    string           `json:"type"`
		UnkToken                string           `json:"unk_token"`
		ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    int              `json:"max_input_chars_per_word"`
		Vocab                   map[string]int32 `json:"vocab"`
	} `json:"model"`
}

type normalizerJSON struct {
	Type               string           `json:"type"`
	CleanText          *bool            `json:"clean_text"`
	HandleChineseChars *bool            `json:"handle_chinese_chars"`
	StripAccents       *bool            `json:"strip_accents"`
	Lowercase          *bool            `json:"lowercase"`
	Normalizers        []normalizerJSON `json:"normalizers"`
}

type preTokenizerJSON struct {
	Type          string             `json:"type"`
	PreTokenizers []preTokenizerJSON `json:"pretokenizers"`
}

type postJSON struct {
	Type          string                 `json:"type"`
	Single        []templateJSON         `json:"single"`
	Pair          []templateJSON         `json:"pair"`
	SpecialTokens map[string]specialJSON `json:"special_tokens"`
	Cls           []json.RawMessage      `json:"cls"`
	Sep           []json.RawMessage      `json:"sep"`
	Processors    []postJSON             `json:"processors"`
}

type templateJSON struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"Sequence"`
}

type specialJSON struct {
	IDs    []int32  `json:"ids"`
	Tokens []string `json:"tokens"`
}

// ParseTokenizerJSON parses the contents of a tokenizer.json.
func ParseTokenizerJSON(data []byte) (*Tokenizer, error) {
	var f tokenizerFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, errorf("parse tokenizer.json: %v", err)
	}
	m := f.Model
	if m.Type != "" && m.Type != "WordPiece" {
		return nil, fmt.Errorf("%w: model type %q is not WordPiece", ErrBadTokenizer, m.Type)
	}
	if m.Type == "" && m.ContinuingSubwordPrefix == nil {
		return nil, errorf("model is not WordPiece")
	}
	t := &Tokenizer{
		prefix:          "##",
		maxCharsPerWord: 100,
		maxLength:       512,
		addedIDs:        map[string]int32{},
		padToken:        "[PAD]",
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		t.prefix = *m.ContinuingSubwordPrefix
	}
	if m.MaxInputCharsPerWord > 0 {
		t.maxCharsPerWord = m.MaxInputCharsPerWord
	}
	if m.UnkToken == "" {
		m.UnkToken = "[UNK]"
	}
	if err := t.setNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if err := checkPreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	for _, a := range f.AddedTokens {
		if a.Content == "" || a.ID < 0 {
			return nil, errorf("added token %q with id %d", a.Content, a.ID)
		}
		t.addedIDs[a.Content] = a.ID
	}
	if err := t.setVocab(m.Vocab, m.UnkToken); err != nil {
		return nil, err
	}
	if tr := f.Truncation; tr != nil {
		if tr.MaxLength > 0 {
			t.maxLength = tr.MaxLength
		}
		t.truncateLeft = strings.EqualFold(tr.Direction, "left")
	}
	if p := f.Padding; p != nil {
		t.padID = p.PadID
		if p.PadToken != "" {
			t.padToken = p.PadToken
		}
		if p.PadToMultipleOf != nil {
			t.padMultiple = *p.PadToMultipleOf
		}
	} else if id, ok := t.TokenID("[PAD]"); ok {
		t.padID = id
	}
	if err := t.setPost(f.PostProcessor); err != nil {
		return nil, err
	}
	return t, nil
}

// setNormalizer reads a BertNormalizer, a Sequence of Lowercase / NFD /
// StripAccents, or no normalizer.
func (t *Tokenizer) setNormalizer(n *normalizerJSON) error {
	if n == nil {
		return nil
	}
	switch n.Type {
	case "BertNormalizer":
		flag := func(p *bool, def bool) bool {
			if p == nil {
				return def
			}
			return *p
		}
		t.norm.clean = flag(n.CleanText, true)
		t.norm.cjk = flag(n.HandleChineseChars, true)
		t.norm.lower = flag(n.Lowercase, true)
		// strip_accents null follows lowercase.
		t.norm.strip = flag(n.StripAccents, t.norm.lower)
	case "Sequence":
		for i := range n.Normalizers {
			if err := t.setNormalizer(&n.Normalizers[i]); err != nil {
				return err
			}
		}
	case "Lowercase":
		t.norm.lower = true
	case "StripAccents":
		t.norm.strip = true
	case "NFD":
		// Accent stripping decomposes; plain NFD alone is not supported
		// separately and is harmless before StripAccents.
	default:
		return fmt.Errorf("%w: unsupported normalizer %q", ErrBadTokenizer, n.Type)
	}
	return nil
}

func checkPreTokenizer(p *preTokenizerJSON) error {
	if p == nil {
		return errorf("missing pre_tokenizer (want BertPreTokenizer)")
	}
	switch p.Type {
	case "BertPreTokenizer":
		return nil
	case "Sequence":
		if len(p.PreTokenizers) == 1 {
			return checkPreTokenizer(&p.PreTokenizers[0])
		}
	}
	return fmt.Errorf("%w: unsupported pre_tokenizer %q", ErrBadTokenizer, p.Type)
}

// setPost builds the single and pair templates.
func (t *Tokenizer) setPost(p *postJSON) error {
	if p == nil {
		t.single = []piece{{seq: 0}}
		t.pair = []piece{{seq: 0}, {seq: 1, typeID: 1}}
		return nil
	}
	switch p.Type {
	case "TemplateProcessing":
		var err error
		if t.single, err = t.template(p.Single, p.SpecialTokens); err != nil {
			return err
		}
		if t.pair, err = t.template(p.Pair, p.SpecialTokens); err != nil {
			return err
		}
		return nil
	case "BertProcessing":
		cls, err := t.namedToken(p.Cls)
		if err != nil {
			return err
		}
		sep, err := t.namedToken(p.Sep)
		if err != nil {
			return err
		}
		sep1 := sep
		sep1.typeID = 1
		t.single = []piece{cls, {seq: 0}, sep}
		t.pair = []piece{cls, {seq: 0}, sep, {seq: 1, typeID: 1}, sep1}
		return nil
	case "Sequence":
		if len(p.Processors) == 1 {
			return t.setPost(&p.Processors[0])
		}
	}
	return fmt.Errorf("%w: unsupported post_processor %q", ErrBadTokenizer, p.Type)
}

func (t *Tokenizer) template(items []templateJSON, specials map[string]specialJSON) ([]piece, error) {
	var out []piece
	for _, it := range items {
		switch {
		case it.SpecialToken != nil:
			sp, ok := specials[it.SpecialToken.ID]
			if !ok || len(sp.IDs) == 0 || len(sp.IDs) != len(sp.Tokens) {
				return nil, errorf("template special token %q undefined", it.SpecialToken.ID)
			}
			for _, id := range sp.IDs {
				if id < 0 || int(id) >= t.vocabSize {
					return nil, errorf("template special token id %d out of range", id)
				}
			}
			out = append(out, piece{special: true, ids: sp.IDs, tokens: sp.Tokens, typeID: it.SpecialToken.TypeID})
		case it.Sequence != nil:
			seq := 0
			if it.Sequence.ID == "B" {
				seq = 1
			}
			out = append(out, piece{seq: seq, typeID: it.Sequence.TypeID})
		default:
			return nil, errorf("empty template item")
		}
	}
	return out, nil
}

// namedToken reads a BertProcessing ["[CLS]", 101] pair.
func (t *Tokenizer) namedToken(raw []json.RawMessage) (piece, error) {
	var name string
	var id int32
	if len(raw) != 2 || json.Unmarshal(raw[0], &name) != nil || json.Unmarshal(raw[1], &id) != nil {
		return piece{}, errorf("bad BertProcessing token")
	}
	if id < 0 || int(id) >= t.vocabSize {
		return piece{}, errorf("BertProcessing token id %d out of range", id)
	}
	return piece{special: true, ids: []int32{id}, tokens: []string{name}}, nil
}
