package use

import (
	"math"
	"sync"
)

// workspace holds the activation buffers of one forward pass; a worker
// reuses it across batches. Token rows of all sequences in a batch are
// packed one after another, so every dense layer is one matrix product.
type workspace struct {
	x    []float32 // tokens x dEmb: layer-0 input
	h    []float32 // tokens x dModel: residual stream
	ln   []float32 // tokens x dModel: layer-norm output
	qkv  []float32 // tokens x 3*dModel
	att  []float32 // tokens x dModel: attention output (heads side by side)
	hid  []float32 // tokens x dFF
	pool []float32 // sequences x dModel
	out  []float32 // sequences x dModel
	// attn is the attention scratch of each goroutine of the pass.
	attn []attnScratch
	// starts holds each sequence's first token row.
	starts []int
}

// attnScratch is what one goroutine needs to attend one head of one
// sequence.
type attnScratch struct {
	scores []float32 // maxLen x maxLen (padded to panels)
	kt, v  panels    // packed keys (transposed) and values of one head
}

// parallel runs fn over [0, n) cut into at most par contiguous ranges,
// one goroutine each (the first on the caller's); w numbers the ranges.
func parallel(par, n int, fn func(w, lo, hi int)) {
	par = min(par, n)
	if par <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	per := (n + par - 1) / par
	var wg sync.WaitGroup
	for w := 1; w*per < n; w++ {
		wg.Go(func() { fn(w, w*per, min((w+1)*per, n)) })
	}
	fn(0, 0, per)
	wg.Wait()
}

