package bert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// Tensor is a dense row-major float32 tensor.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) Tensor {
	return Tensor{Shape: slices.Clone(shape), Data: make([]float32, numel(shape))}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// maxHeader bounds the JSON header so a corrupt length cannot allocate
// gigabytes.
const maxHeader = 100 << 20

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// ReadSafetensors reads the floating-point tensors of a safetensors file
// (F32, F16 and BF16 are converted to float32). Tensors of other dtypes
// (such as the int64 position_ids buffer some checkpoints carry) are skipped.
func ReadSafetensors(path string) (map[string]Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	out, err := readSafetensors(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

func readSafetensors(r io.ReaderAt, size int64) (map[string]Tensor, error) {
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("%w: short file (%d bytes)", ErrFormat, size)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen == 0 || hlen > maxHeader || int64(hlen) > size-8 {
		return nil, fmt.Errorf("%w: header length %d invalid for %d-byte file", ErrFormat, hlen, size)
	}
	hdr := make([]byte, hlen)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("%w: header JSON: %w", ErrFormat, err)
	}
	base := 8 + int64(hlen)
	dataLen := size - base
	out := make(map[string]Tensor, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrFormat, name, err)
		}
		var width int64
		switch e.DType {
		case "F32":
			width = 4
		case "F16", "BF16":
			width = 2
		case "F64", "I64", "U64":
			width = 8
		case "I32", "U32":
			width = 4
		case "I16", "U16":
			width = 2
		case "I8", "U8", "BOOL":
			width = 1
		default:
			return nil, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrFormat, name, e.DType)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("%w: tensor %q: negative dim", ErrFormat, name)
			}
			n *= int64(d)
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > dataLen || hi-lo != n*width {
			return nil, fmt.Errorf("%w: tensor %q: offsets [%d,%d] do not fit shape %v %s in %d data bytes",
				ErrFormat, name, lo, hi, e.Shape, e.DType, dataLen)
		}
		if e.DType != "F32" && e.DType != "F16" && e.DType != "BF16" {
			continue
		}
		buf := make([]byte, hi-lo)
		if _, err := r.ReadAt(buf, base+lo); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrFormat, name, err)
		}
		t := Tensor{Shape: slices.Clone(e.Shape), Data: make([]float32, n)}
		for i := range t.Data {
			switch e.DType {
			case "F32":
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			case "BF16":
				t.Data[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(buf[2*i:])) << 16)
			case "F16":
				t.Data[i] = halfToFloat(binary.LittleEndian.Uint16(buf[2*i:]))
			}
		}
		out[name] = t
	}
	return out, nil
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// WriteSafetensors writes float32 tensors in the safetensors format, in
// sorted name order.
func WriteSafetensors(path string, tensors map[string]Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeSafetensors(f, tensors); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeSafetensors(w io.Writer, tensors map[string]Tensor) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var off int64
	for _, n := range names {
		t := tensors[n]
		if numel(t.Shape) != len(t.Data) {
			return fmt.Errorf("%w: tensor %q: shape %v holds %d values, data has %d",
				ErrFormat, n, t.Shape, numel(t.Shape), len(t.Data))
		}
		size := int64(4 * len(t.Data))
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		hdr[n] = stEntry{DType: "F32", Shape: shape, Offsets: [2]int64{off, off + size}}
		off += size
	}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	// Pad the header with spaces so data starts 8-byte aligned.
	for (8+len(hb))%8 != 0 {
		hb = append(hb, ' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hb)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := w.Write(float32Bytes(tensors[n].Data)); err != nil {
			return err
		}
	}
	return nil
}

// float32Bytes encodes values little-endian.
func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
