package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

// ManifestFile is written into every installed model directory.
const ManifestFile = "ragd-model.json"

// FileInfo is a downloaded file.
type FileInfo struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// Manifest records what was installed, from where.
type Manifest struct {
	Model
	// Revision is the hub revision that was pulled.
	Revision string `json:"revision"`
	// Source is {endpoint}/{repo}.
	Source string `json:"source"`
	// Files are the downloaded files.
	Files    []FileInfo `json:"files"`
	PulledAt time.Time  `json:"pulled_at"`
}

// Installed is a model found in the models directory.
type Installed struct {
	Manifest
	// Dir is the model's directory.
	Dir string `json:"dir"`
	// Size is the total size of its files in bytes.
	Size int64 `json:"size"`
}

// ONNXPath is the path of the model's ONNX graph, "" when it has none.
func (i Installed) ONNXPath() string {
	for _, f := range i.Files {
		if strings.HasSuffix(f.Path, ".onnx") {
			return filepath.Join(i.Dir, filepath.FromSlash(f.Path))
		}
	}
	return ""
}

func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("hub: manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("hub: manifest: %w", err)
	}
	return nil
}

// List returns the models installed in modelsDir (directories holding a
// manifest), sorted by name. A missing modelsDir lists nothing.
func List(modelsDir string) ([]Installed, error) {
	entries, err := os.ReadDir(modelsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hub: list %s: %w", modelsDir, err)
	}
	var out []Installed
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		in, err := read(filepath.Join(modelsDir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b Installed) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Find returns an installed model by name, alias or repository (aliases
// and repositories of catalog models resolve through catalog; nil means
// Catalog()).
func Find(modelsDir string, catalog []Model, name string) (Installed, error) {
	if catalog == nil {
		catalog = Catalog()
	}
	dir := name
	if m, ok := Lookup(catalog, name); ok {
		dir = m.Name
	} else if validRepo(name) {
		dir = dirName(name)
	}
	if dir == "" || strings.ContainsAny(dir, `/\`) || strings.HasPrefix(dir, ".") {
		return Installed{}, fmt.Errorf("hub: model %q: %w: %w", name, embed.ErrModelNotFound, data.ErrNotFound)
	}
	in, err := read(filepath.Join(modelsDir, dir))
	if errors.Is(err, fs.ErrNotExist) {
		return Installed{}, fmt.Errorf("hub: model %q is not installed (run: ragd models pull %s): %w: %w",
			name, name, embed.ErrModelNotFound, data.ErrNotFound)
	}
	return in, err
}

func read(dir string) (Installed, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return Installed{}, err
	}
	var in Installed
	if err := json.Unmarshal(b, &in.Manifest); err != nil {
		return Installed{}, fmt.Errorf("hub: %s: %w: %w", dir, embed.ErrBadModel, err)
	}
	in.Dir = dir
	// The size is best effort: the callback skips entries it cannot stat
	// and never returns an error, so neither does the walk.
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if st, err := d.Info(); err == nil {
				in.Size += st.Size()
			}
		}
		return nil
	})
	return in, nil
}

// fillFromConfig completes the metadata of a model outside the catalog
// from its config.json (hidden size, position limit) and its
// sentence-transformers pooling config.
func fillFromConfig(m *Model, dir string) {
	var cfg struct {
		HiddenSize            int               `json:"hidden_size"`
		MaxPositionEmbeddings int               `json:"max_position_embeddings"`
		Architectures         []string          `json:"architectures"`
		ID2Label              map[string]string `json:"id2label"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		// Best effort: a malformed config.json leaves the fields it could
		// not fill at zero, and the defaults below apply.
		_ = json.Unmarshal(b, &cfg)
	}
	if m.MaxTokens == 0 && cfg.MaxPositionEmbeddings > 0 {
		m.MaxTokens = min(cfg.MaxPositionEmbeddings, 512)
	}
	if m.Dims == 0 {
		for _, a := range cfg.Architectures {
			if strings.HasSuffix(a, "ForSequenceClassification") {
				m.Kind = Reranker
				m.Dims = max(len(cfg.ID2Label), 1)
			}
		}
		if m.Dims == 0 {
			m.Dims = cfg.HiddenSize
		}
	}
	if m.Pooling == "" && m.Kind == Embedding {
		var pool struct {
			CLS  bool `json:"pooling_mode_cls_token"`
			Mean bool `json:"pooling_mode_mean_tokens"`
		}
		if b, err := os.ReadFile(filepath.Join(dir, "1_Pooling", "config.json")); err == nil {
			// Best effort, as for config.json: mean pooling is the default.
			_ = json.Unmarshal(b, &pool)
		}
		m.Pooling = PoolMean
		if pool.CLS && !pool.Mean {
			m.Pooling = PoolCLS
		}
		if _, err := os.Stat(filepath.Join(dir, "modules.json")); err == nil {
			var mods []struct {
				Type string `json:"type"`
			}
			if b, err := os.ReadFile(filepath.Join(dir, "modules.json")); err == nil && json.Unmarshal(b, &mods) == nil {
				for _, md := range mods {
					if strings.HasSuffix(md.Type, "Normalize") {
						m.Normalize = true
					}
				}
			}
		}
	}
}
