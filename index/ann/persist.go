package ann

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"

	"github.com/ragd/ragd/data"
)

// File format (little-endian), version 2:
//
//	magic "RAGDANN\x00", u32 version
//	header: u64 fields (dims, metric, M, efConstruction, efSearch,
//	        exactBelow, quantize, graph, nodes, deleted, entry point,
//	        top level, len(upper), namespaces)
//	slabs:  if not quantized: vectors f32[n*dims]; if quantized: codes
//	        i8[n*dims], scales f32[n], squared norms f32[n] (euclidean
//	        only); levels u8[n], flags u8[n]; if graph: links0
//	        u32[n*(2M+1)], upOff u32[n], upper u32[len]; namespace of
//	        node u32[n]
//	strings: namespace names, ids, JSON metadata, each as u32 lengths
//	        then one blob
//	u32 CRC-32C of everything before it
//	if quantized: zero padding to a multiple of floatAlign, vectors
//	        f32[n*dims], u32 CRC-32C of those vectors
//	end of file.
//
// The big slabs are read with io.ReadFull straight into the []float32 /
// []uint32 memory. A quantized index maps its float vectors from the file
// instead (they are only read to re-score a search's candidates), so its
// resident vector memory is the int8 codes. Anything unexpected, an older
// version included, is reported as ErrCorrupt. Version 1 kept the float
// vectors of quantized indexes inside the checksummed slabs.
const (
	fileMagic   = "RAGDANN\x00"
	fileVersion = 2
	// floatAlign aligns the mapped float section (a multiple of the page
	// size on every supported platform).
	floatAlign = 1 << 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

func asBytes[T any](x []T) []byte {
	if len(x) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), len(x)*int(unsafe.Sizeof(z)))
}

var metricCode = map[data.Metric]uint64{data.Cosine: 1, data.Dot: 2, data.L2: 3}

