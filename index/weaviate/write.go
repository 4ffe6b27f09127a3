package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// batch upserts objects over gRPC in slices of batchSize, up to
// batchInFlight at once, and fails on the first object Weaviate rejects.
func (b *Backend) batch(ctx context.Context, objs []*models.Object) error {
	var parts [][]*models.Object
	for len(objs) > 0 {
		n := min(len(objs), batchSize)
		parts, objs = append(parts, objs[:n]), objs[n:]
	}
	sem := make(chan struct{}, batchInFlight)
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// Upserts by deterministic id are idempotent, so a batch that
			// failed on the way (a replica timing out under load) is sent
			// again, twice at most, before the write fails.
			for attempt := 0; ; attempt++ {
				errs[i] = b.sendBatch(ctx, part)
				if errs[i] == nil || attempt == 2 || errors.Is(errs[i], data.ErrInvalid) || ctx.Err() != nil {
					return
				}
				b.log.Warn("weaviate batch failed; retrying", "attempt", attempt+1, "err", errs[i])
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Duration(attempt+1) * time.Second):
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendBatch sends one batch and returns the first object error.
func (b *Backend) sendBatch(ctx context.Context, part []*models.Object) error {
	res, err := b.c.Batch().ObjectsBatcher().WithConsistencyLevel(b.cl).WithObjects(part...).Do(ctx)
	if err != nil {
		return wrap("batch", err)
	}
	for _, r := range res {
		if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
			return fmt.Errorf("weaviate batch: %w: %s", data.ErrUnavailable, r.Result.Errors.Error[0].Message)
		}
	}
	return nil
}

// existing returns doc id -> (hash, chunks) for the given ids that exist.
func (b *Backend) existing(ctx context.Context, name string, ids []string) (map[string]docRec, error) {
	out := make(map[string]docRec, len(ids))
	for start := 0; start < len(ids); start += 1000 {
		part := ids[start:min(len(ids), start+1000)]
		res, err := b.c.Experimental().Search().WithCollection(docClass(name)).WithConsistencyLevel(b.cl).
			WithLimit(len(part)).WithProperties("doc_id", "hash", "chunks", "source").
			WithWhere(filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.ContainsAny).WithValueText(part...)).
			Do(ctx)
		if err != nil {
			return nil, wrap("read documents", err)
		}
		for _, r := range res {
			d := docFromProps(r.Properties)
			out[d.ID] = d
		}
	}
	return out, nil
}

func docFromProps(p map[string]any) docRec {
	s := func(k string) string { v, _ := p[k].(string); return v }
	return docRec{ID: s("doc_id"), Hash: s("hash"), Source: s("source"), Chunks: asInt(p["chunks"])}
}

func asInt(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case float64:
		return int(x)
	case int:
		return x
	}
	return 0
}

