package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

func (b *Backend) ensureRegistry(ctx context.Context) error {
	return b.ensureClass(ctx, &models.Class{
		Class:             registryClass,
		Description:       "ragd: one object per index (configuration and version)",
		Vectorizer:        "none",
		VectorIndexConfig: map[string]any{"skip": true},
		ReplicationConfig: &models.ReplicationConfig{Factor: b.replication()},
		Properties: []*models.Property{
			textProp("name", false, true),
			textProp("config", false, false),
			textProp("version", false, false),
		},
	})
}

// ensureClass creates one of ragd's own collections unless it exists;
// another replica creating it at the same moment is no error.
func (b *Backend) ensureClass(ctx context.Context, cls *models.Class) error {
	ok, err := b.c.Schema().ClassExistenceChecker().WithClassName(cls.Class).Do(ctx)
	if err != nil {
		return wrap("schema", err)
	}
	if ok {
		return nil
	}
	if err := b.c.Schema().ClassCreator().WithClass(cls).Do(ctx); err != nil {
		if ok, err2 := b.c.Schema().ClassExistenceChecker().WithClassName(cls.Class).Do(ctx); err2 == nil && ok {
			return nil
		}
		return wrap("create collection "+cls.Class, err)
	}
	return nil
}

func (b *Backend) readRegistry(ctx context.Context, name string) (regEntry, error) {
	s := b.c.Experimental().Search().WithCollection(registryClass).WithConsistencyLevel(b.cl).WithLimit(2).
		WithProperties("name", "config", "version")
	if name != "" {
		s = s.WithWhere(filters.Where().WithPath([]string{"name"}).WithOperator(filters.Equal).WithValueText(name))
	}
	res, err := s.Do(ctx)
	if err != nil {
		return regEntry{}, wrap("registry", err)
	}
	for _, r := range res {
		e, err := parseRegistry(r.Properties)
		if err != nil {
			return regEntry{}, err
		}
		if e.cfg.Name == name {
			b.mu.Lock()
			b.cfgs[name] = cachedConfig{cfg: e.cfg, at: time.Now()}
			b.mu.Unlock()
			return e, nil
		}
	}
	b.mu.Lock()
	delete(b.cfgs, name)
	b.mu.Unlock()
	return regEntry{}, fmt.Errorf("index %q: %w", name, data.ErrNotFound)
}

func parseRegistry(p map[string]any) (regEntry, error) {
	var e regEntry
	cfgJSON, _ := p["config"].(string)
	if err := json.Unmarshal([]byte(cfgJSON), &e.cfg); err != nil {
		return e, fmt.Errorf("weaviate registry: bad config for %v: %w", p["name"], err)
	}
	v, _ := p["version"].(string)
	e.version, _ = strconv.ParseUint(v, 10, 64)
	return e, nil
}

func (b *Backend) listRegistry(ctx context.Context) ([]regEntry, error) {
	var out []regEntry
	after := ""
	for {
		s := b.c.Experimental().Search().WithCollection(registryClass).WithConsistencyLevel(b.cl).WithLimit(1000).
			WithProperties("name", "config", "version")
		if after != "" {
			s = s.WithAfter(after)
		}
		res, err := s.Do(ctx)
		if err != nil {
			return nil, wrap("registry", err)
		}
		for _, r := range res {
			e, err := parseRegistry(r.Properties)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			after = r.ID
		}
		if len(res) < 1000 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cfg.Name < out[j].cfg.Name })
	return out, nil
}

// writeRegistry upserts an index's registry object with a new version.
func (b *Backend) writeRegistry(ctx context.Context, cfg data.IndexConfig, prev uint64) (uint64, error) {
	v := max(uint64(time.Now().UnixMicro()), prev+1)
	cj, err := json.Marshal(cfg)
	if err != nil {
		return 0, err
	}
	obj := &models.Object{Class: registryClass, ID: strfmtUUID(objectID("index", cfg.Name)),
		Properties: map[string]any{"name": cfg.Name, "config": string(cj), "version": strconv.FormatUint(v, 10)}}
	if err := b.batch(ctx, []*models.Object{obj}); err != nil {
		return 0, err
	}
	b.mu.Lock()
	b.cfgs[cfg.Name] = cachedConfig{cfg: cfg, at: time.Now()}
	b.mu.Unlock()
	return v, nil
}

