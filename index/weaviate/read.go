package weaviate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// Document returns a document with its chunks.
func (b *Backend) Document(ctx context.Context, name, id string) (data.Document, error) {
	return b.document(ctx, name, id, false)
}

// DocumentVectors returns a document with its chunks and their vectors.
func (b *Backend) DocumentVectors(ctx context.Context, name, id string) (data.Document, error) {
	return b.document(ctx, name, id, true)
}

func (b *Backend) document(ctx context.Context, name, id string, vectors bool) (data.Document, error) {
	if _, err := b.config(ctx, name); err != nil {
		return data.Document{}, err
	}
	// The record holds the whole text, which may pass the 4 MiB cap the
	// client puts on gRPC replies: it is read over REST, by id.
	p, err := b.getObject(ctx, docClass(name), objectID(name, "doc", id))
	if err != nil {
		return data.Document{}, fmt.Errorf("read document: %w", err)
	}
	if p == nil {
		return data.Document{}, fmt.Errorf("document %q: %w", id, data.ErrNotFound)
	}
	d := docFromFull(p)
	n := asInt(p["chunks"])
	// Chunks come in pages of ordinals; a page over the gRPC cap is read
	// again in halves.
	for lo, size := 0, docChunkPage; lo < n; {
		hi := min(n, lo+size)
		cs, err := b.chunkRange(ctx, name, id, lo, hi, vectors)
		if isTooLarge(err) && size > 1 {
			size /= 2
			continue
		}
		if err != nil {
			return data.Document{}, err
		}
		d.Chunks = append(d.Chunks, cs...)
		lo = hi
	}
	sort.Slice(d.Chunks, func(i, j int) bool { return d.Chunks[i].Ordinal < d.Chunks[j].Ordinal })
	return d, nil
}

// chunkRange reads the chunks of document id with ordinals in [lo, hi).
func (b *Backend) chunkRange(ctx context.Context, name, id string, lo, hi int, vectors bool) ([]data.Chunk, error) {
	s := b.c.Experimental().Search().WithCollection(chunkClass(name)).WithConsistencyLevel(b.cl).WithLimit(hi-lo).
		WithProperties("doc_id", "chunk_id", "ordinal", "text", "start", "end", "headings_json").
		WithWhere(filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
			filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.Equal).WithValueText(id),
			filters.Where().WithPath([]string{"ordinal"}).WithOperator(filters.GreaterThanEqual).WithValueInt(int64(lo)),
			filters.Where().WithPath([]string{"ordinal"}).WithOperator(filters.LessThan).WithValueInt(int64(hi)),
		}))
	if vectors {
		s = s.WithMetadata(&graphql.Metadata{ID: true, Vector: true})
	}
	res, err := s.Do(ctx)
	if err != nil {
		if isTooLarge(err) {
			return nil, err
		}
		return nil, wrap("read chunks", err)
	}
	out := make([]data.Chunk, 0, len(res))
	for _, r := range res {
		c := chunkFromProps(r.Properties)
		if vectors {
			c.Vector = r.Vector
		}
		out = append(out, c)
	}
	return out, nil
}

// isTooLarge reports a gRPC reply over the client's size cap.
func isTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "ResourceExhausted")
}

func docFromFull(p map[string]any) data.Document {
	s := func(k string) string { v, _ := p[k].(string); return v }
	d := data.Document{ID: s("doc_id"), Title: s("title"), Text: s("text"), Source: s("source"), Hash: s("hash")}
	if mj := s("meta_json"); mj != "" && mj != "null" {
		_ = json.Unmarshal([]byte(mj), &d.Metadata)
	}
	d.UpdatedAt, _ = time.Parse(time.RFC3339Nano, s("updated_at"))
	return d
}

func chunkFromProps(p map[string]any) data.Chunk {
	s := func(k string) string { v, _ := p[k].(string); return v }
	c := data.Chunk{ID: s("chunk_id"), DocID: s("doc_id"), Ordinal: asInt(p["ordinal"]), Text: s("text"),
		Start: asInt(p["start"]), End: asInt(p["end"])}
	if hj := s("headings_json"); hj != "" && hj != "null" {
		_ = json.Unmarshal([]byte(hj), &c.Headings)
	}
	return c
}

// Documents pages through documents in id order after the cursor.
func (b *Backend) Documents(ctx context.Context, name, after string, limit int) ([]index.DocumentSummary, error) {
	if _, err := b.config(ctx, name); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	s := b.c.Experimental().Search().WithCollection(docClass(name)).WithConsistencyLevel(b.cl).WithLimit(limit).
		WithProperties("doc_id", "title", "source", "hash", "meta_json", "updated_at", "chunks").
		WithSort(graphql.Sort{Path: []string{"doc_id"}, Order: graphql.Asc})
	if after != "" {
		s = s.WithWhere(filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.GreaterThan).WithValueText(after))
	}
	res, err := s.Do(ctx)
	if err != nil {
		return nil, wrap("list documents", err)
	}
	out := make([]index.DocumentSummary, 0, len(res))
	for _, r := range res {
		d := docFromFull(r.Properties)
		out = append(out, index.DocumentSummary{ID: d.ID, Title: d.Title, Source: d.Source, Metadata: d.Metadata,
			Hash: d.Hash, Chunks: asInt(r.Properties["chunks"]), UpdatedAt: d.UpdatedAt})
	}
	// Weaviate sorts text by its own collation; ragd pages in byte order.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// eachDoc walks every document record of an index.
func (b *Backend) eachDoc(ctx context.Context, name string, fn func(docRec)) error {
	if _, err := b.config(ctx, name); err != nil {
		return err
	}
	after := ""
	for {
		s := b.c.Experimental().Search().WithCollection(docClass(name)).WithConsistencyLevel(b.cl).WithLimit(1000).
			WithProperties("doc_id", "hash", "source", "chunks")
		if after != "" {
			s = s.WithAfter(after)
		}
		res, err := s.Do(ctx)
		if err != nil {
			return wrap("list documents", err)
		}
		for _, r := range res {
			fn(docFromProps(r.Properties))
			after = r.ID
		}
		if len(res) < 1000 {
			return nil
		}
	}
}

// DocumentHashes returns id -> content hash for every document.
func (b *Backend) DocumentHashes(ctx context.Context, name string) (map[string]string, error) {
	out := map[string]string{}
	err := b.eachDoc(ctx, name, func(d docRec) { out[d.ID] = d.Hash })
	return out, err
}

// DocumentSources returns id -> source for every document.
func (b *Backend) DocumentSources(ctx context.Context, name string) (map[string]string, error) {
	out := map[string]string{}
	err := b.eachDoc(ctx, name, func(d docRec) { out[d.ID] = d.Source })
	return out, err
}