// Save writes the index to path crash-safely: a temporary file in the same
// directory is written, fsynced and renamed over path, then the directory
// is fsynced. Searches continue meanwhile; writers wait.
func (ix *Index) Save(path string) error {
	if !littleEndian() {
		return fmt.Errorf("ann save: big-endian hosts: %w", data.ErrUnsupported)
	}
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("ann save: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	floatsOff, err := ix.write(tmp)
	if err != nil {
		return fmt.Errorf("ann save %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("ann save: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ann save: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("ann save: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("ann save: sync dir: %w", err)
		}
	}
	if ix.s.quant {
		// serve the float vectors from the file just written: the heap
		// copies of everything saved are released
		if err := ix.mapFloats(path, floatsOff); err != nil {
			ix.cfg.Logger.Warn("ann: float vectors stay in memory", "path", path, "err", err)
		}
	}
	return nil
}

// mapFloats points the float vectors of the nodes saved in path (all
// nodes: the caller holds wmu) at a mapping of its float section.
func (ix *Index) mapFloats(path string, off int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	s := ix.s
	m, err := mapFile(f, off, int64(s.n)*int64(s.dims)*4)
	if err != nil {
		return err
	}
	ix.mu.Lock()
	old := s.setFloatMapping(m)
	ix.mu.Unlock()
	if old != nil {
		old.close() // no search runs on it any more: it was swapped under the write lock
	}
	return nil
}

// setFloatMapping makes the mapping (s.n nodes' float vectors) the
// storage of the float vectors and returns the previous mapping (caller
// holds the index write lock or owns s alone).
func (s *state) setFloatMapping(m *mapping) *mapping {
	var fs []float32
	if len(m.b) > 0 {
		fs = unsafe.Slice((*float32)(unsafe.Pointer(&m.b[0])), len(m.b)/4)
	}
	s.vecs.mapPages(fs, s.n, m.mapped)
	old := s.fmap
	s.fmap = m
	runtime.AddCleanup(s, func(m *mapping) { m.close() }, m)
	return old
}

// write writes the index and returns the offset of the float section
// (quantized indexes).
func (ix *Index) write(f io.Writer) (int64, error) {
	s := ix.s
	cw := &countWriter{w: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	crc := crc32.New(castagnoli)
	w := io.MultiWriter(bw, crc)
	put := func(b []byte) error { _, err := w.Write(b); return err }
	u64 := func(v uint64) error { return put(binary.LittleEndian.AppendUint64(nil, v)) }
	b2u := func(b bool) uint64 {
		if b {
			return 1
		}
		return 0
	}
	if err := put(append([]byte(fileMagic), binary.LittleEndian.AppendUint32(nil, fileVersion)...)); err != nil {
		return 0, err
	}
	ep, top := s.entry()
	for _, v := range []uint64{uint64(s.dims), metricCode[s.metric], uint64(s.m), uint64(ix.cfg.EfConstruction),
		uint64(ix.cfg.EfSearch), uint64(int64(ix.cfg.ExactBelow)), b2u(s.quant), b2u(s.graph), uint64(s.n),
		uint64(s.deleted), uint64(ep), uint64(int64(top)), uint64(len(s.upper)), uint64(len(s.nsNames))} {
		if err := u64(v); err != nil {
			return 0, err
		}
	}
	var blocks [][]byte
	add := func(b []byte) { blocks = append(blocks, b) }
	if !s.quant {
		s.vecs.chunks(s.n, func(b []float32) { add(asBytes(b)) })
	} else {
		s.codes.chunks(s.n, func(b []int8) { add(asBytes(b)) })
		add(asBytes(s.scales))
		if s.metric == data.L2 {
			add(asBytes(s.sqn))
		}
	}
	add(s.levels)
	add(s.flags)
	if s.graph {
		s.links0.chunks(s.n, func(b []uint32) { add(asBytes(b)) })
		add(asBytes(s.upOff))
		add(asBytes(s.upper))
	}
	add(asBytes(s.nsOf))
	for _, b := range blocks {
		if err := put(b); err != nil {
			return 0, err
		}
	}
	metaJSON := make([]string, s.n)
	for i, m := range s.meta {
		if m == nil {
			continue
		}
		b, err := json.Marshal(m)
		if err != nil {
			return 0, fmt.Errorf("metadata of %q: %w", s.ids[i], err)
		}
		metaJSON[i] = string(b)
	}
	for _, strs := range [][]string{s.nsNames, s.ids, metaJSON} {
		if err := putStrings(put, strs); err != nil {
			return 0, err
		}
	}
	if _, err := bw.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return 0, err
	}
	if !s.quant {
		return 0, bw.Flush()
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	off := alignUp(cw.n)
	if _, err := cw.Write(make([]byte, off-cw.n)); err != nil {
		return 0, err
	}
	fcrc := crc32.New(castagnoli)
	fw := io.MultiWriter(bw, fcrc)
	var werr error
	s.vecs.chunks(s.n, func(b []float32) {
		if werr == nil {
			_, werr = fw.Write(asBytes(b))
		}
	})
	if werr != nil {
		return 0, werr
	}
	if _, err := bw.Write(binary.LittleEndian.AppendUint32(nil, fcrc.Sum32())); err != nil {
		return 0, err
	}
	return off, bw.Flush()
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	return k, err
}

func alignUp(n int64) int64 { return (n + floatAlign - 1) / floatAlign * floatAlign }

func putStrings(put func([]byte) error, strs []string) error {
	lens := make([]uint32, len(strs))
	total := 0
	for i, x := range strs {
		lens[i] = uint32(len(x))
		total += len(x)
	}
	if err := put(asBytes(lens)); err != nil {
		return err
	}
	blob := make([]byte, 0, total)
	for _, x := range strs {
		blob = append(blob, x...)
	}
	return put(blob)
}

// crcReader hashes everything read through it.
type crcReader struct {
	r io.Reader
	h hash.Hash32
	n int64 // bytes read
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// corrupt wraps a decoding problem in ErrCorrupt.
func corrupt(path, what string, err error) error {
	if err == nil {
		return fmt.Errorf("ann load %s: %s: %w", path, what, ErrCorrupt)
	}
	return fmt.Errorf("ann load %s: %s: %w (%w)", path, what, ErrCorrupt, err)
}

// Load reads an index written by Save. Runtime-only fields of the
// configuration (Workers, Logger, CompactRatio, Seed) take their defaults.
// A damaged, truncated or unknown file returns an error wrapping
// ErrCorrupt; a missing file wraps os.ErrNotExist.
func Load(path string) (*Index, error) {
	if !littleEndian() {
		return nil, fmt.Errorf("ann load: big-endian hosts: %w", data.ErrUnsupported)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ann load: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	cr := &crcReader{r: bufio.NewReaderSize(f, 1<<20), h: crc32.New(castagnoli)}
	read := func(b []byte) error {
		_, err := io.ReadFull(cr, b)
		return err
	}
	head := make([]byte, 12+14*8)
	if err := read(head); err != nil {
		return nil, corrupt(path, "header", err)
	}
	if string(head[:8]) != fileMagic {
		return nil, corrupt(path, "bad magic", nil)
	}
	if v := binary.LittleEndian.Uint32(head[8:]); v != fileVersion {
		return nil, corrupt(path, fmt.Sprintf("unsupported version %d", v), nil)
	}
	h := make([]uint64, 14)
	for i := range h {
		h[i] = binary.LittleEndian.Uint64(head[12+8*i:])
	}
	var metric data.Metric
	for m, c := range metricCode {
		if c == h[1] {
			metric = m
		}
	}
	cfg := Config{Dims: int(h[0]), Metric: metric, M: int(h[2]), EfConstruction: int(h[3]), EfSearch: int(h[4]),
		ExactBelow: int(int64(h[5])), Quantize: h[6] == 1}
	c, err := cfg.withDefaults()
	if err != nil || metric == "" || h[6] > 1 || h[7] > 1 {
		return nil, corrupt(path, "bad configuration", err)
	}
	n, upperLen, nsCount := h[8], h[12], h[13]
	// refuse sizes the file cannot hold before allocating
	need := n*uint64(c.Dims) + upperLen*4 + nsCount*4
	if size >= 0 && need > uint64(size) || n > 1<<31 || h[9] > n {
		return nil, corrupt(path, "sizes exceed the file", nil)
	}
	s := newState(&c)
	s.graph = h[7] == 1
	s.n, s.deleted = int(n), int(h[9])
	s.ep, s.topLevel = uint32(h[10]), int(int64(h[11]))
	nn := int(n)
	var bufs [][]byte
	add := func(b []byte) { bufs = append(bufs, b) }
	if !s.quant {
		s.vecs.exact(nn)
		s.vecs.chunks(nn, func(b []float32) { add(asBytes(b)) })
	} else {
		s.codes.exact(nn)
		s.codes.chunks(nn, func(b []int8) { add(asBytes(b)) })
		s.scales = make([]float32, nn)
		add(asBytes(s.scales))
		if metric == data.L2 {
			s.sqn = make([]float32, nn)
			add(asBytes(s.sqn))
		}
	}
	s.levels, s.flags = make([]uint8, nn), make([]uint8, nn)
	add(s.levels)
	add(s.flags)
	if s.graph {
		s.links0.exact(nn)
		s.links0.chunks(nn, func(b []uint32) { add(asBytes(b)) })
		s.upOff, s.upper = make([]uint32, nn), make([]uint32, upperLen)
		add(asBytes(s.upOff))
		add(asBytes(s.upper))
	}
	s.nsOf = make([]uint32, nn)
	add(asBytes(s.nsOf))
	for _, b := range bufs {
		if err := read(b); err != nil {
			return nil, corrupt(path, "slabs", err)
		}
	}
	nsNames, err := readStrings(read, int(nsCount), size)
	if err != nil {
		return nil, corrupt(path, "namespaces", err)
	}
	ids, err := readStrings(read, nn, size)
	if err != nil {
		return nil, corrupt(path, "ids", err)
	}
	metas, err := readStrings(read, nn, size)
	if err != nil {
		return nil, corrupt(path, "metadata", err)
	}
	sum := cr.h.Sum32()
	tail := make([]byte, 4)
	if _, err := io.ReadFull(cr, tail); err != nil {
		return nil, corrupt(path, "checksum", err)
	}
	if binary.LittleEndian.Uint32(tail) != sum {
		return nil, corrupt(path, "checksum mismatch", nil)
	}
	if !s.quant {
		if k, err := cr.Read(make([]byte, 1)); k != 0 || !errors.Is(err, io.EOF) {
			return nil, corrupt(path, "trailing bytes", nil)
		}
	} else if err := loadFloats(f, s, cr.n, size); err != nil {
		return nil, corrupt(path, "float vectors", err)
	}
	if err := s.rebuild(nsNames, ids, metas); err != nil {
		if s.fmap != nil {
			s.fmap.close()
		}
		return nil, corrupt(path, "content", err)
	}
	if s.graph {
		s.countInDegrees()
		if k := s.repairAll(c.EfConstruction); k > 0 {
			c.Logger.Info("ann: relinked unreachable nodes", "path", path, "nodes", k)
		}
	}
	return &Index{cfg: c, s: s}, nil
}

// loadFloats checks the float section that follows the checksummed part
// ending at end (its size and its own checksum, read through a small
// buffer, not into the index) and maps it as s's float vectors.
func loadFloats(f *os.File, s *state, end, size int64) error {
	off := alignUp(end)
	n := int64(s.n) * int64(s.dims) * 4
	if size != off+n+4 {
		return fmt.Errorf("file is %d bytes, want %d", size, off+n+4)
	}
	crc := crc32.New(castagnoli)
	buf := make([]byte, min(n, 1<<20))
	for pos := off; pos < off+n; {
		b := buf[:min(int64(len(buf)), off+n-pos)]
		if _, err := f.ReadAt(b, pos); err != nil {
			return err
		}
		crc.Write(b)
		pos += int64(len(b))
	}
	tail := make([]byte, 4)
	if _, err := f.ReadAt(tail, off+n); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(tail) != crc.Sum32() {
		return errors.New("checksum mismatch")
	}
	m, err := mapFile(f, off, n)
	if err != nil {
		return err
	}
	s.setFloatMapping(m)
	return nil
}

func readStrings(read func([]byte) error, n int, size int64) ([]string, error) {
	lens := make([]uint32, n)
	if err := read(asBytes(lens)); err != nil {
		return nil, err
	}
	total := uint64(0)
	for _, l := range lens {
		total += uint64(l)
	}
	if size >= 0 && total > uint64(size) {
		return nil, errors.New("string lengths exceed the file")
	}
	blob := make([]byte, total)
	if err := read(blob); err != nil {
		return nil, err
	}
	out := make([]string, n)
	all := string(blob)
	off := 0
	for i, l := range lens {
		out[i] = all[off : off+int(l)]
		off += int(l)
	}
	return out, nil
}

// rebuild derives the maps and postings from the loaded slabs and checks
// that every stored reference is in range.
func (s *state) rebuild(nsNames, ids, metas []string) error {
	if len(nsNames) == 0 || nsNames[0] != "" {
		return errors.New("namespace table")
	}
	s.nsNames = nsNames
	s.nsByName = make(map[string]uint32, len(nsNames))
	s.nsNodes = make([][]uint32, len(nsNames))
	for i, name := range nsNames {
		s.nsByName[name] = uint32(i)
	}
	s.ids = ids
	s.meta = make([]map[string]any, s.n)
	s.byID = make(map[string]uint32, s.n-s.deleted)
	deleted := 0
	for i := 0; i < s.n; i++ {
		id := uint32(i)
		if int(s.nsOf[i]) >= len(nsNames) || s.levels[i] > maxLevel {
			return fmt.Errorf("node %d out of range", i)
		}
		if s.isDeleted(id) {
			deleted++
			continue
		}
		s.byID[ids[i]] = id
		s.nsNodes[s.nsOf[i]] = append(s.nsNodes[s.nsOf[i]], id)
		if metas[i] != "" {
			var m map[string]any
			if err := json.Unmarshal([]byte(metas[i]), &m); err != nil {
				return fmt.Errorf("node %d metadata: %w", i, err)
			}
			s.meta[i] = m
			s.indexMeta(id, m)
		}
	}
	if deleted != s.deleted || len(s.byID) != s.n-deleted {
		return errors.New("deleted count or duplicate ids")
	}
	if !s.graph {
		return nil
	}
	if s.n > 0 && (int(s.ep) >= s.n || s.topLevel != int(s.levels[s.ep])) {
		return errors.New("entry point")
	}
	if s.n == 0 && s.topLevel != -1 {
		return errors.New("entry point of empty graph")
	}
	need := uint32(0)
	for i := 0; i < s.n; i++ {
		if l := int(s.levels[i]); l > 0 {
			if uint64(s.upOff[i])+uint64(l*(s.m+1)) > uint64(len(s.upper)) {
				return fmt.Errorf("node %d upper links out of range", i)
			}
			need += uint32(l * (s.m + 1))
		}
		for l := 0; l <= int(s.levels[i]); l++ {
			lst := s.list(uint32(i), l)
			if int(lst[0]) > len(lst)-1 {
				return fmt.Errorf("node %d layer %d count", i, l)
			}
			for _, nb := range lst[1 : 1+lst[0]] {
				if int(nb) >= s.n || int(s.levels[nb]) < l {
					return fmt.Errorf("node %d layer %d neighbour out of range", i, l)
				}
			}
		}
	}
	if int(need) != len(s.upper) {
		return errors.New("upper links size")
	}
	return nil
}