// PutDocuments writes documents: chunks (with vectors) first, then the
// document records, then any chunks left over from a longer old version.
func (b *Backend) PutDocuments(ctx context.Context, name string, docs []data.Document, force bool) (index.PutResult, error) {
	reg, err := b.readRegistry(ctx, name)
	if err != nil {
		return index.PutResult{}, err
	}
	cfg := reg.cfg
	dims, err := index.PrepareDocuments(cfg, docs)
	if err != nil {
		return index.PutResult{}, err
	}
	ids := make([]string, len(docs))
	for i := range docs {
		ids[i] = docs[i].ID
	}
	old, err := b.existing(ctx, name, ids)
	if err != nil {
		return index.PutResult{}, err
	}
	var res index.PutResult
	var chunkObjs, docObjs []*models.Object
	meta := map[string]string{}
	for i := range docs {
		d := &docs[i]
		if o, ok := old[d.ID]; ok && !force && o.Hash == d.Hash {
			res.Skipped++
			continue
		}
		res.Written++
		res.Chunks += len(d.Chunks)
		props, err := metaProps(d.Metadata, meta)
		if err != nil {
			return index.PutResult{}, fmt.Errorf("document %q: %w", d.ID, err)
		}
		mj, err := json.Marshal(d.Metadata)
		if err != nil {
			return index.PutResult{}, fmt.Errorf("%w: document %q metadata: %w", data.ErrInvalid, d.ID, err)
		}
		for j, c := range d.Chunks {
			hj, _ := json.Marshal(c.Headings)
			p := map[string]any{"doc_id": d.ID, "chunk_id": c.ID, "ordinal": int64(j), "text": c.Text, "title": d.Title,
				"source": d.Source, "start": int64(c.Start), "end": int64(c.End), "headings_json": string(hj), "meta_json": string(mj)}
			for k, v := range props {
				p[k] = v
			}
			o := &models.Object{Class: chunkClass(name), ID: strfmtUUID(objectID(name, "chunk", c.ID)), Properties: p}
			if len(c.Vector) > 0 {
				o.Vector = c.Vector
			}
			chunkObjs = append(chunkObjs, o)
		}
		docObjs = append(docObjs, &models.Object{Class: docClass(name), ID: strfmtUUID(objectID(name, "doc", d.ID)),
			Properties: map[string]any{"doc_id": d.ID, "title": d.Title, "text": d.Text, "source": d.Source, "hash": d.Hash,
				"meta_json": string(mj), "updated_at": d.UpdatedAt.Format(time.RFC3339Nano), "chunks": int64(len(d.Chunks))}})
	}
	if res.Written == 0 {
		return res, nil
	}
	cfg.Dims = dims // fixed by this write when the index had no vectors yet
	if err := b.ensureMetaProps(ctx, chunkClass(name), meta); err != nil {
		return index.PutResult{}, err
	}
	t0 := time.Now()
	if err := b.batch(ctx, chunkObjs); err != nil {
		return index.PutResult{}, err
	}
	t1 := time.Now()
	if err := b.batch(ctx, docObjs); err != nil {
		return index.PutResult{}, err
	}
	b.log.Debug("weaviate write", "index", name, "chunks", len(chunkObjs), "chunks_s", t1.Sub(t0).Seconds(), "docs_s", time.Since(t1).Seconds())
	for i := range docs {
		d := &docs[i]
		if o, ok := old[d.ID]; ok && o.Chunks > len(d.Chunks) && (force || o.Hash != d.Hash) {
			w := filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
				filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.Equal).WithValueText(d.ID),
				filters.Where().WithPath([]string{"ordinal"}).WithOperator(filters.GreaterThanEqual).WithValueInt(int64(len(d.Chunks))),
			})
			if _, err := b.c.Batch().ObjectsBatchDeleter().WithClassName(chunkClass(name)).WithConsistencyLevel(b.cl).WithWhere(w).Do(ctx); err != nil {
				return index.PutResult{}, wrap("delete stale chunks", err)
			}
		}
	}
	if _, err := b.writeRegistry(ctx, cfg, reg.version); err != nil {
		return index.PutResult{}, err
	}
	return res, nil
}

// metaProps maps metadata onto Weaviate properties, recording each
// property's data type in types (conflicting types are an error).
func metaProps(meta map[string]any, types map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(meta))
	for k, v := range meta {
		val, typ, err := metaValue(v)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", k, err)
		}
		if typ == "" {
			continue
		}
		p := metaProp(k)
		if len(p) > 230 {
			return nil, fmt.Errorf("%w: metadata key %q is too long for the weaviate backend", data.ErrInvalid, k)
		}
		if t, ok := types[p]; ok && t != typ {
			return nil, fmt.Errorf("%w: metadata %q is %s in one document and %s in another; the weaviate backend needs one type per key", data.ErrInvalid, k, t, typ)
		}
		types[p] = typ
		out[p] = val
	}
	return out, nil
}

func metaValue(v any) (any, string, error) {
	switch x := v.(type) {
	case nil:
		return nil, "", nil
	case string:
		return x, "text", nil
	case bool:
		return x, "boolean", nil
	case float64:
		return x, "number", nil
	case float32:
		return float64(x), "number", nil
	case int:
		return float64(x), "number", nil
	case int64:
		return float64(x), "number", nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", data.ErrInvalid, err)
		}
		return f, "number", nil
	case []string:
		if len(x) == 0 {
			return nil, "", nil
		}
		return x, "text[]", nil
	case []any:
		if len(x) == 0 {
			return nil, "", nil
		}
		var typ string
		strs, nums, bools := []string{}, []float64{}, []bool{}
		for _, e := range x {
			ev, et, err := metaValue(e)
			if err != nil {
				return nil, "", err
			}
			if et == "" || strings.HasSuffix(et, "[]") || (typ != "" && et != typ) {
				return nil, "", fmt.Errorf("%w: the weaviate backend stores arrays of one scalar type only", data.ErrInvalid)
			}
			typ = et
			switch t := ev.(type) {
			case string:
				strs = append(strs, t)
			case float64:
				nums = append(nums, t)
			case bool:
				bools = append(bools, t)
			}
		}
		switch typ {
		case "text":
			return strs, "text[]", nil
		case "number":
			return nums, "number[]", nil
		default:
			return bools, "boolean[]", nil
		}
	}
	return nil, "", fmt.Errorf("%w: unsupported metadata value of type %T", data.ErrInvalid, v)
}

