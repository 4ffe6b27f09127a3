package onnx

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/internal/cputime"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	// Batch is the number of texts per round (and the batch size). Default 32.
	Batch int
	// SeqLen is the token length of every text. Default 128.
	SeqLen int
	// Rounds is the number of interleaved pipeline/bare rounds. Default 3.
	Rounds int
}

// BenchResult compares the full pipeline with a bare ONNX Runtime session.
type BenchResult struct {
	Texts, SeqLen, Rounds int
	// Pipeline and Bare are the total times over all rounds.
	Pipeline, Bare time.Duration
	// PipelinePerSec and BarePerSec are sentences per second.
	PipelinePerSec, BarePerSec float64
	// Ratio is PipelinePerSec / BarePerSec.
	Ratio float64
	// Overhead is the pipeline time spent outside ONNX Runtime's Run
	// (tokenizing, batching, tensor set-up, copying, pooling) and
	// OverheadShare its fraction of Pipeline: a load-independent view of
	// the same comparison (Ratio ≈ 1 - OverheadShare on a quiet machine).
	Overhead      time.Duration
	OverheadShare float64
	// PipelineCPU and BareCPU are the process CPU time (all threads) used
	// by each side, and CPURatio is BareCPU / PipelineCPU: the comparison
	// in CPU time, which other processes disturb less than wall time.
	// Zero where the platform cannot measure it.
	PipelineCPU, BareCPU time.Duration
	CPURatio             float64
}

func (r BenchResult) String() string {
	return fmt.Sprintf("%d texts × %d tokens × %d rounds: pipeline %.1f sentences/s, bare ONNX Runtime %.1f sentences/s, ratio %.3f; pipeline time outside ONNX Runtime %v (%.2f%%); CPU time pipeline %v, bare %v, ratio %.3f",
		r.Texts, r.SeqLen, r.Rounds, r.PipelinePerSec, r.BarePerSec, r.Ratio, r.Overhead.Round(time.Microsecond), 100*r.OverheadShare,
		r.PipelineCPU.Round(time.Millisecond), r.BareCPU.Round(time.Millisecond), r.CPURatio)
}

// benchWords make up synthetic passages; all are single WordPiece tokens in
// BERT uncased vocabularies.
var benchWords = strings.Fields(`the flow of air over a wing produces lift and drag at high speed
	shock waves form near the surface when the pressure rises boundary layer heat transfer
	results show that the model agrees with experiment for each case in the range studied`)

// BenchTexts returns n deterministic passages of about words words each.
func BenchTexts(n, words int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := make([]string, n)
	for i := range texts {
		var b strings.Builder
		for j := range words {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(benchWords[rng.IntN(len(benchWords))])
		}
		texts[i] = b.String()
	}
	return texts
}