// dense computes C = A*B + bias, or C += A*B + bias when accumulate is set
// (then ReLU when relu is set), for A m x k (row stride lda) into C (row
// stride ldc), on par goroutines that each take a range of B's panels
// (whole pairs, for the two-panel kernel) and then add the bias to their
// own columns. Every element is computed exactly as gemm followed by
// addBias computes it.
func dense(par, m, k int, a []float32, lda int, b *panels, c []float32, ldc int, accumulate bool, bias []float32, relu bool) {
	np := b.n / panelWidth
	if m <= 0 || np == 0 {
		return
	}
	pairs := (np + 1) / 2
	parallel(par, pairs, func(_, lo, hi int) {
		q0, q1 := 2*lo, min(2*hi, np)
		sub := panels{k: b.k, n: (q1 - q0) * panelWidth, data: b.data[q0*b.k*panelWidth : q1*b.k*panelWidth]}
		c0 := q0 * panelWidth
		gemm(m, k, a, lda, &sub, c[c0:], ldc, accumulate)
		c1 := min(q1*panelWidth, len(bias))
		if c0 >= c1 {
			return
		}
		bs := bias[c0:c1]
		for i := 0; i < m; i++ {
			row := c[i*ldc+c0 : i*ldc+c1]
			if relu {
				for j, v := range row {
					row[j] = max(v+bs[j], 0)
				}
			} else {
				for j := range row {
					row[j] += bs[j]
				}
			}
		}
	})
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// forward embeds sequences of token ids (each at most maxLen long, ids
// below the embedding rows) and writes one unit vector per sequence into
// dst. A sequence without tokens gets the model's output for zero tokens
// (the reference's row for an empty text inside a batch). The pass runs on
// par goroutines (dense layers split by columns, layer norms by rows,
// attention by sequence and head); the result does not depend on par.
func (e *encoder) forward(ws *workspace, seqs [][]int, dst [][]float32, par int) {
	par = max(par, 1)
	total := 0
	for _, s := range seqs {
		total += len(s)
	}
	d := e.dModel
	ws.x = grow(ws.x, total*e.dEmb)
	ws.h = grow(ws.h, total*d)
	ws.ln = grow(ws.ln, total*d)
	ws.qkv = grow(ws.qkv, total*3*d)
	ws.att = grow(ws.att, total*d)
	ws.hid = grow(ws.hid, total*e.dFF)
	if len(ws.attn) < par {
		ws.attn = append(ws.attn, make([]attnScratch, par-len(ws.attn))...)
	}
	padded := (e.maxLen + panelWidth - 1) / panelWidth * panelWidth
	for i := range ws.attn[:par] {
		ws.attn[i].scores = grow(ws.attn[i].scores, e.maxLen*padded)
	}
	ws.starts = ws.starts[:0]
	for row, i := 0, 0; i < len(seqs); i++ {
		ws.starts = append(ws.starts, row)
		row += len(seqs[i])
	}
	ws.pool = grow(ws.pool, len(seqs)*d)
	ws.out = grow(ws.out, len(seqs)*d)

	// Layer-0 input. The graph adds the token embedding twice: once
	// through AddTimingSignal (embedding + timing) and once more when that
	// result is added back to the scattered embeddings.
	row := 0
	for _, s := range seqs {
		for p, id := range s {
			x := ws.x[row*e.dEmb : (row+1)*e.dEmb]
			emb := e.emb[id*e.dEmb : (id+1)*e.dEmb]
			tim := e.timing[p*e.dEmb : (p+1)*e.dEmb]
			for j := range x {
				x[j] = emb[j] + (emb[j] + tim[j])
			}
			row++
		}
	}

	if total > 0 {
		in := ws.x
		for i := range e.layers {
			e.layers[i].forward(ws, seqs, total, in, e.eps, par)
			in = ws.h
		}
	}

	// Mean over each sequence's tokens.
	row = 0
	for si, s := range seqs {
		pool := ws.pool[si*d : (si+1)*d]
		clear(pool)
		for range s {
			for j, v := range ws.h[row*d : (row+1)*d] {
				pool[j] += v
			}
			row++
		}
		inv := 1 / float32(max(len(s), 1))
		for j := range pool {
			pool[j] *= inv
		}
	}

	// tanh(pool W + b), then L2 normalisation.
	dense(par, len(seqs), d, ws.pool, d, &e.tanhW, ws.out, d, false, e.tanhB, false)
	for si := range seqs {
		out := ws.out[si*d : (si+1)*d]
		var ss float64
		for j, v := range out {
			t := float32(math.Tanh(float64(v)))
			out[j] = t
			ss += float64(t) * float64(t)
		}
		scale := float32(1 / math.Sqrt(math.Max(ss, float64(e.l2Floor))))
		vec := dst[si]
		for j, v := range out {
			vec[j] = v * scale
		}
	}
}

// forward runs one transformer layer over the packed token rows of in
// (total x l.dIn) and leaves its output in ws.h (total x dModel), on par
// goroutines. For layers without a residual projection in must be ws.h.
func (l *layer) forward(ws *workspace, seqs [][]int, total int, in []float32, eps float32, par int) {
	d := l.out.n
	dIn := l.dIn
	ld3 := 3 * dIn

	// Residual: project the input when the width changes.
	if l.res != nil {
		dense(par, total, dIn, in, dIn, l.res, ws.h, d, false, l.resBias, false)
	}

	// Attention block.
	layerNormPar(par, ws.ln, in, total, dIn, l.ln1Scale, l.ln1Bias, eps)
	dense(par, total, dIn, ws.ln, dIn, &l.qkv, ws.qkv, ld3, false, l.qkvBias, false)
	parallel(par, len(seqs)*l.heads, func(w, lo, hi int) {
		for u := lo; u < hi; u++ {
			si, hd := u/l.heads, u%l.heads
			if n := len(seqs[si]); n > 0 {
				l.attend(ws, &ws.attn[w], ws.starts[si], n, hd)
			}
		}
	})
	dense(par, total, dIn, ws.att, dIn, &l.out, ws.h, d, true, l.outBias, false)

	// Feed-forward block.
	layerNormPar(par, ws.ln, ws.h, total, d, l.ln2Scale, l.ln2Bias, eps)
	dFF := l.ff1.n
	dense(par, total, d, ws.ln, d, &l.ff1, ws.hid, dFF, false, l.ff1Bias, true)
	dense(par, total, dFF, ws.hid, dFF, &l.ff2, ws.h, d, true, l.ff2Bias, false)
}

// attend computes head hd of scaled dot-product attention for the sequence
// whose n tokens start at row r0, writing its columns of ws.att; sc is the
// calling goroutine's scratch.
func (l *layer) attend(ws *workspace, sc *attnScratch, r0, n, hd int) {
	dIn, dh := l.dIn, l.headDim
	ld3 := 3 * dIn
	q := ws.qkv[r0*ld3+hd*dh:]
	k := ws.qkv[r0*ld3+dIn+hd*dh:]
	v := ws.qkv[r0*ld3+2*dIn+hd*dh:]

	packTransposed(&sc.kt, k, n, dh, ld3)
	np := sc.kt.n
	scores := sc.scores[:n*np]
	gemm(n, dh, q, ld3, &sc.kt, scores, np, false)
	for i := 0; i < n; i++ {
		softmaxScaled(scores[i*np:i*np+n], l.scale)
	}
	packPanels(&sc.v, v, n, dh, ld3)
	gemm(n, n, scores, np, &sc.v, ws.att[r0*dIn+hd*dh:], dIn, false)
}

// softmaxScaled replaces row with softmax(scale * row).
func softmaxScaled(row []float32, scale float32) {
	mx := float32(math.Inf(-1))
	for i, v := range row {
		v *= scale
		row[i] = v
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range row {
		e := exp32(v - mx)
		row[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range row {
		row[i] *= inv
	}
}

// exp32 is e^x for x <= 0 in float32, with a relative error below 1e-6;
// below -80 it returns 0 (e^-80 is 2e-35, nothing next to a softmax's
// largest term, which is 1).
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	if x < -80 {
		return 0
	}
	n := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - n*ln2hi - n*ln2lo // |r| <= ln2/2
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return math.Float32frombits(math.Float32bits(p) + uint32(int32(n))<<23)
}

// layerNormPar is layerNorm on par goroutines, each over a range of rows.
func layerNormPar(par int, dst, x []float32, m, w int, scale, bias []float32, eps float32) {
	parallel(par, m, func(_, lo, hi int) {
		layerNorm(dst[lo*w:], x[lo*w:], hi-lo, w, scale, bias, eps)
	})
}

// layerNorm writes scale*(x-mean)/sqrt(var+eps)+bias of each of the m rows
// of x (width w) to dst.
func layerNorm(dst, x []float32, m, w int, scale, bias []float32, eps float32) {
	for i := 0; i < m; i++ {
		src := x[i*w : (i+1)*w]
		out := dst[i*w : (i+1)*w]
		var sum float64
		for _, v := range src {
			sum += float64(v)
		}
		mean := float32(sum / float64(w))
		var sq float64
		for _, v := range src {
			c := float64(v - mean)
			sq += c * c
		}
		r := float32(1 / math.Sqrt(sq/float64(w)+float64(eps)))
		for j, v := range src {
			out[j] = scale[j]*r*(v-mean) + bias[j]
		}
	}
}