// config returns an index's configuration, from a short-lived cache.
func (b *Backend) config(ctx context.Context, name string) (data.IndexConfig, error) {
	if b.closed.Load() {
		return data.IndexConfig{}, data.ErrClosed
	}
	b.mu.Lock()
	cc, ok := b.cfgs[name]
	b.mu.Unlock()
	if ok && time.Since(cc.at) < configTTL {
		return cc.cfg, nil
	}
	e, err := b.readRegistry(ctx, name)
	return e.cfg, err
}

// IndexConfig returns an index's configuration (cached for a moment).
func (b *Backend) IndexConfig(ctx context.Context, name string) (data.IndexConfig, error) {
	return b.config(ctx, name)
}

// CreateIndex creates the index's collections and registers it.
func (b *Backend) CreateIndex(ctx context.Context, cfg data.IndexConfig) (data.IndexConfig, error) {
	cfg, err := index.CheckIndexConfig(cfg)
	if err != nil {
		return cfg, err
	}
	if _, err := b.readRegistry(ctx, cfg.Name); err == nil {
		return cfg, fmt.Errorf("index %q: %w", cfg.Name, data.ErrExists)
	} else if !errors.Is(err, data.ErrNotFound) {
		return cfg, err
	}
	if b.cfg.Replication == 0 {
		if err := b.countNodes(ctx); err != nil {
			return cfg, err
		}
	}
	// Leftovers of an index dropped half-way must not leak into this one.
	for _, cls := range []string{chunkClass(cfg.Name), docClass(cfg.Name)} {
		if err := b.dropClass(ctx, cls); err != nil {
			return cfg, err
		}
	}
	distance := map[data.Metric]string{data.Cosine: "cosine", data.Dot: "dot", data.L2: "l2-squared"}[cfg.Metric]
	vo := b.cfg.Vector
	hnsw := map[string]any{"distance": distance,
		"maxConnections": cmpOr(vo.M, 16), "efConstruction": cmpOr(vo.EfConstruction, 200), "ef": cmpOr(vo.EfSearch, 100)}
	if vo.Quantize {
		hnsw["sq"] = map[string]any{"enabled": true}
	}
	// Async replication repairs a replica that missed writes while it was
	// down, in the background, instead of only on the objects a read hits.
	rep := &models.ReplicationConfig{Factor: b.replication(), AsyncEnabled: b.replication() > 1}
	chunks := &models.Class{
		Class:             chunkClass(cfg.Name),
		Description:       "ragd chunks of index " + cfg.Name,
		Vectorizer:        "none",
		VectorIndexType:   "hnsw",
		VectorIndexConfig: hnsw,
		ReplicationConfig: rep,
		InvertedIndexConfig: &models.InvertedIndexConfig{
			Bm25: &models.BM25Config{K1: 1.2, B: 0.75},
		},
		Properties: []*models.Property{
			textProp("doc_id", false, true),
			textProp("chunk_id", false, true),
			intProp("ordinal", true),
			textProp("text", true, false),
			textProp("title", true, false),
			textProp("source", false, false),
			intProp("start", false),
			intProp("end", false),
			textProp("headings_json", false, false),
			textProp("meta_json", false, false),
		},
	}
	docs := &models.Class{
		Class:             docClass(cfg.Name),
		Description:       "ragd documents of index " + cfg.Name,
		Vectorizer:        "none",
		VectorIndexConfig: map[string]any{"skip": true},
		ReplicationConfig: rep,
		Properties: []*models.Property{
			textProp("doc_id", false, true),
			textProp("title", false, false),
			textProp("text", false, false),
			textProp("source", false, false),
			textProp("hash", false, false),
			textProp("meta_json", false, false),
			textProp("updated_at", false, false),
			intProp("chunks", false),
		},
	}
	for _, cls := range []*models.Class{chunks, docs} {
		if err := b.c.Schema().ClassCreator().WithClass(cls).Do(ctx); err != nil {
			return cfg, wrap("create collection "+cls.Class, err)
		}
	}
	if _, err := b.writeRegistry(ctx, cfg, 0); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func (b *Backend) dropClass(ctx context.Context, cls string) error {
	ok, err := b.c.Schema().ClassExistenceChecker().WithClassName(cls).Do(ctx)
	if err != nil {
		return wrap("schema", err)
	}
	if !ok {
		return nil
	}
	if err := b.c.Schema().ClassDeleter().WithClassName(cls).Do(ctx); err != nil {
		return wrap("drop "+cls, err)
	}
	b.mu.Lock()
	delete(b.props, cls)
	b.mu.Unlock()
	return nil
}

// DropIndex unregisters the index, then drops its collections.
func (b *Backend) DropIndex(ctx context.Context, name string) error {
	if _, err := b.readRegistry(ctx, name); err != nil {
		return err
	}
	del := b.c.Batch().ObjectsBatchDeleter().WithClassName(registryClass).WithConsistencyLevel(b.cl).
		WithWhere(filters.Where().WithPath([]string{"name"}).WithOperator(filters.Equal).WithValueText(name))
	if _, err := del.Do(ctx); err != nil {
		return wrap("unregister", err)
	}
	b.mu.Lock()
	delete(b.cfgs, name)
	b.mu.Unlock()
	for _, cls := range []string{chunkClass(name), docClass(name)} {
		if err := b.dropClass(ctx, cls); err != nil {
			return err
		}
	}
	return nil
}

// Indexes lists every registered index with its statistics.
func (b *Backend) Indexes(ctx context.Context) ([]index.IndexInfo, error) {
	regs, err := b.listRegistry(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]index.IndexInfo, 0, len(regs))
	for _, r := range regs {
		info, err := b.info(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Index describes one index.
func (b *Backend) Index(ctx context.Context, name string) (index.IndexInfo, error) {
	r, err := b.readRegistry(ctx, name)
	if err != nil {
		return index.IndexInfo{}, err
	}
	return b.info(ctx, r)
}

func (b *Backend) info(ctx context.Context, r regEntry) (index.IndexInfo, error) {
	docs, err := b.count(ctx, docClass(r.cfg.Name))
	if err != nil {
		return index.IndexInfo{}, err
	}
	chunks, err := b.count(ctx, chunkClass(r.cfg.Name))
	if err != nil {
		return index.IndexInfo{}, err
	}
	vecs := 0
	if r.cfg.Dims > 0 {
		vecs = chunks
	}
	return index.IndexInfo{IndexConfig: r.cfg, Stats: data.IndexStats{Documents: docs, Chunks: chunks, Vectors: vecs, Version: r.version}}, nil
}

func (b *Backend) count(ctx context.Context, cls string) (int, error) {
	res, err := b.c.GraphQL().Aggregate().WithClassName(cls).
		WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(ctx)
	if err != nil {
		return 0, wrap("count", err)
	}
	if len(res.Errors) > 0 {
		return 0, fmt.Errorf("weaviate count %s: %w: %s", cls, data.ErrUnavailable, res.Errors[0].Message)
	}
	agg, _ := res.Data["Aggregate"].(map[string]any)
	rows, _ := agg[cls].([]any)
	if len(rows) == 0 {
		return 0, nil
	}
	row, _ := rows[0].(map[string]any)
	meta, _ := row["meta"].(map[string]any)
	n, _ := meta["count"].(float64)
	return int(n), nil
}

// Version reads the index's version from the registry; 0 when it cannot
// (callers then do not cache).
func (b *Backend) Version(ctx context.Context, name string) uint64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	e, err := b.readRegistry(ctx, name)
	if err != nil {
		return 0
	}
	return e.version
}