// Bench measures the embedding pipeline (tokenize, sort, batch, infer,
// pool, normalise) against bare ONNX Runtime runs of the same session on
// the same pre-tokenized input, interleaving the two so that load
// from other processes affects both alike. The model directory is loaded
// with cfg (BatchSize and MaxTokens are set from opts).
func Bench(ctx context.Context, dir string, cfg Config, opts BenchOptions) (BenchResult, error) {
	if opts.Batch <= 0 {
		opts.Batch = 32
	}
	if opts.SeqLen <= 0 {
		opts.SeqLen = 128
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 3
	}
	cfg.BatchSize, cfg.MaxTokens = opts.Batch, opts.SeqLen
	e, err := NewEmbedder(dir, cfg)
	if err != nil {
		return BenchResult{}, err
	}
	defer e.Close()
	if e.info.MaxTokens != opts.SeqLen {
		return BenchResult{}, fmt.Errorf("%w: model takes at most %d tokens, bench asked for %d", ErrConfig, e.info.MaxTokens, opts.SeqLen)
	}
	texts := BenchTexts(opts.Batch, 2*opts.SeqLen)
	encs := e.Encode(embed.Passage, texts)
	n := opts.Batch * opts.SeqLen
	ids, mask, types := make([]int64, n), make([]int64, n), make([]int64, n)
	for r, enc := range encs {
		if enc.Len() != opts.SeqLen {
			return BenchResult{}, fmt.Errorf("onnx bench: text %d has %d tokens, want %d", r, enc.Len(), opts.SeqLen)
		}
		for j := range opts.SeqLen {
			ids[r*opts.SeqLen+j] = int64(enc.IDs[j])
			mask[r*opts.SeqLen+j] = int64(enc.AttentionMask[j])
			types[r*opts.SeqLen+j] = int64(enc.TypeIDs[j])
		}
	}
	bare, err := newBareRun(e.sess, ids, mask, types, opts.Batch, opts.SeqLen)
	if err != nil {
		return BenchResult{}, err
	}
	defer bare.close()

	res := BenchResult{Texts: opts.Batch, SeqLen: opts.SeqLen, Rounds: opts.Rounds}
	var pipeCPU, bareCPU time.Duration
	pipeline := func() (time.Duration, error) {
		before := e.sess.inRun.Load()
		cpu0 := cputime.Process()
		start := time.Now()
		_, err := e.Embed(ctx, embed.Passage, texts)
		d := time.Since(start)
		cpu1 := cputime.Process()
		pipeCPU += cpu1 - cpu0
		res.Overhead += d - time.Duration(e.sess.inRun.Load()-before)
		return d, err
	}
	timeBare := func() (time.Duration, error) {
		cpu0 := cputime.Process()
		start := time.Now()
		err := bare.run()
		d := time.Since(start)
		cpu1 := cputime.Process()
		bareCPU += cpu1 - cpu0
		return d, err
	}
	// Round -1 warms both up; the order alternates so that neither side
	// always runs first.
	for round := -1; round < opts.Rounds; round++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		first, second := pipeline, timeBare
		if round%2 != 0 {
			first, second = timeBare, pipeline
		}
		d1, err := first()
		if err != nil {
			return res, err
		}
		d2, err := second()
		if err != nil {
			return res, err
		}
		if round%2 != 0 {
			d1, d2 = d2, d1
		}
		if round < 0 {
			res.Overhead, pipeCPU, bareCPU = 0, 0, 0
			continue
		}
		res.Pipeline += d1
		res.Bare += d2
	}
	total := float64(opts.Batch * opts.Rounds)
	res.PipelinePerSec = total / res.Pipeline.Seconds()
	res.BarePerSec = total / res.Bare.Seconds()
	res.Ratio = res.PipelinePerSec / res.BarePerSec
	res.OverheadShare = res.Overhead.Seconds() / res.Pipeline.Seconds()
	if pipeCPU > 0 && bareCPU > 0 {
		res.PipelineCPU, res.BareCPU = pipeCPU, bareCPU
		res.CPURatio = bareCPU.Seconds() / pipeCPU.Seconds()
	}
	return res, nil
}

// bareRun feeds pre-built input tensors straight to the embedder's own
// ONNX Runtime session (same thread pool, same optimised graph), so the
// difference from the pipeline is exactly ragd's work around inference.
type bareRun struct {
	s      *session
	inputs []ort.Value
}

func newBareRun(ref *session, ids, mask, types []int64, batch, seq int) (*bareRun, error) {
	b := &bareRun{s: ref}
	shape := ort.NewShape(int64(batch), int64(seq))
	for _, name := range ref.inputs {
		data := map[string][]int64{inIDs: ids, inMask: mask, inTypes: types}[name]
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			b.close()
			return nil, err
		}
		b.inputs = append(b.inputs, t)
	}
	return b, nil
}

func (b *bareRun) run() error {
	out := []ort.Value{nil}
	if err := b.s.s.Run(b.inputs, out); err != nil {
		return err
	}
	return out[0].Destroy()
}

func (b *bareRun) close() {
	for _, v := range b.inputs {
		_ = v.Destroy() // releasing the native value cannot fail usefully
	}
}
