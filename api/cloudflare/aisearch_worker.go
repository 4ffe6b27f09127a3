package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/ingest"
)

// itemJob asks the worker to index one generation of an item.
type itemJob struct {
	ns, inst, item string
	gen            int
}

// itemWorker indexes uploads in the background, one at a time. Close
// cancels the running job (its item goes back to queued) and waits; the
// upload stays on disk and is indexed at the next start.
type itemWorker struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{}
	mu     sync.Mutex
	queue  []itemJob
	closed bool
}

func (h *handler) startWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	w := &itemWorker{ctx: ctx, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	h.worker = w
	// Requeue what an earlier run of this replica left unfinished (the
	// uploads of other replicas wait on their disks, for them).
	var jobs []itemJob
	h.ais.read(func(d *aisData) {
		for _, inst := range d.Instances {
			for _, it := range inst.Items {
				if (it.Status == itemQueued || it.Status == itemRunning) && (it.Owner == "" || it.Owner == h.ais.owner) {
					jobs = append(jobs, itemJob{ns: inst.Namespace, inst: inst.ID, item: it.ID, gen: it.Generation})
				}
			}
		}
	})
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].item < jobs[j].item })
	for _, j := range jobs {
		w.push(j)
	}
	go func() {
		defer close(w.done)
		for {
			j, ok := w.next()
			if !ok {
				return
			}
			h.processItem(w.ctx, j)
		}
	}()
}

func (w *itemWorker) push(j itemJob) {
	w.mu.Lock()
	if !w.closed {
		w.queue = append(w.queue, j)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *itemWorker) next() (itemJob, bool) {
	for {
		w.mu.Lock()
		if w.closed || w.ctx.Err() != nil {
			w.mu.Unlock()
			return itemJob{}, false
		}
		if len(w.queue) > 0 {
			j := w.queue[0]
			w.queue = w.queue[1:]
			w.mu.Unlock()
			return j, true
		}
		w.mu.Unlock()
		select {
		case <-w.wake:
		case <-w.ctx.Done():
		}
	}
}

// stop ends the worker: no new job starts, the running one is cancelled
// and its item requeued in the saved state.
func (w *itemWorker) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	<-w.done
}

// processItem indexes one item generation. It returns once the item is
// completed, failed, superseded, deleted, or put back in the queue
// because ctx ended.
func (h *handler) processItem(ctx context.Context, j itemJob) {
	snapshot := func() (instanceRecord, itemRecord, bool) {
		var inst instanceRecord
		var it itemRecord
		found := false
		h.ais.read(func(d *aisData) {
			r, ok := d.Instances[instKey(j.ns, j.inst)]
			if !ok {
				return
			}
			p, ok := r.Items[j.item]
			if !ok || p.Generation != j.gen || (p.Status != itemQueued && p.Status != itemRunning) {
				return
			}
			inst, it, found = *r, *p, true
			inst.Items = nil
		})
		return inst, it, found
	}
	inst, _, found := snapshot()
	if !found {
		return
	}
	l := h.writeLock(inst.Index)
	l.Lock()
	defer l.Unlock()
	inst, it, found := snapshot()
	if !found {
		return
	}
	setItem := func(fn func(it *itemRecord)) bool {
		changed := false
		_ = h.ais.update(func(d *aisData) error {
			r, ok := d.Instances[instKey(j.ns, j.inst)]
			if !ok {
				return nil
			}
			p, ok := r.Items[j.item]
			if !ok || p.Generation != j.gen {
				return nil
			}
			fn(p)
			r.LastActivity = time.Now().UTC()
			changed = true
			return nil
		})
		return changed
	}
	setItem(func(p *itemRecord) { p.Status = itemRunning })
	docIDs, chunks, warn, err := h.indexItem(ctx, inst, it)
	// Every document this item may now have in the index: the earlier
	// upload's and the ones this run wrote (or tried to).
	written := union(it.DocIDs, docIDs)
	if ctx.Err() != nil {
		// Shutdown or a cancelled request: leave the upload for the next
		// try, remembering what may have been written so that deleting
		// the item still finds it.
		setItem(func(p *itemRecord) { p.Status, p.DocIDs = itemQueued, written })
		return
	}
	keep := docIDs
	if err != nil {
		keep = nil
	}
	h.dropStale(inst.Index, written, keep)
	now := time.Now().UTC()
	if setItem(func(p *itemRecord) {
		p.ProcessedAt, p.DocIDs = now, keep
		if err != nil {
			p.Status, p.Error, p.Chunks = itemError, err.Error(), nil
			return
		}
		n := chunks
		p.Status, p.Error, p.Chunks = itemCompleted, warn, &n
	}) {
		h.ais.dropBlob(it.ID)
	}
	if err != nil {
		h.log.Warn("AI Search item failed", "instance", inst.ID, "key", it.Key, "err", err)
	}
}

