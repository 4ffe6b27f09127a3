package onnx

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/wordpiece"
)

// Known model inputs, in the order they are fed.
const (
	inIDs   = "input_ids"
	inMask  = "attention_mask"
	inTypes = "token_type_ids"
)

// session is an ONNX Runtime session with the inputs it takes and the one
// output ragd reads. ONNX Runtime sessions are safe for concurrent Run.
type session struct {
	s       *ort.DynamicAdvancedSession
	path    string
	inputs  []string
	output  string
	outDims ort.Shape // declared; -1 for dynamic dims
	// inRun accumulates nanoseconds spent inside ONNX Runtime's Run.
	inRun atomic.Int64
	// mu guards closed: runs hold it shared, close exclusively.
	mu     sync.RWMutex
	closed bool
}

// openSession loads path, picking the first present name of wantOutputs,
// else the first float output of rank rank.
func openSession(path string, cfg Config, wantOutputs []string, rank int) (*session, error) {
	opts, err := sessionOptions(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { _ = opts.Destroy() }() // releasing the options cannot fail usefully
	ins, outs, err := ort.GetInputOutputInfoWithOptions(path, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: ONNX Runtime cannot load it: %w", embed.ErrBadModel, path, err)
	}
	s := &session{path: path}
	for _, in := range ins {
		switch in.Name {
		case inIDs, inMask, inTypes:
			if in.DataType != ort.TensorElementDataTypeInt64 {
				return nil, badModel("%s: input %s is %s, want int64", path, in.Name, in.DataType)
			}
		default:
			return nil, badModel("%s: unsupported model input %q (ragd feeds input_ids, attention_mask, token_type_ids)", path, in.Name)
		}
	}
	for _, name := range []string{inIDs, inMask, inTypes} {
		if slices.ContainsFunc(ins, func(i ort.InputOutputInfo) bool { return i.Name == name }) {
			s.inputs = append(s.inputs, name)
		}
	}
	if len(s.inputs) == 0 || s.inputs[0] != inIDs {
		return nil, badModel("%s: model has no input_ids input", path)
	}
	pick := -1
	for _, w := range wantOutputs {
		if i := slices.IndexFunc(outs, func(o ort.InputOutputInfo) bool { return o.Name == w }); i >= 0 {
			pick = i
			break
		}
	}
	if pick < 0 {
		pick = slices.IndexFunc(outs, func(o ort.InputOutputInfo) bool {
			return o.DataType == ort.TensorElementDataTypeFloat && len(o.Dimensions) == rank
		})
	}
	if pick < 0 {
		return nil, badModel("%s: no output named %v and no float output of rank %d", path, wantOutputs, rank)
	}
	o := outs[pick]
	if o.DataType != ort.TensorElementDataTypeFloat || len(o.Dimensions) != rank {
		return nil, badModel("%s: output %s is %s, want float32 of rank %d", path, o.Name, o.Dimensions, rank)
	}
	s.output, s.outDims = o.Name, o.Dimensions
	s.s, err = ort.NewDynamicAdvancedSession(path, s.inputs, []string{s.output}, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", embed.ErrBadModel, path, err)
	}
	return s, nil
}

// close destroys the session once; later runs fail with ErrClosed.
func (s *session) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.s.Destroy()
}

// run feeds one padded batch and passes the output data and shape to use,
// which must not keep the data: it belongs to ONNX Runtime and is freed
// when use returns.
func (s *session) run(ids, mask, types []int64, batch, seq int, use func(out []float32, shape []int64) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	shape := ort.NewShape(int64(batch), int64(seq))
	values := make([]ort.Value, 0, len(s.inputs))
	defer func() {
		for _, v := range values {
			_ = v.Destroy() // releasing the native value cannot fail usefully
		}
	}()
	for _, name := range s.inputs {
		data := ids
		switch name {
		case inMask:
			data = mask
		case inTypes:
			data = types
		}
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			return fmt.Errorf("onnx: input tensor %s: %w", name, err)
		}
		values = append(values, t)
	}
	outputs := []ort.Value{nil}
	start := time.Now()
	err := s.s.Run(values, outputs)
	s.inRun.Add(int64(time.Since(start)))
	if err != nil {
		return fmt.Errorf("onnx: run: %w", err)
	}
	out := outputs[0]
	defer func() { _ = out.Destroy() }() // releasing the native value cannot fail usefully
	t, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		return badModel("output %s is not a float32 tensor", s.output)
	}
	return use(t.GetData(), t.GetShape())
}

// batcher runs encodings through a session in length-sorted, padded
// batches.
type batcher struct {
	sess      *session
	batchSize int
	padID     int32
}

// each calls fn for every batch with the original indices of its rows, the
// output [len(idx), ...] (valid only during the call) and the padded
// attention masks of the rows.
func (b *batcher) each(ctx context.Context, encs []wordpiece.Encoding,
	fn func(idx []int, out []float32, shape []int64, masks [][]int64) error) error {
	order := make([]int, len(encs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(encs[y].Len(), encs[x].Len()) })
	for start := 0; start < len(order); start += b.batchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx := order[start:min(start+b.batchSize, len(order))]
		seq := 0
		for _, i := range idx {
			seq = max(seq, encs[i].Len())
		}
		n := len(idx) * seq
		ids, mask, types := make([]int64, n), make([]int64, n), make([]int64, n)
		masks := make([][]int64, len(idx))
		for r, i := range idx {
			e := encs[i]
			row := r * seq
			for j := range seq {
				if j < e.Len() {
					ids[row+j] = int64(e.IDs[j])
					mask[row+j] = int64(e.AttentionMask[j])
					types[row+j] = int64(e.TypeIDs[j])
				} else {
					ids[row+j] = int64(b.padID)
				}
			}
			masks[r] = mask[row : row+seq]
		}
		err := b.sess.run(ids, mask, types, len(idx), seq, func(out []float32, shape []int64) error {
			return fn(idx, out, shape, masks)
		})
		if err != nil {
			return fmt.Errorf("batch %d: %w", start/b.batchSize, err)
		}
	}
	return nil
}
