package use

import (
	"fmt"
	"math"

	"github.com/ragd/ragd/embed"
)

// encoder is the USE-lite network with its weights, immutable after
// loading. Shapes (from the graph): token embeddings 8002x256, a sinusoidal
// timing signal, two pre-norm transformer layers (256->512 with a projected
// residual, then 512->512; 4 heads each; ReLU feed-forward of 1536), mean
// pooling over the tokens, a tanh dense layer and L2 normalisation.
type encoder struct {
	dEmb, dModel, dFF, maxLen int
	emb                       []float32 // rows x dEmb
	embRows                   int
	timing                    []float32 // maxLen x dEmb, precomputed
	eps                       float32
	layers                    [numLayers]layer
	tanhW                     panels
	tanhB                     []float32
	l2Floor                   float32
}

// layer is one transformer layer: x + Attention(LN(x)), then
// h + FFN(LN(h)). When dIn differs from the model width the residual input
// is projected by res.
type layer struct {
	dIn, heads, headDim int
	scale               float32 // query scale, 1/sqrt(headDim)
	ln1Scale, ln1Bias   []float32
	res                 *panels // dIn x dModel, nil when dIn == dModel
	resBias             []float32
	qkv                 panels // dIn x 3*dIn
	qkvBias             []float32
	out                 panels // dIn x dModel
	outBias             []float32
	ln2Scale, ln2Bias   []float32
	ff1, ff2            panels // dModel x dFF, dFF x dModel
	ff1Bias, ff2Bias    []float32
}

// newEncoder takes the network's weights from ws and checks their shapes.
func newEncoder(ws *weightSet, vocabSize int) (*encoder, error) {
	e := &encoder{}
	embT, ok := ws.w[nameEmbeddings]
	if !ok || len(embT.shape) != 2 {
		return nil, fmt.Errorf("%w: missing or malformed %s", embed.ErrBadModel, nameEmbeddings)
	}
	e.embRows, e.dEmb = embT.shape[0], embT.shape[1]
	if e.embRows < vocabSize {
		return nil, fmt.Errorf("%w: %d embedding rows for %d vocabulary entries", embed.ErrBadModel, e.embRows, vocabSize)
	}
	if e.dEmb%2 != 0 || e.dEmb == 0 {
		return nil, fmt.Errorf("%w: embedding width %d", embed.ErrBadModel, e.dEmb)
	}
	e.emb = embT.data
	maxLen := ws.scalar(nameMaxLen)
	if ws.err == nil && (maxLen < 1 || maxLen > 1<<16 || maxLen != float32(int(maxLen))) {
		ws.fail("max length %v", maxLen)
	}
	e.maxLen = int(maxLen)
	e.eps = ws.scalar(nameEpsilon)
	heads := int(ws.scalar(nameHeads))
	inv := ws.get(nameTiming, e.dEmb/2)
	tanhW := ws.get(nameTanhW, 512, 512)
	e.dModel = 512
	e.tanhB = ws.get(nameTanhB, e.dModel)
	e.l2Floor = ws.scalar(nameL2Floor)
	if padBias := ws.scalar(namePadBias); ws.err == nil && padBias > -1e4 {
		ws.fail("padding bias %v", padBias)
	}
	if ws.err != nil {
		return nil, ws.err
	}
	packPanels(&e.tanhW, tanhW, e.dModel, e.dModel, e.dModel)

	dIn := e.dEmb
	for i := range e.layers {
		l, err := newLayer(ws, i, dIn, e.dModel, heads)
		if err != nil {
			return nil, err
		}
		e.layers[i] = *l
		e.dFF = l.ff1.n
		dIn = e.dModel
	}
	for name, v := range map[string][]float32{"embeddings": e.emb, "timing": inv, "tanh": tanhW} {
		if err := checkFinite(name, v); err != nil {
			return nil, err
		}
	}

	// Timing signal for positions 0..maxLen-1: sin(p*inv) | cos(p*inv),
	// computed as the graph does (float32 product, then sin and cos).
	half := e.dEmb / 2
	e.timing = make([]float32, e.maxLen*e.dEmb)
	for p := 0; p < e.maxLen; p++ {
		row := e.timing[p*e.dEmb : (p+1)*e.dEmb]
		for j := 0; j < half; j++ {
			a := float64(float32(p) * inv[j])
			row[j] = float32(math.Sin(a))
			row[half+j] = float32(math.Cos(a))
		}
	}
	return e, nil
}

func newLayer(ws *weightSet, i, dIn, dModel, heads int) (*layer, error) {
	n := layerNames(i)
	l := &layer{dIn: dIn, heads: heads}
	if heads <= 0 || dIn%heads != 0 {
		return nil, fmt.Errorf("%w: %d heads for width %d", embed.ErrBadModel, heads, dIn)
	}
	l.headDim = dIn / heads
	if hd := ws.scalar(n["headDim"]); ws.err == nil && int(hd) != l.headDim {
		ws.fail("layer %d head width %v, want %d", i, hd, l.headDim)
	}
	if l.headDim%panelWidth != 0 {
		return nil, fmt.Errorf("%w: head width %d is not a multiple of %d", embed.ErrBadModel, l.headDim, panelWidth)
	}
	l.scale = ws.scalar(n["scale"])
	l.ln1Scale = ws.get(n["ln1.scale"], dIn)
	l.ln1Bias = ws.get(n["ln1.bias"], dIn)
	qkv := ws.get(n["qkv.w"], dIn, 3*dIn)
	l.qkvBias = ws.get(n["qkv.b"], 3*dIn)
	out := ws.get(n["out.w"], dIn, dModel)
	l.outBias = ws.get(n["out.b"], dModel)
	l.ln2Scale = ws.get(n["ln2.scale"], dModel)
	l.ln2Bias = ws.get(n["ln2.bias"], dModel)
	// The feed-forward width is read from its bias.
	ff1B, ok := ws.w[n["ff1.b"]]
	if !ok || len(ff1B.data) == 0 || len(ff1B.data)%panelWidth != 0 {
		return nil, fmt.Errorf("%w: layer %d feed-forward bias missing or of bad width", embed.ErrBadModel, i)
	}
	dFF := len(ff1B.data)
	l.ff1Bias = ws.get(n["ff1.b"], dFF)
	ff1 := ws.get(n["ff1.w"], dModel, dFF)
	ff2 := ws.get(n["ff2.w"], dFF, dModel)
	l.ff2Bias = ws.get(n["ff2.b"], dModel)
	var res []float32
	if dIn != dModel {
		res = ws.get(n["res.w"], dIn, dModel)
		l.resBias = ws.get(n["res.b"], dModel)
	}
	if ws.err != nil {
		return nil, ws.err
	}
	for name, v := range map[string][]float32{"qkv": qkv, "out": out, "ff1": ff1, "ff2": ff2, "res": res} {
		if err := checkFinite(fmt.Sprintf("layer %d %s", i, name), v); err != nil {
			return nil, err
		}
	}
	packPanels(&l.qkv, qkv, dIn, 3*dIn, 3*dIn)
	packPanels(&l.out, out, dIn, dModel, dModel)
	packPanels(&l.ff1, ff1, dModel, dFF, dFF)
	packPanels(&l.ff2, ff2, dFF, dModel, dModel)
	if res != nil {
		l.res = &panels{}
		packPanels(l.res, res, dIn, dModel, dModel)
	}
	return l, nil
}
