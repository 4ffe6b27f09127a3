package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
	"github.com/ragd/ragd/rag"
)

func init() {
	register(&command{name: "ask", summary: "answer a question from an index, with citations (streamed)", run: runAsk})
	register(&command{name: "generate", summary: "raw text generation with a local GGUF model", run: runGenerate})
}

func runAsk(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "ask", "ask --index NAME [--top-k N] [--mode M] [--json] QUESTION")
	name := fs.String("index", "default", "index name")
	topK := fs.Int("top-k", 5, "passages to retrieve")
	mode := fs.String("mode", "", "retrieval mode: bm25, vector or hybrid (default: hybrid when the index has a model)")
	maxTokens := fs.Int("max-tokens", 0, "answer length limit in tokens (0 = generator default)")
	temperature := fs.Float64("temperature", 0, "sampling temperature (0 = greedy)")
	asJSON := fs.Bool("json", false, `print {"answer","citations":[...],"hits":[...],"generator"}`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	question := strings.TrimSpace(strings.Join(pos, " "))
	if question == "" {
		return usageErr("no question given; try: ragd ask --index docs \"how do I ...?\"")
	}
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	gen, err := a.generator(ctx)
	if err != nil {
		return err
	}
	opts := generate.AnswerOptions{MaxTokens: *maxTokens, Temperature: *temperature}
	var emit func(rag.Event) error
	if !*asJSON {
		emit = func(ev rag.Event) error {
			if ev.Type == rag.EventToken {
				_, err := fmt.Fprint(e.stdout, ev.Delta)
				return err
			}
			return nil
		}
	}
	res, err := a.service(gen).Ask(ctx, *name, rag.AskRequest{Query: data.Query{Text: question, TopK: *topK, Mode: data.Mode(*mode)}, Answer: opts}, emit)
	if err != nil {
		return err
	}
	ans, hits := res.Answer, res.Hits
	if *asJSON {
		type cite struct {
			N       int    `json:"n"`
			DocID   string `json:"doc_id"`
			ChunkID string `json:"chunk_id"`
			Source  string `json:"source"`
		}
		cites := make([]cite, len(ans.Citations))
		for i, c := range ans.Citations {
			cites[i] = cite{N: c.N, DocID: c.DocID, ChunkID: c.ChunkID, Source: c.Source}
		}
		return json.NewEncoder(e.stdout).Encode(map[string]any{"answer": ans.Text, "citations": cites,
			"hits": toHitJSON(hits), "generator": ans.Generator, "usage": ans.Usage, "finish_reason": ans.FinishReason})
	}
	fmt.Fprintln(e.stdout)
	if len(ans.Citations) > 0 {
		fmt.Fprintln(e.stdout, "\nSources:")
		for _, c := range ans.Citations {
			fmt.Fprintf(e.stdout, "  [%d] %s (%s, bytes %d-%d)\n", c.N, c.Source, c.ChunkID, c.Start, c.End)
		}
	}
	if len(ans.Dropped) > 0 {
		fmt.Fprintf(e.stdout, "(%d passages did not fit the context and were left out)\n", len(ans.Dropped))
	}
	return nil
}

func runGenerate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "generate", "generate --model GGUF [--seed N] [--temperature F] [--max-tokens N] [--json-schema FILE] [--json] PROMPT")
	model := fs.String("gguf", "", "GGUF model file (default: --generator when it is a .gguf path)")
	seed := fs.Uint("seed", 0, "sampling seed (with --temperature > 0)")
	temperature := fs.Float64("temperature", 0, "sampling temperature (0 = greedy)")
	maxTokens := fs.Int("max-tokens", 64, "tokens to generate")
	topK := fs.Int("top-k", 40, "top-k sampling")
	topP := fs.Float64("top-p", 0.95, "top-p sampling")
	var stop multiFlag
	fs.Var(&stop, "stop", "stop sequence (repeatable)")
	asJSON := fs.Bool("json", false, `print {"prompt_token_ids":[...],"text","completion_tokens"}`)
	schemaFile := fs.String("json-schema", "", "constrain the output to one JSON document valid under the JSON schema in FILE "+
		"(without --max-tokens it may use the whole context)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	format, err := readSchemaFlag(*schemaFile)
	if err != nil {
		return err
	}
	if format != nil && !flagSet(fs, "max-tokens") {
		*maxTokens = 0 // the model's limit: the whole context
	}
	path := *model
	if path == "" {
		path = e.cfg.Generator
	}
	// --model is the embedding model flag of every command; accept a GGUF
	// path there too, as in `ragd generate --model tiny.gguf`.
	if strings.HasSuffix(strings.ToLower(e.cfg.Model), ".gguf") {
		path = e.cfg.Model
	}
	if !strings.HasSuffix(strings.ToLower(path), ".gguf") {
		return usageErr("generate needs a GGUF model: --model FILE.gguf")
	}
	prompt := strings.Join(pos, " ")
	if prompt == "" {
		return usageErr("no prompt given")
	}
	a := &app{cfg: e.cfg, log: newLogger(e.cfg, e.stderr)}
	m, err := a.loadLlama(ctx, path)
	if err != nil {
		return err
	}
	defer m.Close()
	ids, err := m.Tokenize(prompt, true)
	if err != nil {
		return err
	}
	req := generate.Request{Prompt: prompt, MaxTokens: *maxTokens, Temperature: *temperature, TopK: *topK, TopP: *topP, Stop: stop,
		ResponseFormat: format}
	if *seed != 0 || *temperature > 0 {
		s := uint32(*seed)
		req.Seed = &s
	}
	var text strings.Builder
	var usage generate.Usage
	err = m.Generate(ctx, req, func(ev generate.Event) error {
		if ev.Type == generate.EventToken {
			text.WriteString(ev.Delta)
			if !*asJSON {
				fmt.Fprint(e.stdout, ev.Delta)
			}
		}
		if ev.Usage != nil {
			usage = *ev.Usage
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"prompt_token_ids": ids, "text": text.String(), "completion_tokens": usage.CompletionTokens})
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// readSchemaFlag reads --json-schema FILE into a json_schema response
// format (nil when no file is given).
func readSchemaFlag(path string) (*openaiwire.ResponseFormat, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("--json-schema: %v", err)
	}
	if !json.Valid(b) {
		return nil, usageErr("--json-schema: %s is not JSON", path)
	}
	f := &openaiwire.ResponseFormat{Type: openaiwire.FormatJSONSchema,
		JSONSchema: &openaiwire.JSONSchema{Name: "schema", Schema: json.RawMessage(b)}}
	if err := f.Validate(); err != nil {
		return nil, usageErr("--json-schema %s: %v", path, err)
	}
	return f, nil
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
