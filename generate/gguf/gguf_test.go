package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ragd/ragd/internal/testutil"
)

// sharedPath finds ../shared/<rel> next to the repository root (the
// directory holding go.mod), skipping the test only when it is absent.
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(testutil.SharedDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared fixture %s absent: %v", p, err)
	}
	return p
}

// builder writes GGUF files for tests.
type builder struct{ bytes.Buffer }

func (b *builder) u32(v uint32) *builder { binary.Write(b, binary.LittleEndian, v); return b }
func (b *builder) u64(v uint64) *builder { binary.Write(b, binary.LittleEndian, v); return b }
func (b *builder) str(s string) *builder { b.u64(uint64(len(s))); b.WriteString(s); return b }
func (b *builder) header(version uint32, tensors, kvs uint64) *builder {
	b.WriteString(Magic)
	return b.u32(version).u64(tensors).u64(kvs)
}

func TestTinyLlama(t *testing.T) {
	f, err := Open(sharedPath(t, "models/llama-2-tiny-random.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 {
		t.Errorf("version = %d, want 3", f.Version)
	}
	if got := f.Architecture(); got != "llama" {
		t.Errorf("architecture = %q", got)
	}
	if n, ok := f.Int("llama.embedding_length"); !ok || n != 8 {
		t.Errorf("embedding_length = %d %v, want 8", n, ok)
	}
	if n, ok := f.Int("llama.block_count"); !ok || n != 1 {
		t.Errorf("block_count = %d %v, want 1", n, ok)
	}
	if _, ok := f.ContextLength(); !ok {
		t.Error("no context length")
	}
	toks, ok := f.Tokens()
	if !ok || len(toks) != 32000 {
		t.Fatalf("tokens: %d %v, want 32000", len(toks), ok)
	}
	// Llama-2 vocabulary facts: <s> is 1, "▁Once" is 9038.
	if toks[1] != "<s>" || toks[9038] != "▁Once" {
		t.Errorf("tokens[1]=%q tokens[9038]=%q", toks[1], toks[9038])
	}
	if scores, ok := f.Array("tokenizer.ggml.scores"); !ok || scores.Elem != TypeFloat32 || scores.Len != 32000 {
		t.Errorf("scores = %+v", scores)
	}
	if len(f.Tensors) != int(f.TensorCount) || len(f.Tensors) == 0 {
		t.Errorf("tensors = %d of %d", len(f.Tensors), f.TensorCount)
	}
	st, _ := os.Stat(sharedPath(t, "models/llama-2-tiny-random.gguf"))
	if f.DataOffset <= 0 || f.DataOffset >= st.Size() || f.DataOffset%f.Alignment != 0 {
		t.Errorf("data offset %d (alignment %d, size %d)", f.DataOffset, f.Alignment, st.Size())
	}
}

func TestVocabFixtures(t *testing.T) {
	tests := []struct {
		file, tokModel string
		vocab          int
	}{
		{"ggml-vocab-llama-spm.gguf", "llama", 32000},
		{"ggml-vocab-bert-bge.gguf", "bert", 30522},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := Open(sharedPath(t, "fixtures/tokenizers/"+tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.TokenizerModel(); got != tc.tokModel {
				t.Errorf("tokenizer model = %q, want %q", got, tc.tokModel)
			}
			if toks, _ := f.Tokens(); len(toks) != tc.vocab {
				t.Errorf("vocab = %d, want %d", len(toks), tc.vocab)
			}
		})
	}
}

func TestAllValueTypes(t *testing.T) {
	var b builder
	b.header(3, 0, 15)
	b.str("u8").u32(uint32(TypeUint8)).WriteByte(200)
	b.str("i8").u32(uint32(TypeInt8)).WriteByte(0xff)
	b.str("u16").u32(uint32(TypeUint16))
	binary.Write(&b, binary.LittleEndian, uint16(65000))
	b.str("i16").u32(uint32(TypeInt16))
	binary.Write(&b, binary.LittleEndian, int16(-300))
	b.str("u32").u32(uint32(TypeUint32)).u32(4e9)
	b.str("i32").u32(uint32(TypeInt32)).u32(uint32(0xfffffffe))
	b.str("f32").u32(uint32(TypeFloat32)).u32(math.Float32bits(1.5))
	b.str("bool").u32(uint32(TypeBool)).WriteByte(1)
	b.str("str").u32(uint32(TypeString)).str("héllo")
	b.str("u64").u32(uint32(TypeUint64)).u64(1 << 40)
	b.str("i64").u32(uint32(TypeInt64)).u64(uint64(math.MaxUint64))
	b.str("f64").u32(uint32(TypeFloat64)).u64(math.Float64bits(-2.25))
	b.str("arr.i32").u32(uint32(TypeArray)).u32(uint32(TypeInt32)).u64(3).u32(1).u32(2).u32(uint32(0xffffffff))
	b.str("arr.str").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(2).str("a").str("")
	b.str("arr.nested").u32(uint32(TypeArray)).u32(uint32(TypeArray)).u64(1).
		u32(uint32(TypeUint8)).u64(2).WriteString("\x07\x09")

	f, err := Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"u8": uint8(200), "i8": int8(-1), "u16": uint16(65000), "i16": int16(-300),
		"u32": uint32(4e9), "i32": int32(-2), "f32": float32(1.5), "bool": true,
		"str": "héllo", "u64": uint64(1 << 40), "i64": int64(-1), "f64": -2.25,
	}
	for k, w := range want {
		v, ok := f.Get(k)
		if !ok || !reflect.DeepEqual(v.V, w) {
			t.Errorf("%s = %#v, want %#v", k, v.V, w)
		}
	}
	if a, _ := f.Array("arr.i32"); !reflect.DeepEqual(a.Values, []int32{1, 2, -1}) {
		t.Errorf("arr.i32 = %#v", a.Values)
	}
	if s, _ := f.Strings("arr.str"); !reflect.DeepEqual(s, []string{"a", ""}) {
		t.Errorf("arr.str = %#v", s)
	}
	a, _ := f.Array("arr.nested")
	inner := a.Values.([]*Array)
	if len(inner) != 1 || !reflect.DeepEqual(inner[0].Values, []uint8{7, 9}) {
		t.Errorf("nested = %#v", inner)
	}
	if got := []string{f.KV[0].Key, f.KV[14].Key}; got[0] != "u8" || got[1] != "arr.nested" {
		t.Errorf("order lost: %v", got)
	}
	if n, ok := f.Int("u32"); !ok || n != 4e9 {
		t.Errorf("Int(u32) = %d", n)
	}
}

