package cloudflare

import (
	"sort"
	"strings"

	"github.com/ragd/ragd/data"
)

// CatalogEntry maps a Cloudflare model or preset name to what ragd uses.
type CatalogEntry struct {
	// Name is the Cloudflare name ("@cf/baai/bge-small-en-v1.5").
	Name string `json:"name"`
	// Model is the installed ragd embedding model it runs on ("" = none:
	// the name is only a Vectorize preset for its dimensions and metric).
	Model string `json:"model,omitempty"`
	// Dims and Metric are the vector shape (the Vectorize preset).
	Dims   int         `json:"dims"`
	Metric data.Metric `json:"metric"`
}

// ragdPrefix names any installed ragd model: @cf/ragd/<ragd model name>.
const ragdPrefix = "@cf/ragd/"

var catalog = []CatalogEntry{
	{Name: "@cf/baai/bge-small-en-v1.5", Model: "bge-small-en-v1.5", Dims: 384, Metric: data.Cosine},
	{Name: "@cf/baai/bge-base-en-v1.5", Model: "bge-base-en-v1.5", Dims: 768, Metric: data.Cosine},
	{Name: "@cf/baai/bge-large-en-v1.5", Model: "bge-large-en-v1.5", Dims: 1024, Metric: data.Cosine},
	{Name: "@cf/ragd/use-lite", Model: "use-lite", Dims: 512, Metric: data.Cosine},
	{Name: "openai/text-embedding-ada-002", Dims: 1536, Metric: data.Cosine},
	{Name: "cohere/embed-multilingual-v2.0", Dims: 768, Metric: data.Cosine},
}

// Catalog returns the built-in entries, sorted by name.
func Catalog() []CatalogEntry {
	out := append([]CatalogEntry(nil), catalog...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func catalogEntry(name string) (CatalogEntry, bool) {
	for _, e := range catalog {
		if e.Name == name {
			return e, true
		}
	}
	return CatalogEntry{}, false
}

// embeddingModel resolves a Workers AI model name to an installed ragd
// model name: Config.ModelMap first, then the catalog, then
// @cf/ragd/<name>. ok is false when the name is not an embedding model
// ragd knows.
func (h *handler) embeddingModel(name string) (model string, ok bool) {
	if m, ok := h.cfg.ModelMap[name]; ok && m != "" {
		return m, true
	}
	if e, ok := catalogEntry(name); ok && e.Model != "" {
		return e.Model, true
	}
	if rest, ok := strings.CutPrefix(name, ragdPrefix); ok && rest != "" {
		return rest, true
	}
	return "", false
}

// installed lists installed models for error messages.
func (h *handler) installed() string {
	if h.cfg.InstalledModels == nil {
		return ""
	}
	names := h.cfg.InstalledModels()
	if len(names) == 0 {
		return " (no embedding models are installed)"
	}
	return " (installed: " + strings.Join(names, ", ") + "; use @cf/ragd/<name> for any of them)"
}

// metricName is the Vectorize spelling of a metric.
func metricName(m data.Metric) string {
	switch m {
	case data.Dot:
		return "dot-product"
	case data.L2:
		return "euclidean"
	}
	return "cosine"
}

// parseMetric accepts exactly the Vectorize spellings.
func parseMetric(s string) (data.Metric, bool) {
	switch s {
	case "cosine":
		return data.Cosine, true
	case "euclidean":
		return data.L2, true
	case "dot-product":
		return data.Dot, true
	}
	return "", false
}
