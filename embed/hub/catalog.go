package hub

import (
	"regexp"
	"slices"
	"strings"
)

// Kind says what a model computes.
type Kind string

// Model kinds.
const (
	// Embedding models map a text to a vector.
	Embedding Kind = "embedding"
	// Reranker models (cross-encoders) score a (query, passage) pair.
	Reranker Kind = "reranker"
)

// Pooling is how token vectors become one sentence vector.
type Pooling string

// Pooling modes.
const (
	// PoolCLS takes the [CLS] token's vector (BGE).
	PoolCLS Pooling = "cls"
	// PoolMean averages the token vectors under the attention mask
	// (MiniLM, E5, GTE).
	PoolMean Pooling = "mean"
)

// File is a file of a model repository.
type File struct {
	// Path inside the repository, e.g. "onnx/model.onnx".
	Path string `json:"path"`
	// Optional files may be missing (404) from the repository.
	Optional bool `json:"optional,omitempty"`
	// Alternatives are tried in order when Path is missing; the first
	// that exists is downloaded under its own path.
	Alternatives []string `json:"alternatives,omitempty"`
	// SHA256 pins the file's hex SHA-256; it overrides the server's
	// checksum headers.
	SHA256 string `json:"sha256,omitempty"`
}

// DefaultFiles are the files a BERT-family ONNX model needs.
var DefaultFiles = []File{
	{Path: "config.json"},
	{Path: "tokenizer.json", Alternatives: []string{"vocab.txt"}},
	{Path: "tokenizer_config.json", Optional: true},
	{Path: "special_tokens_map.json", Optional: true},
	{Path: "vocab.txt", Optional: true},
	{Path: "modules.json", Optional: true},
	{Path: "1_Pooling/config.json", Optional: true},
	{Path: "sentence_bert_config.json", Optional: true},
	{Path: "config_sentence_transformers.json", Optional: true},
	{Path: "onnx/model.onnx", Alternatives: []string{"model.onnx"}},
}

// Model describes a model ragd knows how to run.
type Model struct {
	// Name is ragd's short name and the installed directory's name.
	Name string `json:"name"`
	// Repo is the hub repository, "owner/name".
	Repo string `json:"repo"`
	// Kind is Embedding or Reranker.
	Kind Kind `json:"kind"`
	// Dims is the output vector length (1 for rerankers: a score).
	Dims int `json:"dims"`
	// Pooling is the sentence pooling of embedding models.
	Pooling Pooling `json:"pooling,omitempty"`
	// Normalize: vectors are L2-normalised after pooling.
	Normalize bool `json:"normalize,omitempty"`
	// MaxTokens is the longest input, special tokens included.
	MaxTokens int `json:"max_tokens"`
	// QueryPrefix and PassagePrefix are prepended to inputs of each kind.
	QueryPrefix   string `json:"query_prefix,omitempty"`
	PassagePrefix string `json:"passage_prefix,omitempty"`
	// Aliases are other names that resolve to this model (Workers AI ids).
	Aliases []string `json:"aliases,omitempty"`
	// Files overrides DefaultFiles.
	Files []File `json:"files,omitempty"`
}

// FileList is m.Files, or DefaultFiles when m has none.
func (m Model) FileList() []File {
	if len(m.Files) > 0 {
		return m.Files
	}
	return DefaultFiles
}

const bgeQuery = "Represent this sentence for searching relevant passages: "

// catalog is the built-in model list.
var catalog = []Model{
	{Name: "bge-small-en-v1.5", Repo: "BAAI/bge-small-en-v1.5", Kind: Embedding, Dims: 384,
		Pooling: PoolCLS, Normalize: true, MaxTokens: 512, QueryPrefix: bgeQuery,
		Aliases: []string{"@cf/baai/bge-small-en-v1.5"}},
	{Name: "bge-base-en-v1.5", Repo: "BAAI/bge-base-en-v1.5", Kind: Embedding, Dims: 768,
		Pooling: PoolCLS, Normalize: true, MaxTokens: 512, QueryPrefix: bgeQuery,
		Aliases: []string{"@cf/baai/bge-base-en-v1.5"}},
	{Name: "all-MiniLM-L6-v2", Repo: "sentence-transformers/all-MiniLM-L6-v2", Kind: Embedding, Dims: 384,
		Pooling: PoolMean, Normalize: true, MaxTokens: 256},
	{Name: "e5-small-v2", Repo: "intfloat/e5-small-v2", Kind: Embedding, Dims: 384,
		Pooling: PoolMean, Normalize: true, MaxTokens: 512, QueryPrefix: "query: ", PassagePrefix: "passage: "},
	{Name: "gte-small", Repo: "thenlper/gte-small", Kind: Embedding, Dims: 384,
		Pooling: PoolMean, Normalize: true, MaxTokens: 512},
	{Name: "bge-reranker-base", Repo: "BAAI/bge-reranker-base", Kind: Reranker, Dims: 1,
		Pooling: PoolCLS, MaxTokens: 512, Aliases: []string{"@cf/baai/bge-reranker-base"}},
}

// Catalog returns a copy of the built-in model list.
func Catalog() []Model {
	out := make([]Model, len(catalog))
	for i, m := range catalog {
		m.Aliases = slices.Clone(m.Aliases)
		m.Files = slices.Clone(m.Files)
		out[i] = m
	}
	return out
}

// Lookup finds a model in list by name, alias or repository, ignoring
// case.
func Lookup(list []Model, name string) (Model, bool) {
	for _, m := range list {
		if strings.EqualFold(m.Name, name) || strings.EqualFold(m.Repo, name) {
			return m, true
		}
		for _, a := range m.Aliases {
			if strings.EqualFold(a, name) {
				return m, true
			}
		}
	}
	return Model{}, false
}

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// validRepo reports whether s is an "owner/name" repository id.
func validRepo(s string) bool {
	return repoPattern.MatchString(s) && !strings.Contains(s, "..")
}

// dirName is the directory a repository outside the catalog installs to.
func dirName(repo string) string { return strings.ReplaceAll(repo, "/", "--") }
