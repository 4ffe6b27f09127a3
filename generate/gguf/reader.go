package gguf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrFormat is wrapped by every error about the content of a file: a bad
// magic number, an unsupported version, a truncated file, a count or length
// over the limits, or an unknown type tag.
var ErrFormat = errors.New("gguf: invalid file")

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// MaxDims is the largest number of dimensions a tensor may have (ggml's
// GGML_MAX_DIMS).
const MaxDims = 4

// Limits bound what a decoder accepts, so that corrupt files cannot make it
// allocate without bound. Zero fields take the documented defaults.
// Independently of the limits, every count is checked against the bytes
// that remain in the input when its size is known.
type Limits struct {
	MaxKV        int // metadata pairs; default 65,536
	MaxTensors   int // tensor descriptors; default 1,048,576
	MaxStringLen int // bytes in one string; default 64 MiB
	MaxArrayLen  int // elements in one array; default 16,777,216
	MaxDepth     int // nesting of arrays in arrays; default 4
}

func (l Limits) withDefaults() Limits {
	if l.MaxKV <= 0 {
		l.MaxKV = 1 << 16
	}
	if l.MaxTensors <= 0 {
		l.MaxTensors = 1 << 20
	}
	if l.MaxStringLen <= 0 {
		l.MaxStringLen = 64 << 20
	}
	if l.MaxArrayLen <= 0 {
		l.MaxArrayLen = 1 << 24
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 4
	}
	return l
}

// Open reads the header, metadata and tensor descriptors of the GGUF file
// at path with default limits. Tensor data is not read.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf open: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf stat: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("gguf open %s: %w: not a regular file", path, ErrFormat)
	}
	f, err := Decode(fh, st.Size(), Limits{})
	if err != nil {
		return nil, fmt.Errorf("gguf %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes a GGUF file held in memory with default limits.
func Parse(data []byte) (*File, error) {
	return Decode(bytes.NewReader(data), int64(len(data)), Limits{})
}

// Decode reads a GGUF header, its metadata and tensor descriptors from r.
// size is the total size of the input in bytes, or -1 if unknown; when
// known it bounds every count and is checked against tensor offsets.
func Decode(r io.Reader, size int64, lim Limits) (*File, error) {
	d := &decoder{r: bufio.NewReaderSize(r, 64<<10), size: size, lim: lim.withDefaults()}
	f, err := d.file()
	if err != nil {
		return nil, err
	}
	return f, nil
}

type decoder struct {
	r    *bufio.Reader
	pos  int64
	size int64
	lim  Limits
	buf  [8]byte
}

func (d *decoder) errf(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrFormat, d.pos, fmt.Sprintf(format, args...))
}

// remaining returns the bytes left in the input, or MaxInt64 if unknown.
func (d *decoder) remaining() int64 {
	if d.size < 0 {
		return math.MaxInt64
	}
	return d.size - d.pos
}

// fits reports whether n items of at least min bytes each can still be
// present in the input.
func (d *decoder) fits(n uint64, min int64) bool {
	rem := d.remaining()
	if rem < 0 {
		return false
	}
	return n <= uint64(rem/min)
}

func (d *decoder) read(n int) ([]byte, error) {
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		return nil, d.errf("truncated (%v)", err)
	}
	d.pos += int64(n)
	return b, nil
}

