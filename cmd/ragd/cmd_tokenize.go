package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragd/ragd/embed/wordpiece"
)

func init() {
	register(&command{name: "tokenize", summary: "WordPiece-tokenize text with a BERT-family tokenizer", run: runTokenize})
}

func runTokenize(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tokenize", "tokenize (--model NAME | --tokenizer FILE) [--pair TEXT2] [--max-length N] [--json] TEXT")
	file := fs.String("tokenizer", "", "tokenizer.json or vocab.txt")
	pair := fs.String("pair", "", "second text (pair encoding, as cross-encoders use)")
	maxLen := fs.Int("max-length", 0, "truncate to N tokens (0 = the tokenizer's limit)")
	asJSON := fs.Bool("json", false, `print {"ids":[...],"tokens":[...]}`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	text := strings.Join(pos, " ")
	path := *file
	if path == "" {
		if noModel(e.cfg.Model) || e.cfg.Model == "use-lite" {
			return usageErr("tokenize needs --tokenizer FILE or --model NAME of an installed BERT-family model")
		}
		dir, err := newModelPool(e.cfg, newLogger(e.cfg, e.stderr)).ModelDir(e.cfg.Model)
		if err != nil {
			return err
		}
		path = filepath.Join(dir, "tokenizer.json")
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(dir, "vocab.txt")
		}
	}
	var tok *wordpiece.Tokenizer
	if strings.HasSuffix(path, ".txt") {
		tok, err = wordpiece.LoadVocabTxt(path, wordpiece.DefaultOptions())
	} else {
		tok, err = wordpiece.LoadTokenizerJSON(path)
	}
	if err != nil {
		return err
	}
	var enc wordpiece.Encoding
	if *pair != "" {
		enc = tok.EncodePair(text, *pair, *maxLen)
	} else {
		enc = tok.Encode(text, *maxLen)
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"ids": enc.IDs, "tokens": enc.Tokens, "type_ids": enc.TypeIDs, "truncated": enc.Truncated})
	}
	for i, id := range enc.IDs {
		fmt.Fprintf(e.stdout, "%6d  %s\n", id, enc.Tokens[i])
	}
	return nil
}
