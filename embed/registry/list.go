package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ragd/ragd/embed/use"
)

// Info is one row of `ragd models list` and GET /v1/models.
type Info struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	Dims      int     `json:"dims,omitempty"`
	SizeBytes int64   `json:"size_bytes"`
	Source    string  `json:"source"`
	Loaded    bool    `json:"loaded"`
	LoadMS    float64 `json:"load_ms,omitempty"`
	// MemoryBytes is the loaded model's resident memory (see
	// embed.Memory); MemoryEstimated marks an estimate.
	MemoryBytes     int64 `json:"memory_bytes,omitempty"`
	MemoryEstimated bool  `json:"memory_estimated,omitempty"`
}

// Installed lists the names of installed models, sorted.
func (r *Registry) Installed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.installedLocked()
}

func (r *Registry) installedLocked() []string {
	var out []string
	if _, err := os.Stat(r.useDir()); err == nil {
		out = append(out, use.ModelID)
	}
	if r.cfg.ModelsDir != "" {
		entries, _ := os.ReadDir(r.cfg.ModelsDir)
		for _, e := range entries {
			if e.IsDir() && CheckName(e.Name()) == nil {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out
}

// List describes installed models (loading none).
func (r *Registry) List() []Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Info
	for _, name := range r.installedLocked() {
		mi := Info{ID: name, Kind: "embedding"}
		if name == use.ModelID {
			mi.Source, mi.Dims = r.useDir(), 512
		} else {
			mi.Source = filepath.Join(r.cfg.ModelsDir, name)
			mi.Dims = hiddenSize(mi.Source)
			if isReranker(mi.Source) {
				mi.Kind = "reranker"
			}
		}
		mi.SizeBytes = treeSize(mi.Source)
		if m, ok := r.models[name]; ok {
			mi.Loaded, mi.LoadMS = true, float64(m.loadTime.Microseconds())/1000
			mi.Dims = m.emb.Info().Dims
			if m.known {
				mi.MemoryBytes, mi.MemoryEstimated = m.memory.Bytes, m.memory.Estimated
			}
		}
		out = append(out, mi)
	}
	return out
}

func treeSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// hiddenSize reads a Hugging Face config.json's hidden_size (0 if unknown).
func hiddenSize(dir string) int {
	var c struct {
		HiddenSize int `json:"hidden_size"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return 0
	}
	return c.HiddenSize
}

// isReranker reports whether a model dir holds a sequence-classification
// (cross-encoder) model.
func isReranker(dir string) bool {
	var c struct {
		Architectures []string `json:"architectures"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return false
	}
	for _, a := range c.Architectures {
		if strings.HasSuffix(a, "ForSequenceClassification") {
			return true
		}
	}
	return false
}