func TestTensorInfo(t *testing.T) {
	var b builder
	b.header(2, 1, 1)
	b.str("general.alignment").u32(uint32(TypeUint32)).u32(16)
	b.str("w").u32(2).u64(4).u64(2).u32(0).u64(0)
	for b.Len()%16 != 0 {
		b.WriteByte(0)
	}
	data := b.Len()
	b.Write(make([]byte, 32))
	f, err := Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.DataOffset != int64(data) || f.Alignment != 16 {
		t.Errorf("data offset %d alignment %d, want %d 16", f.DataOffset, f.Alignment, data)
	}
	if got := f.Tensors[0]; got.Name != "w" || !reflect.DeepEqual(got.Dims, []uint64{4, 2}) {
		t.Errorf("tensor = %+v", got)
	}
}

func TestCorrupt(t *testing.T) {
	hdr := func(version uint32, tensors, kvs uint64) *builder {
		b := &builder{}
		return b.header(version, tensors, kvs)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", []byte("GGML\x03\x00\x00\x00")},
		{"version 1", hdr(1, 0, 0).Bytes()},
		{"version 4", hdr(4, 0, 0).Bytes()},
		{"truncated header", hdr(3, 0, 0).Bytes()[:12]},
		{"huge kv count", hdr(3, 0, 1<<62).Bytes()},
		{"huge tensor count", hdr(3, 1<<40, 0).Bytes()},
		{"kv count past end", hdr(3, 0, 5).Bytes()},
		{"huge string", hdr(3, 0, 1).u64(1 << 62).Bytes()},
		{"string past end", hdr(3, 0, 1).u64(100).Bytes()},
		{"empty key", hdr(3, 0, 1).str("").u32(0).Bytes()},
		{"unknown type", hdr(3, 0, 1).str("k").u32(13).u32(0).Bytes()},
		{"bad bool", hdr(3, 0, 1).str("k").u32(uint32(TypeBool)).u32(0x05050505).Bytes()[:0]},
		{"huge array", hdr(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint64)).u64(1 << 50).Bytes()},
		{"array bad elem", hdr(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(99).u64(1).u64(0).Bytes()},
		{"deep arrays", func() []byte {
			b := hdr(3, 0, 1).str("k").u32(uint32(TypeArray))
			for i := 0; i < 10; i++ {
				b.u32(uint32(TypeArray)).u64(1)
			}
			return b.u32(uint32(TypeUint8)).u64(0).Bytes()
		}()},
		{"duplicate key", hdr(3, 0, 2).str("k").u32(0).Bytes()},
		{"zero dims", hdr(3, 1, 0).str("t").u32(0).u32(0).u64(0).u64(0).Bytes()},
		{"5 dims", hdr(3, 1, 0).str("t").u32(5).u64(1).u64(1).u64(1).u64(1).u64(1).u32(0).u64(0).Bytes()},
		{"misaligned tensor", hdr(3, 1, 0).str("t").u32(1).u64(1).u32(0).u64(3).Bytes()},
		{"tensor past end", hdr(3, 1, 0).str("t").u32(1).u64(1).u32(0).u64(1 << 20).Bytes()},
		{"bad alignment", hdr(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(3).Bytes()},
	}
	// "bad bool" needs its own construction: a bool byte of 5.
	for i := range tests {
		if tests[i].name == "bad bool" {
			b := hdr(3, 0, 1).str("k").u32(uint32(TypeBool))
			b.WriteByte(5)
			tests[i].data = b.Bytes()
		}
		if tests[i].name == "duplicate key" {
			b := hdr(3, 0, 2).str("k").u32(0)
			b.WriteByte(1)
			b.str("k").u32(0).WriteByte(2)
			tests[i].data = b.Bytes()
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func TestTruncatedRealFile(t *testing.T) {
	data, err := os.ReadFile(sharedPath(t, "models/llama-2-tiny-random.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	full, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 7, 23, 100, 1000, 100000, int(full.DataOffset) - 1} {
		if _, err := Parse(data[:n]); !errors.Is(err, ErrFormat) {
			t.Errorf("truncated to %d: err = %v, want ErrFormat", n, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrFormat) {
		t.Errorf("directory: %v", err)
	}
}

func BenchmarkOpenTinyLlama(b *testing.B) {
	p := sharedPath(b, "models/llama-2-tiny-random.gguf")
	for b.Loop() {
		if _, err := Open(p); err != nil {
			b.Fatal(err)
		}
	}
}