// union returns the ids of a and b, each once, in order.
func union(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, id := range append(append([]string(nil), a...), b...) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// dropStale deletes the documents an earlier upload of an item wrote that
// the new one did not.
func (h *handler) dropStale(idx string, old, keep []string) {
	kept := map[string]bool{}
	for _, id := range keep {
		kept[id] = true
	}
	var gone []string
	for _, id := range old {
		if !kept[id] {
			gone = append(gone, id)
			kept[id] = true // once
		}
	}
	if len(gone) == 0 {
		return
	}
	if _, _, err := h.cfg.Engine.DeleteDocuments(context.Background(), idx, gone); err != nil && !isNotFound(err) {
		h.log.Warn("AI Search: removing an item's old documents failed", "index", idx, "err", err)
	}
}

// indexItem loads, chunks, embeds and writes an item's documents and
// returns their ids, also when writing them failed part way.
func (h *handler) indexItem(ctx context.Context, inst instanceRecord, it itemRecord) (docIDs []string, chunks int, warn string, err error) {
	b, err := h.ais.blob(it.ID)
	if err != nil {
		return nil, 0, "", err
	}
	parsed, err := ingest.LoadReader(ctx, bytes.NewReader(b), it.Key, it.Format, ingest.LoadOptions{MaxFileBytes: h.cfg.MaxItemBytes})
	var pe *ingest.PartialError
	if errors.As(err, &pe) && len(parsed) > 0 {
		warn, err = pe.Error(), nil
	}
	if err != nil {
		return nil, 0, "", err
	}
	docs := make([]data.Document, 0, len(parsed))
	for _, p := range parsed {
		d := p.Doc
		if it.Format == ingest.FormatJSONL {
			d.ID = it.Key + "/" + p.Doc.ID
		} else {
			d.ID = it.Key
		}
		d.Source = it.Key
		if len(it.Metadata) > 0 {
			m := make(map[string]any, len(d.Metadata)+len(it.Metadata))
			for k, v := range d.Metadata {
				m[k] = v
			}
			for k, v := range it.Metadata {
				m[k] = v
			}
			d.Metadata = m
		}
		d.Chunks = nil
		docs = append(docs, d)
		docIDs = append(docIDs, d.ID)
	}
	var emb embed.Embedder
	if inst.Model != "" {
		if h.cfg.Models == nil {
			return nil, 0, "", fmt.Errorf("embedding model %q: no models configured: %w", inst.Model, data.ErrUnavailable)
		}
		if emb, err = h.cfg.Models.Embedder(ctx, inst.Model); err != nil {
			return nil, 0, "", err
		}
	}
	size, overlap := inst.chunkSizes()
	sum, err := ingest.Documents(ctx, h.cfg.Engine, docs, ingest.Config{Index: inst.Index, Force: true, Embedder: emb,
		Cache: api.EmbeddingCache(h.cfg.Engine), Logger: h.log, Chunk: ingest.ChunkOptions{Size: size, Overlap: overlap}})
	if err != nil {
		return docIDs, 0, "", err // some batches may have been written
	}
	return docIDs, sum.Chunks, warn, nil
}
