package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// copyStats says what copyIndex moved.
type copyStats struct {
	Docs, Chunks, Skipped int
	Elapsed               time.Duration
}

// copyIndex copies one index, documents with their chunks and vectors, from
// src to dst, creating it in dst with the same configuration. Documents
// already in dst with the same content hash are skipped, so an interrupted
// copy resumes where it stopped. Progress goes to w about once a second.
func copyIndex(ctx context.Context, src, dst index.Backend, name string, w io.Writer) (copyStats, error) {
	start := time.Now()
	var st copyStats
	info, err := src.Index(ctx, name)
	if err != nil {
		return st, err
	}
	if have, err := dst.Index(ctx, name); err == nil {
		if have.Dims != 0 && info.Dims != 0 && (have.Dims != info.Dims || have.Metric != info.Metric || have.Model != info.Model) {
			return st, fmt.Errorf("%w: index %q exists in the target with model %q, %d dims, %s; the source has %q, %d, %s",
				data.ErrInvalid, name, have.Model, have.Dims, have.Metric, info.Model, info.Dims, info.Metric)
		}
	} else if errors.Is(err, data.ErrNotFound) {
		if _, err := dst.CreateIndex(ctx, info.IndexConfig); err != nil {
			return st, err
		}
	} else {
		return st, err
	}
	const pageDocs, maxChunks = 200, 2000
	last := time.Now()
	after := ""
	for {
		page, err := src.Documents(ctx, name, after, pageDocs)
		if err != nil {
			return st, err
		}
		if len(page) == 0 {
			break
		}
		var batch []data.Document
		chunks := 0
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			res, err := dst.PutDocuments(ctx, name, batch, false)
			if err != nil {
				return err
			}
			st.Docs += res.Written
			st.Skipped += res.Skipped
			st.Chunks += res.Chunks
			batch, chunks = batch[:0], 0
			return nil
		}
		for _, sum := range page {
			d, err := src.DocumentVectors(ctx, name, sum.ID)
			if errors.Is(err, data.ErrNotFound) {
				continue // deleted since the page was read
			}
			if err != nil {
				return st, err
			}
			if chunks+len(d.Chunks) > maxChunks {
				if err := flush(); err != nil {
					return st, err
				}
			}
			batch = append(batch, d)
			chunks += len(d.Chunks)
		}
		if err := flush(); err != nil {
			return st, err
		}
		after = page[len(page)-1].ID
		if w != nil && time.Since(last) > time.Second {
			last = time.Now()
			done := st.Docs + st.Skipped
			fmt.Fprintf(w, "\r%s: %d/%d documents (%d chunks copied, %d unchanged) %.0f chunks/s   ", name, done, info.Stats.Documents,
				st.Chunks, st.Skipped, float64(st.Chunks)/time.Since(start).Seconds())
		}
	}
	st.Elapsed = time.Since(start)
	if w != nil {
		fmt.Fprintf(w, "\r%s: %d documents copied (%d chunks), %d unchanged, in %s\n", name, st.Docs, st.Chunks, st.Skipped, st.Elapsed.Round(time.Millisecond))
	}
	return st, nil
}