func (d *decoder) u8() (uint8, error) {
	b, err := d.read(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) u16() (uint16, error) {
	b, err := d.read(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64() (uint64, error) {
	b, err := d.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *decoder) str() (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > uint64(d.lim.MaxStringLen) {
		return "", d.errf("string of %d bytes exceeds limit %d", n, d.lim.MaxStringLen)
	}
	if !d.fits(n, 1) {
		return "", d.errf("string of %d bytes runs past the end of the file", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return "", d.errf("truncated string (%v)", err)
	}
	d.pos += int64(n)
	return string(b), nil
}

func (d *decoder) file() (*File, error) {
	b, err := d.read(4)
	if err != nil {
		return nil, err
	}
	if string(b) != Magic {
		return nil, d.errf("bad magic %q, want %q", b, Magic)
	}
	f := &File{}
	if f.Version, err = d.u32(); err != nil {
		return nil, err
	}
	if f.Version != 2 && f.Version != 3 {
		return nil, d.errf("unsupported version %d (want 2 or 3)", f.Version)
	}
	if f.TensorCount, err = d.u64(); err != nil {
		return nil, err
	}
	nkv, err := d.u64()
	if err != nil {
		return nil, err
	}
	if nkv > uint64(d.lim.MaxKV) || !d.fits(nkv, 8+1+4+1) {
		return nil, d.errf("metadata count %d is implausible", nkv)
	}
	if f.TensorCount > uint64(d.lim.MaxTensors) || !d.fits(f.TensorCount, 8+4+4+8) {
		return nil, d.errf("tensor count %d is implausible", f.TensorCount)
	}
	f.KV = make([]KV, 0, nkv)
	f.index = make(map[string]int, nkv)
	for i := uint64(0); i < nkv; i++ {
		kv, err := d.kv()
		if err != nil {
			return nil, fmt.Errorf("metadata %d: %w", i, err)
		}
		if _, dup := f.index[kv.Key]; dup {
			return nil, d.errf("duplicate key %q", kv.Key)
		}
		f.index[kv.Key] = len(f.KV)
		f.KV = append(f.KV, kv)
	}
	f.Alignment = 32
	if v, ok := f.Get("general.alignment"); ok {
		a, ok := v.Int()
		if !ok || a <= 0 || a&(a-1) != 0 || a > 1<<20 {
			return nil, d.errf("general.alignment %v is not a power of two", v)
		}
		f.Alignment = a
	}
	f.Tensors = make([]TensorInfo, 0, f.TensorCount)
	for i := uint64(0); i < f.TensorCount; i++ {
		t, err := d.tensor(f.Alignment)
		if err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = (d.pos + f.Alignment - 1) / f.Alignment * f.Alignment
	if d.size >= 0 {
		for _, t := range f.Tensors {
			if t.Offset > uint64(d.size) || f.DataOffset+int64(t.Offset) > d.size {
				return nil, d.errf("tensor %q data offset %d is past the end of the file", t.Name, t.Offset)
			}
		}
	}
	return f, nil
}

func (d *decoder) kv() (KV, error) {
	key, err := d.str()
	if err != nil {
		return KV{}, err
	}
	if key == "" {
		return KV{}, d.errf("empty key")
	}
	t, err := d.u32()
	if err != nil {
		return KV{}, err
	}
	v, err := d.value(Type(t), 0)
	if err != nil {
		return KV{}, fmt.Errorf("key %q: %w", key, err)
	}
	return KV{Key: key, Value: v}, nil
}

func (d *decoder) value(t Type, depth int) (Value, error) {
	var (
		v   any
		err error
	)
	switch t {
	case TypeUint8:
		v, err = d.u8()
	case TypeInt8:
		var x uint8
		x, err = d.u8()
		v = int8(x)
	case TypeUint16:
		v, err = d.u16()
	case TypeInt16:
		var x uint16
		x, err = d.u16()
		v = int16(x)
	case TypeUint32:
		v, err = d.u32()
	case TypeInt32:
		var x uint32
		x, err = d.u32()
		v = int32(x)
	case TypeFloat32:
		var x uint32
		x, err = d.u32()
		v = math.Float32frombits(x)
	case TypeBool:
		var x uint8
		x, err = d.u8()
		if err == nil && x > 1 {
			err = d.errf("bool byte %d", x)
		}
		v = x == 1
	case TypeString:
		v, err = d.str()
	case TypeUint64:
		v, err = d.u64()
	case TypeInt64:
		var x uint64
		x, err = d.u64()
		v = int64(x)
	case TypeFloat64:
		var x uint64
		x, err = d.u64()
		v = math.Float64frombits(x)
	case TypeArray:
		v, err = d.array(depth + 1)
	default:
		return Value{}, d.errf("unknown value type %d", uint32(t))
	}
	if err != nil {
		return Value{}, err
	}
	return Value{Type: t, V: v}, nil
}

func (d *decoder) array(depth int) (*Array, error) {
	if depth > d.lim.MaxDepth {
		return nil, d.errf("arrays nested deeper than %d", d.lim.MaxDepth)
	}
	et, err := d.u32()
	if err != nil {
		return nil, err
	}
	elem := Type(et)
	n, err := d.u64()
	if err != nil {
		return nil, err
	}
	min := int64(elem.fixedSize())
	switch {
	case min < 0:
		return nil, d.errf("unknown array element type %d", et)
	case elem == TypeString:
		min = 8
	case elem == TypeArray:
		min = 12
	}
	if n > uint64(d.lim.MaxArrayLen) || !d.fits(n, min) {
		return nil, d.errf("array of %d %s is implausible", n, elem)
	}
	a := &Array{Elem: elem, Len: int(n)}
	a.Values, err = d.elems(elem, int(n), depth)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// elems decodes n elements of type t into a typed slice.
func (d *decoder) elems(t Type, n int, depth int) (any, error) {
	if sz := t.fixedSize(); sz > 0 {
		raw := make([]byte, n*sz)
		if _, err := io.ReadFull(d.r, raw); err != nil {
			return nil, d.errf("truncated array (%v)", err)
		}
		d.pos += int64(len(raw))
		return fixedSlice(t, raw, n)
	}
	if t == TypeString {
		out := make([]string, n)
		for i := range out {
			s, err := d.str()
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	out := make([]*Array, n)
	for i := range out {
		a, err := d.array(depth + 1)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

func fixedSlice(t Type, raw []byte, n int) (any, error) {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return raw, nil
	case TypeInt8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out, nil
	case TypeBool:
		out := make([]bool, n)
		for i := range out {
			if raw[i] > 1 {
				return nil, fmt.Errorf("%w: bool byte %d in array", ErrFormat, raw[i])
			}
			out[i] = raw[i] == 1
		}
		return out, nil
	case TypeUint16:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(raw[2*i:])
		}
		return out, nil
	case TypeInt16:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(raw[2*i:]))
		}
		return out, nil
	case TypeUint32:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(raw[4*i:])
		}
		return out, nil
	case TypeInt32:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case TypeFloat32:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case TypeUint64:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(raw[8*i:])
		}
		return out, nil
	case TypeInt64:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(raw[8*i:]))
		}
		return out, nil
	case TypeFloat64:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: type %s is not fixed-size", ErrFormat, t)
}

func (d *decoder) tensor(align int64) (TensorInfo, error) {
	name, err := d.str()
	if err != nil {
		return TensorInfo{}, err
	}
	nd, err := d.u32()
	if err != nil {
		return TensorInfo{}, err
	}
	if nd == 0 || nd > MaxDims {
		return TensorInfo{}, d.errf("tensor %q has %d dimensions", name, nd)
	}
	t := TensorInfo{Name: name, Dims: make([]uint64, nd)}
	elems := uint64(1)
	for i := range t.Dims {
		if t.Dims[i], err = d.u64(); err != nil {
			return TensorInfo{}, err
		}
		if t.Dims[i] != 0 && elems > math.MaxInt64/t.Dims[i] {
			return TensorInfo{}, d.errf("tensor %q element count overflows", name)
		}
		elems *= t.Dims[i]
	}
	if t.Type, err = d.u32(); err != nil {
		return TensorInfo{}, err
	}
	if t.Offset, err = d.u64(); err != nil {
		return TensorInfo{}, err
	}
	if t.Offset%uint64(align) != 0 {
		return TensorInfo{}, d.errf("tensor %q offset %d is not aligned to %d", name, t.Offset, align)
	}
	return t, nil
}
