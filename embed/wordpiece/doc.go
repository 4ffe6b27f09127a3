// Package wordpiece is a pure-Go BERT WordPiece tokenizer, the tokenizer of
// the BERT/BGE/MiniLM/E5/GTE family of embedding and reranking models.
//
// It loads a Hugging Face tokenizer.json (WordPiece model, BertNormalizer,
// BertPreTokenizer, TemplateProcessing or BertProcessing post-processor,
// optional truncation) with LoadTokenizerJSON, or a plain vocab.txt with
// LoadVocabTxt and Options. Tokenization follows the reference BERT
// pipeline:
//
//  1. Added special tokens ([CLS], [SEP], ...) that appear verbatim in the
//     input are matched first and kept whole.
//  2. Clean text: NUL, U+FFFD and control/format characters are dropped and
//     every whitespace character becomes a space.
//  3. CJK ideographs become words of their own.
//  4. Accents are stripped (canonical decomposition, then non-spacing marks
//     dropped) and text is lowercased, when the model is uncased.
//  5. Words are split on whitespace and every punctuation character (Unicode
//     P* and the ASCII symbol ranges) becomes a word of its own.
//  6. Each word is split greedily, longest match first, into vocabulary
//     pieces; pieces after the first carry the "##" prefix. A word with no
//     complete split, or longer than 100 characters, becomes [UNK].
//
// Tokenization runs in time linear in the input: each word costs at most
// (longest vocabulary entry) lookups per character, and lookups do not
// allocate. A Tokenizer is immutable after loading and safe for concurrent
// use.
package wordpiece
