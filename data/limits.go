package data

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits every front end applies to the same inputs (/v1, the OpenAI
// routes, /client/v4 and the CLI), so a value refused on one is refused on
// all, with the same message. README.md lists them. Where a Cloudflare
// route documents a tighter limit of its own (a Vectorize id is at most 64
// bytes, its metadata 10 KiB) that route applies both.
const (
	// MaxIDBytes bounds a document or vector id.
	MaxIDBytes = 1024
	// MinChunkSize and MaxChunkSize bound an index's or instance's chunk
	// size in tokens (0 means the default, 256).
	MinChunkSize = 32
	MaxChunkSize = 2048
	// MaxMetadataBytes bounds one document's metadata, as JSON.
	MaxMetadataBytes = 64 << 10
	// MaxTemperature bounds a generation's sampling temperature (OpenAI's
	// range; Workers AI's own route keeps Cloudflare's 0..5).
	MaxTemperature = 2
)

// CheckID refuses an id that is empty, longer than maxBytes (MaxIDBytes
// when 0), not valid UTF-8, or that holds control characters or U+FFFD.
// JSON decoding turns invalid UTF-8 and lone surrogates into U+FFFD, so
// refusing it keeps two different raw ids ("x\xff", "x\ud800") from
// becoming the same stored id.
func CheckID(what, id string, maxBytes int) error {
	if maxBytes <= 0 {
		maxBytes = MaxIDBytes
	}
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case len(id) > maxBytes:
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalid, what, len(id), maxBytes)
	case !utf8.ValidString(id) || strings.ContainsRune(id, utf8.RuneError):
		return fmt.Errorf("%w: %s %q is not valid UTF-8 (invalid bytes, lone surrogates and U+FFFD are refused)", ErrInvalid, what, id)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: %s %q holds control characters", ErrInvalid, what, id)
	}
	return nil
}

// CheckChunking refuses a chunk size outside MinChunkSize..MaxChunkSize
// (0: the default) and an overlap that is negative or not below the size.
func CheckChunking(size, overlap int) error {
	if size != 0 && (size < MinChunkSize || size > MaxChunkSize) {
		return fmt.Errorf("%w: chunk_size %d out of range %d..%d (tokens)", ErrInvalid, size, MinChunkSize, MaxChunkSize)
	}
	if overlap < 0 || (size > 0 && overlap >= size) {
		return fmt.Errorf("%w: chunk_overlap %d must be 0..chunk_size-1 (chunk_size %d)", ErrInvalid, overlap, size)
	}
	return nil
}

// CheckMetadata refuses metadata over MaxMetadataBytes as JSON.
func CheckMetadata(m map[string]any) error {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: metadata: %w", ErrInvalid, err)
	}
	if len(b) > MaxMetadataBytes {
		return fmt.Errorf("%w: metadata is %d bytes of JSON, limit %d", ErrTooLarge, len(b), MaxMetadataBytes)
	}
	return nil
}

// CheckTemperature refuses a temperature outside 0..MaxTemperature.
func CheckTemperature(t float64) error {
	if math.IsNaN(t) || t < 0 || t > MaxTemperature {
		return fmt.Errorf("%w: temperature %v out of range 0..%d", ErrInvalid, t, MaxTemperature)
	}
	return nil
}
