package use

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragd/ragd/embed"
)

// This file reads the weights of a TensorFlow.js graph model: model.json
// (topology + weightsManifest) and the binary shards the manifest names.
// Each manifest group lists its shard files and the weights stored in them
// back to back, little-endian, in manifest order.

// tensor is a dense weight: float data (ints converted) and its shape.
type tensor struct {
	shape []int
	data  []float32
}

// graphModel is the part of model.json ragd reads.
type graphModel struct {
	Format          string          `json:"format"`
	ModelTopology   modelTopology   `json:"modelTopology"`
	WeightsManifest []manifestGroup `json:"weightsManifest"`
}

type modelTopology struct {
	Node []graphNode `json:"node"`
}

type graphNode struct {
	Name  string   `json:"name"`
	Op    string   `json:"op"`
	Input []string `json:"input"`
}

type manifestGroup struct {
	Paths   []string         `json:"paths"`
	Weights []manifestWeight `json:"weights"`
}

type manifestWeight struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	Dtype        string        `json:"dtype"`
	Quantization *quantization `json:"quantization"`
}

// quantization describes weights stored as uint8/uint16 affine codes
// (value = code*scale + min) or as float16.
type quantization struct {
	Dtype string   `json:"dtype"`
	Scale *float64 `json:"scale"`
	Min   *float64 `json:"min"`
}

// maxWeightElems bounds a single weight (2^28 elements, 1 GiB of float32) so
// a corrupt shape cannot ask for absurd allocations.
const maxWeightElems = 1 << 28

// readGraphModel parses model.json in dir and loads every weight of its
// manifest from the shards beside it.
func readGraphModel(dir string) (*graphModel, map[string]tensor, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", embed.ErrBadModel, err) //nolint:errorlint // cause kept as text: a missing file must not read as fs.ErrNotExist to callers
	}
	var g graphModel
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, nil, fmt.Errorf("%w: model.json: %w", embed.ErrBadModel, err)
	}
	if len(g.WeightsManifest) == 0 {
		return nil, nil, fmt.Errorf("%w: model.json has no weightsManifest", embed.ErrBadModel)
	}
	weights := make(map[string]tensor)
	for gi, grp := range g.WeightsManifest {
		buf, err := readShards(dir, grp.Paths)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: weight group %d: %v", embed.ErrBadModel, gi, err) //nolint:errorlint // cause kept as text: a missing file must not read as fs.ErrNotExist to callers
		}
		off := 0
		for _, w := range grp.Weights {
			t, n, err := decodeWeight(w, buf[off:])
			if err != nil {
				return nil, nil, fmt.Errorf("%w: weight %q: %w", embed.ErrBadModel, w.Name, err)
			}
			off += n
			weights[w.Name] = t
		}
		if off != len(buf) {
			return nil, nil, fmt.Errorf("%w: weight group %d: shards hold %d bytes, manifest describes %d",
				embed.ErrBadModel, gi, len(buf), off)
		}
	}
	return &g, weights, nil
}

// readShards concatenates a group's shard files. Shard paths must stay
// inside dir.
func readShards(dir string, paths []string) ([]byte, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no shard paths")
	}
	files := make([]string, len(paths))
	total := int64(0)
	for i, p := range paths {
		clean := filepath.Clean(filepath.FromSlash(p))
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("shard path %q leaves the model directory", p)
		}
		files[i] = filepath.Join(dir, clean)
		st, err := os.Stat(files[i])
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() || st.Size() > 1<<32 {
			return nil, fmt.Errorf("shard %s is not a regular file of sensible size", p)
		}
		total += st.Size()
	}
	buf := make([]byte, total)
	off := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err == nil && int64(off)+st.Size() > total {
			err = fmt.Errorf("shard %s grew while loading", name)
		}
		if err == nil {
			_, err = io.ReadFull(f, buf[off:off+int(st.Size())])
			off += int(st.Size())
		}
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return buf[:off], nil
}

// decodeWeight decodes one weight from the start of b and reports how many
// bytes it used.
func decodeWeight(w manifestWeight, b []byte) (tensor, int, error) {
	n := 1
	for _, d := range w.Shape {
		if d < 0 || (d > 0 && n > maxWeightElems/d) {
			return tensor{}, 0, fmt.Errorf("bad shape %v", w.Shape)
		}
		n *= d
	}
	t := tensor{shape: append([]int(nil), w.Shape...), data: make([]float32, n)}
	if q := w.Quantization; q != nil {
		return decodeQuantized(t, q, b)
	}
	switch w.Dtype {
	case "float32":
		if len(b) < 4*n {
			return tensor{}, 0, fmt.Errorf("shards end early")
		}
		for i := range t.data {
			t.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return t, 4 * n, nil
	case "int32":
		if len(b) < 4*n {
			return tensor{}, 0, fmt.Errorf("shards end early")
		}
		for i := range t.data {
			t.data[i] = float32(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
		return t, 4 * n, nil
	case "bool":
		if len(b) < n {
			return tensor{}, 0, fmt.Errorf("shards end early")
		}
		for i := range t.data {
			if b[i] != 0 {
				t.data[i] = 1
			}
		}
		return t, n, nil
	default:
		return tensor{}, 0, fmt.Errorf("unsupported dtype %q", w.Dtype)
	}
}

func decodeQuantized(t tensor, q *quantization, b []byte) (tensor, int, error) {
	n := len(t.data)
	switch q.Dtype {
	case "uint8", "uint16":
		if q.Scale == nil || q.Min == nil {
			return tensor{}, 0, fmt.Errorf("%s quantization without scale and min", q.Dtype)
		}
		scale, lo := float32(*q.Scale), float32(*q.Min)
		size := 1
		if q.Dtype == "uint16" {
			size = 2
		}
		if len(b) < size*n {
			return tensor{}, 0, fmt.Errorf("shards end early")
		}
		for i := range t.data {
			var code float32
			if size == 1 {
				code = float32(b[i])
			} else {
				code = float32(binary.LittleEndian.Uint16(b[2*i:]))
			}
			t.data[i] = code*scale + lo
		}
		return t, size * n, nil
	case "float16":
		if len(b) < 2*n {
			return tensor{}, 0, fmt.Errorf("shards end early")
		}
		for i := range t.data {
			t.data[i] = halfToFloat(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return t, 2 * n, nil
	default:
		return tensor{}, 0, fmt.Errorf("unsupported quantization dtype %q", q.Dtype)
	}
}

// halfToFloat converts an IEEE 754 binary16 value to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // zero
		return math.Float32frombits(sign)
	default: // subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
}