// loadProps reads a class's property types into the cache.
func (b *Backend) loadProps(ctx context.Context, cls string) (map[string]string, error) {
	c, err := b.c.Schema().ClassGetter().WithClassName(cls).Do(ctx)
	if err != nil {
		return nil, wrap("schema", err)
	}
	m := make(map[string]string, len(c.Properties))
	for _, p := range c.Properties {
		if len(p.DataType) > 0 {
			m[p.Name] = p.DataType[0]
		}
	}
	b.mu.Lock()
	b.props[cls] = m
	b.mu.Unlock()
	return m, nil
}

func (b *Backend) propTypes(ctx context.Context, cls string, refresh bool) (map[string]string, error) {
	b.mu.Lock()
	m, ok := b.props[cls]
	b.mu.Unlock()
	if ok && !refresh {
		return m, nil
	}
	return b.loadProps(ctx, cls)
}

// ensureMetaProps creates missing metadata properties as exact-match,
// filterable fields, and refuses a type that differs from the stored one.
func (b *Backend) ensureMetaProps(ctx context.Context, cls string, want map[string]string) error {
	if len(want) == 0 {
		return nil
	}
	have, err := b.propTypes(ctx, cls, false)
	if err != nil {
		return err
	}
	for refreshed := false; ; refreshed = true {
		missing := false
		for p, t := range want {
			if ht, ok := have[p]; !ok {
				missing = true
			} else if ht != t {
				return fmt.Errorf("%w: metadata property %s holds %s in this index, not %s", data.ErrInvalid, strings.TrimPrefix(p, "m_"), ht, t)
			}
		}
		if !missing || refreshed {
			break
		}
		if have, err = b.propTypes(ctx, cls, true); err != nil {
			return err
		}
	}
	for p, t := range want {
		if _, ok := have[p]; ok {
			continue
		}
		prop := &models.Property{Name: p, DataType: []string{t}, IndexFilterable: ptr(true), IndexSearchable: ptr(false)}
		if strings.HasPrefix(t, "text") {
			prop.Tokenization = "field"
		}
		if strings.HasPrefix(t, "number") {
			prop.IndexRangeFilters = ptr(false)
		}
		if err := b.c.Schema().PropertyCreator().WithClassName(cls).WithProperty(prop).Do(ctx); err != nil {
			// Another writer may have added it meanwhile.
			if have2, err2 := b.propTypes(ctx, cls, true); err2 == nil && have2[p] == t {
				have = have2
				continue
			}
			return wrap("add property "+p, err)
		}
		b.mu.Lock()
		if b.props[cls] != nil {
			b.props[cls][p] = t
		}
		b.mu.Unlock()
	}
	return nil
}

// DeleteDocuments removes documents and their chunks.
func (b *Backend) DeleteDocuments(ctx context.Context, name string, ids []string) (int, []string, error) {
	reg, err := b.readRegistry(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	old, err := b.existing(ctx, name, ids)
	if err != nil {
		return 0, nil, err
	}
	var found, missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := old[id]; ok {
			found = append(found, id)
		} else {
			missing = append(missing, id)
		}
	}
	if len(found) == 0 {
		return 0, missing, nil
	}
	for start := 0; start < len(found); start += 1000 {
		part := found[start:min(len(found), start+1000)]
		for _, cls := range []string{chunkClass(name), docClass(name)} {
			w := filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.ContainsAny).WithValueText(part...)
			if _, err := b.c.Batch().ObjectsBatchDeleter().WithClassName(cls).WithConsistencyLevel(b.cl).WithWhere(w).Do(ctx); err != nil {
				return 0, nil, wrap("delete", err)
			}
		}
	}
	if _, err := b.writeRegistry(ctx, reg.cfg, reg.version); err != nil {
		return 0, nil, err
	}
	return len(found), missing, nil
}
