package bert

import (
	"fmt"
	"math"
)

// MaskValue is added to attention scores of masked-out keys: the most
// negative float32, as Hugging Face transformers does.
const MaskValue = -math.MaxFloat32

// Input is one tokenized sequence. TypeIDs and Mask may be nil (all zeros
// and all ones); otherwise they must be as long as IDs. Padded positions
// (mask 0) still produce hidden states, as in the reference implementation.
type Input struct {
	IDs     []int32
	TypeIDs []int32
	Mask    []int32
}

// Output is the result of Forward for one sequence.
type Output struct {
	// Hidden is last_hidden_state, [len(IDs), hidden] row-major.
	Hidden []float32
	// Pooled is tanh(dense(Hidden[0])), nil without a pooler.
	Pooled []float32
	// Logits are the classifier outputs, nil without a classifier.
	Logits []float32
}

// Forward runs the encoder on one sequence. It is safe for concurrent use.
func (w *Weights) Forward(in Input) (*Output, error) {
	cfg := w.Config
	h, s := cfg.HiddenSize, len(in.IDs)
	if s == 0 {
		return nil, fmt.Errorf("%w: empty sequence", ErrInput)
	}
	if s > cfg.MaxPositions {
		return nil, fmt.Errorf("%w: %d tokens exceed max_position_embeddings %d", ErrInput, s, cfg.MaxPositions)
	}
	if in.TypeIDs != nil && len(in.TypeIDs) != s || in.Mask != nil && len(in.Mask) != s {
		return nil, fmt.Errorf("%w: ids, type ids and mask lengths differ", ErrInput)
	}
	x := make([]float64, s*h)
	for i, id := range in.IDs {
		if id < 0 || int(id) >= cfg.VocabSize {
			return nil, fmt.Errorf("%w: token id %d outside vocabulary of %d", ErrInput, id, cfg.VocabSize)
		}
		var tt int32
		if in.TypeIDs != nil {
			tt = in.TypeIDs[i]
		}
		if tt < 0 || int(tt) >= cfg.TypeVocabSize {
			return nil, fmt.Errorf("%w: token type %d outside %d types", ErrInput, tt, cfg.TypeVocabSize)
		}
		row := x[i*h : (i+1)*h]
		word := w.Word.Data[int(id)*h:]
		pos := w.Position.Data[i*h:]
		typ := w.TokenType.Data[int(tt)*h:]
		for j := range row {
			row[j] = float64(word[j]) + float64(pos[j]) + float64(typ[j])
		}
	}
	layerNorm(x, h, w.EmbNorm, cfg.LayerNormEps)
	maskAdd := make([]float64, s)
	for j := range maskAdd {
		if in.Mask != nil {
			maskAdd[j] = (1 - float64(in.Mask[j])) * MaskValue
		}
	}
	for _, l := range w.Layers {
		x = w.block(l, x, s, maskAdd)
	}
	out := &Output{Hidden: toFloat32(x)}
	if w.Pooler != nil {
		p := linear(x[:h], 1, *w.Pooler)
		for i := range p {
			p[i] = math.Tanh(p[i])
		}
		out.Pooled = toFloat32(p)
		if w.Classifier != nil {
			out.Logits = toFloat32(linear(p, 1, *w.Classifier))
		}
	}
	return out, nil
}

// block is one transformer layer: self-attention, residual, LayerNorm,
// GELU feed-forward, residual, LayerNorm.
func (w *Weights) block(l Layer, x []float64, s int, maskAdd []float64) []float64 {
	cfg := w.Config
	h, nh := cfg.HiddenSize, cfg.NumHeads
	dh := h / nh
	q := linear(x, s, l.Query)
	k := linear(x, s, l.Key)
	v := linear(x, s, l.Value)
	ctx := make([]float64, s*h)
	scale := 1 / math.Sqrt(float64(dh))
	scores := make([]float64, s)
	for head := range nh {
		off := head * dh
		for i := range s {
			qi := q[i*h+off : i*h+off+dh]
			maxScore := math.Inf(-1)
			for j := range s {
				kj := k[j*h+off : j*h+off+dh]
				var d float64
				for t := range qi {
					d += qi[t] * kj[t]
				}
				scores[j] = d*scale + maskAdd[j]
				maxScore = max(maxScore, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - maxScore)
				sum += scores[j]
			}
			ci := ctx[i*h+off : i*h+off+dh]
			for j := range s {
				p := scores[j] / sum
				vj := v[j*h+off : j*h+off+dh]
				for t := range ci {
					ci[t] += p * vj[t]
				}
			}
		}
	}
	a := linear(ctx, s, l.AttnOut)
	for i := range a {
		a[i] += x[i]
	}
	layerNorm(a, h, l.AttnNorm, cfg.LayerNormEps)
	inter := linear(a, s, l.Inter)
	for i, u := range inter {
		inter[i] = 0.5 * u * (1 + math.Erf(u/math.Sqrt2))
	}
	o := linear(inter, s, l.Out)
	for i := range o {
		o[i] += a[i]
	}
	layerNorm(o, h, l.OutNorm, cfg.LayerNormEps)
	return o
}

// linear computes x·Wᵀ + b for rows x [s, in].
func linear(x []float64, s int, l Linear) []float64 {
	out, in := l.W.Shape[0], l.W.Shape[1]
	y := make([]float64, s*out)
	w := l.W.Data
	for r := range s {
		xr := x[r*in : (r+1)*in]
		yr := y[r*out : (r+1)*out]
		for o := range out {
			wo := w[o*in : (o+1)*in]
			d := float64(l.B.Data[o])
			for i, xv := range xr {
				d += xv * float64(wo[i])
			}
			yr[o] = d
		}
	}
	return y
}

// layerNorm normalises each row of x [*, n] in place.
func layerNorm(x []float64, n int, p Norm, eps float64) {
	for r := 0; r < len(x); r += n {
		row := x[r : r+n]
		var mean float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(n)
		var variance float64
		for _, v := range row {
			variance += (v - mean) * (v - mean)
		}
		variance /= float64(n)
		inv := 1 / math.Sqrt(variance+eps)
		for i, v := range row {
			row[i] = (v-mean)*inv*float64(p.Gamma.Data[i]) + float64(p.Beta.Data[i])
		}
	}
}

func toFloat32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}
