package use

import (
	"unsafe"

	"github.com/ragd/ragd/embed"
)

// Memory reports what the model keeps resident, counted from its own
// tables: the embedding table, the timing signal, every packed weight
// matrix and bias, and the tokenizer's vocabulary and trie (its map
// counted as key and value bytes per entry, without the map's own
// overhead). Activation buffers are pooled per forward pass and not
// counted. It makes Model an embed.MemoryReporter.
func (m *Model) Memory() embed.Memory {
	return embed.Memory{Bytes: m.enc.memoryBytes() + m.tok.memoryBytes()}
}

const float32Bytes = 4

func (e *encoder) memoryBytes() int64 {
	n := len(e.emb) + len(e.timing) + len(e.tanhW.data) + len(e.tanhB)
	for i := range e.layers {
		l := &e.layers[i]
		for _, v := range [][]float32{
			l.ln1Scale, l.ln1Bias, l.resBias, l.qkv.data, l.qkvBias, l.out.data, l.outBias,
			l.ln2Scale, l.ln2Bias, l.ff1.data, l.ff2.data, l.ff1Bias, l.ff2Bias,
		} {
			n += len(v)
		}
		if l.res != nil {
			n += len(l.res.data)
		}
	}
	return int64(n) * float32Bytes
}

func (t *Tokenizer) memoryBytes() int64 {
	n := int64(len(t.pieces)) * int64(unsafe.Sizeof(""))
	for _, p := range t.pieces {
		n += int64(len(p))
	}
	n += int64(len(t.pieceLen)) * int64(unsafe.Sizeof(0))
	n += int64(len(t.nodes)) * int64(unsafe.Sizeof(trieNode{}))
	n += int64(len(t.children)) * int64(unsafe.Sizeof(uint64(0))+unsafe.Sizeof(int32(0)))
	n += int64(len(t.rootASCII)) * int64(unsafe.Sizeof(int32(0)))
	return n
}
