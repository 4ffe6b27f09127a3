package annbench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"

	"github.com/ragd/ragd/data"
)

// ErrFormat: an .fvecs stream is malformed.
var ErrFormat = errors.New("annbench: bad fvecs data")

// Clustered returns n points in dims dimensions around 100 centres drawn
// from N(0,1)^dims: each point is a centre plus N(0, 0.5^2) noise, L2
// normalised. The same seed gives the same centres; stream selects an
// independent sequence of points (use different streams for data and
// held-out queries).
func Clustered(seed int64, stream int64, n, dims int) [][]float32 {
	cr := rand.New(rand.NewSource(seed))
	centres := make([][]float32, 100)
	for i := range centres {
		centres[i] = make([]float32, dims)
		for j := range centres[i] {
			centres[i][j] = float32(cr.NormFloat64())
		}
	}
	r := rand.New(rand.NewSource(seed*1_000_003 + stream + 1))
	out := make([][]float32, n)
	slab := make([]float32, n*dims)
	for i := range out {
		c := centres[r.Intn(len(centres))]
		v := slab[i*dims : (i+1)*dims : (i+1)*dims]
		for j := range v {
			v[j] = c[j] + float32(r.NormFloat64()*0.5)
		}
		normalize(v)
		out[i] = v
	}
	return out
}

// Uniform returns n points drawn uniformly from [-1,1)^dims, L2 normalised.
func Uniform(seed int64, stream int64, n, dims int) [][]float32 {
	r := rand.New(rand.NewSource(seed*1_000_003 + stream + 1))
	out := make([][]float32, n)
	slab := make([]float32, n*dims)
	for i := range out {
		v := slab[i*dims : (i+1)*dims : (i+1)*dims]
		for j := range v {
			v[j] = float32(r.Float64()*2 - 1)
		}
		normalize(v)
		out[i] = v
	}
	return out
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// WriteFvecs writes vectors in the .fvecs format: for each vector a
// little-endian int32 length followed by that many float32 values.
func WriteFvecs(w io.Writer, vs [][]float32) error {
	bw := bufio.NewWriter(w)
	buf := make([]byte, 4)
	for _, v := range vs {
		binary.LittleEndian.PutUint32(buf, uint32(len(v)))
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		for _, x := range v {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(x))
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// ReadFvecs reads up to limit vectors (limit <= 0: all) from an .fvecs
// stream. All vectors must have the same positive length.
func ReadFvecs(r io.Reader, limit int) ([][]float32, error) {
	br := bufio.NewReader(r)
	var out [][]float32
	head := make([]byte, 4)
	dims := -1
	for limit <= 0 || len(out) < limit {
		if _, err := io.ReadFull(br, head); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%w: vector %d header: %v", ErrFormat, len(out), err) //nolint:errorlint // cause kept as text: an io.EOF inside must not read as a clean end of input
		}
		d := int(int32(binary.LittleEndian.Uint32(head)))
		if d <= 0 || d > 1<<16 || (dims > 0 && d != dims) {
			return nil, fmt.Errorf("%w: vector %d has length %d: %w", ErrFormat, len(out), d, data.ErrDimension)
		}
		dims = d
		raw := make([]byte, 4*d)
		if _, err := io.ReadFull(br, raw); err != nil {
			return nil, fmt.Errorf("%w: vector %d: %v", ErrFormat, len(out), err) //nolint:errorlint // cause kept as text: an io.EOF inside must not read as a clean end of input
		}
		v := make([]float32, d)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			if math.IsNaN(float64(v[i])) || math.IsInf(float64(v[i]), 0) {
				return nil, fmt.Errorf("%w: vector %d value %d is not finite", ErrFormat, len(out), i)
			}
		}
		out = append(out, v)
	}
	return out, nil
}
