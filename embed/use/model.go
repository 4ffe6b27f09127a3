package use

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ragd/ragd/embed"
)

// ModelID is the Info().ID of USE lite.
const ModelID = "use-lite"

// Options configures a Model. The zero value is ready to use.
type Options struct {
	// Threads is how many goroutines an Embed call uses: all of them on
	// one forward pass for a call of up to BatchTokens tokens, otherwise
	// one per batch. 0 means runtime.GOMAXPROCS(0).
	Threads int
	// BatchTokens caps the tokens of one forward pass. An Embed call with
	// at most this many tokens runs as one pass spread over all threads;
	// a larger one is cut into consecutive batches of about this many
	// tokens (fewer when that keeps all threads busy), one thread each.
	// 0 means 2048.
	BatchTokens int
}

const defaultBatchTokens = 2048

// minParallelTokens is the fewest tokens an Embed call spreads over several
// goroutines. A lone short text (~13 tokens) costs 20-25% more CPU when
// split across two (BenchmarkModelBatchSize/1: 290-320 vs 375 texts per
// CPU-second), and on a busy server every core is taken anyway.
const minParallelTokens = 64

func (o Options) withDefaults() Options {
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.BatchTokens <= 0 {
		o.BatchTokens = defaultBatchTokens
	}
	return o
}

// Model is USE lite: a tokenizer and the encoder network. It implements
// embed.Embedder and is safe for concurrent use.
type Model struct {
	tok  *Tokenizer
	enc  *encoder
	opts Options
	ws   sync.Pool // *workspace
}

var _ embed.Embedder = (*Model)(nil)

func newModel(tok *Tokenizer, enc *encoder, opts Options) *Model {
	m := &Model{tok: tok, enc: enc, opts: opts.withDefaults()}
	m.ws.New = func() any { return new(workspace) }
	return m
}

// Info describes the model: 512-dimensional unit vectors; input beyond
// the first 128 tokens is ignored; no query or passage prefixes.
func (m *Model) Info() embed.Info {
	return embed.Info{ID: ModelID, Dims: m.enc.dModel, MaxTokens: m.enc.maxLen, Normalized: true}
}

// Tokenizer returns the model's tokenizer, e.g. to count tokens when
// chunking.
func (m *Model) Tokenizer() *Tokenizer { return m.tok }

// Embed returns one unit vector per text, in order. kind makes no
// difference to this model. Each text is tokenized whole and its first
// MaxTokens tokens are embedded. The empty string (no tokens) gets the
// model's output for zero tokens, a fixed vector; invalid UTF-8 is read as
// U+FFFD. Embed checks ctx between batches.
func (m *Model) Embed(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	ids := make([][]int, len(texts))
	threads := m.opts.Threads

	// Tokenize in parallel, in contiguous slices of the input.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(threads)
	per := (len(texts) + threads - 1) / threads
	for lo := 0; lo < len(texts); lo += per {
		hi := min(lo+per, len(texts))
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				if i%64 == 0 {
					if err := gctx.Err(); err != nil {
						return err
					}
				}
				t := m.tok.encode(texts[i], m.enc.maxLen)
				ids[i] = t[:min(len(t), m.enc.maxLen)]
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// One backing array for all vectors.
	d := m.enc.dModel
	flat := make([]float32, len(texts)*d)
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
	}

	total := 0
	for _, t := range ids {
		total += len(t)
	}
	if total <= m.opts.BatchTokens {
		// One forward pass spread over all threads: each weight matrix is
		// read once for the whole call, which is what makes a batch of
		// short texts cheaper per text than one text alone.
		// Below minParallelTokens the goroutines' hand-offs cost more than
		// they save: one thread does the pass.
		par := threads
		if total < minParallelTokens {
			par = 1
		}
		ws := m.ws.Get().(*workspace)
		m.enc.forward(ws, ids, out, par)
		m.ws.Put(ws)
		return out, nil
	}

	// Cut into batches of consecutive texts and run them in parallel.
	target := min(m.opts.BatchTokens, max((total+threads-1)/threads, 1))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(threads)
	for lo, batch := 0, 0; lo < len(texts); batch++ {
		hi, n := lo, 0
		for hi < len(texts) && (hi == lo || n+len(ids[hi]) <= target) {
			n += len(ids[hi])
			hi++
		}
		seqs, dst, b := ids[lo:hi], out[lo:hi], batch
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return fmt.Errorf("use: embed batch %d: %w", b, err)
			}
			ws := m.ws.Get().(*workspace)
			m.enc.forward(ws, seqs, dst, 1)
			m.ws.Put(ws)
			return nil
		})
		lo = hi
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// CountTokens counts the SentencePiece tokens of text, so a chunker can cut
// passages to fit the model's input (Info().MaxTokens).
func (m *Model) CountTokens(text string) int { return m.tok.Count(text) }
