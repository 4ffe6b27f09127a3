package data

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Document is one source document: a file, a JSONL record or an API upload.
type Document struct {
	// ID is stable: the given id, else the source path.
	ID string `json:"id"`
	// Title is the document title (HTML <title>, first markdown heading, JSONL title).
	Title string `json:"title,omitempty"`
	// Text is the extracted plain text that chunk offsets refer to.
	Text string `json:"text"`
	// Source is where it came from (file path, URL, "stdin", "api").
	Source string `json:"source,omitempty"`
	// Metadata holds user fields; values are strings, float64s, bools or
	// slices of those, as JSON decodes them.
	Metadata map[string]any `json:"metadata,omitempty"`
	// Hash is the hex SHA-256 of Title and Text (see ContentHash).
	Hash string `json:"hash,omitempty"`
	// UpdatedAt is when the document was last written.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Chunks are filled by the chunker; stored separately.
	Chunks []Chunk `json:"chunks,omitempty"`
}

// ContentHash returns the hex SHA-256 over a document's title, text and
// metadata-independent content. Re-ingesting a document whose hash is
// unchanged is a no-op.
func ContentHash(title, text string) string {
	h := sha256.New()
	h.Write([]byte(title))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))
}

// TextHash is the hex SHA-256 of one text; the embedding cache keys on it.
func TextHash(text string) string {
	s := sha256.Sum256([]byte(text))
	return hex.EncodeToString(s[:])
}

// Chunk is a span of a document's text: the unit that is indexed and retrieved.
type Chunk struct {
	// ID is DocID + "#" + Ordinal (see ChunkID).
	ID      string `json:"id"`
	DocID   string `json:"doc_id"`
	Ordinal int    `json:"ordinal"`
	Text    string `json:"text"`
	// Headings is the markdown heading path the chunk sits under.
	Headings []string `json:"headings,omitempty"`
	// Start and End are byte offsets of Text within Document.Text.
	Start int `json:"start"`
	End   int `json:"end"`
	// Vector is the chunk's embedding, when the index has a model.
	Vector []float32 `json:"vector,omitempty"`
}

// ChunkID builds the id of a document's n-th chunk.
func ChunkID(docID string, ordinal int) string {
	return docID + "#" + itoa(ordinal)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
