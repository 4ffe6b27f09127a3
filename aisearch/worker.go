package aisearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/ingest"
	"github.com/ragd/ragd/rag"
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

func (s *Service) startWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	w := &itemWorker{ctx: ctx, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	s.worker = w
	// Requeue what an earlier run of this replica left unfinished (the
	// uploads of other replicas wait on their disks, for them).
	var jobs []itemJob
	s.ais.read(func(d *aisData) {
		for _, inst := range d.Instances {
			for _, it := range inst.Items {
				if (it.Status == ItemQueued || it.Status == ItemRunning) && (it.Owner == "" || it.Owner == s.ais.owner) {
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
			s.processItem(w.ctx, j)
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
func (s *Service) processItem(ctx context.Context, j itemJob) {
	snapshot := func() (Instance, Item, bool) {
		var inst Instance
		var it Item
		found := false
		s.ais.read(func(d *aisData) {
			r, ok := d.Instances[instKey(j.ns, j.inst)]
			if !ok {
				return
			}
			p, ok := r.Items[j.item]
			if !ok || p.Generation != j.gen || (p.Status != ItemQueued && p.Status != ItemRunning) {
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
	l := s.WriteLock(inst.Index)
	l.Lock()
	defer l.Unlock()
	inst, it, found := snapshot()
	if !found {
		return
	}
	setItem := func(fn func(it *Item)) bool {
		changed := false
		_ = s.ais.update(func(d *aisData) error {
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
	setItem(func(p *Item) { p.Status = ItemRunning })
	docIDs, chunks, warn, err := s.indexItem(ctx, inst, it)
	size, overlap := inst.chunkSizes()
	chunking := fmt.Sprintf("%d/%d", size, overlap)
	// Every document this item may now have in the index: the earlier
	// upload's and the ones this run wrote (or tried to).
	written := union(it.DocIDs, docIDs)
	if ctx.Err() != nil {
		// Shutdown or a cancelled request: leave the upload for the next
		// try, remembering what may have been written so that deleting
		// the item still finds it.
		setItem(func(p *Item) { p.Status, p.DocIDs = ItemQueued, written })
		return
	}
	keep := docIDs
	if err != nil {
		keep = nil
	}
	s.dropStale(inst.Index, written, keep)
	now := time.Now().UTC()
	if setItem(func(p *Item) {
		p.ProcessedAt, p.DocIDs = now, keep
		if err != nil {
			p.Status, p.Error, p.Chunks = ItemError, err.Error(), nil
			return
		}
		n := chunks
		p.Status, p.Error, p.Chunks, p.Chunking = ItemCompleted, warn, &n, chunking
	}) {
		s.ais.dropBlob(it.ID)
	}
	if err != nil {
		s.log.Warn("AI Search item failed", "instance", inst.ID, "key", it.Key, "err", err)
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
func (s *Service) dropStale(idx string, old, keep []string) {
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
	if _, _, err := s.cfg.Indexes.DeleteDocuments(context.Background(), idx, gone); err != nil && !isNotFound(err) {
		s.log.Warn("AI Search: removing an item's old documents failed", "index", idx, "err", err)
	}
}

// indexItem loads an item's documents and has the retrieval service
// chunk, embed and write them; it returns their ids, also when writing
// them failed part way.
func (s *Service) indexItem(ctx context.Context, inst Instance, it Item) (docIDs []string, chunks int, warn string, err error) {
	b, err := s.ais.blob(it.ID)
	if err != nil {
		return nil, 0, "", err
	}
	parsed, err := ingest.LoadReader(ctx, bytes.NewReader(b), it.Key, it.Format, ingest.LoadOptions{MaxFileBytes: s.cfg.MaxItemBytes})
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
	// Documents whose content and metadata are unchanged are skipped
	// before any chunking or embedding, unless the instance's chunk
	// settings changed since the item was last indexed.
	size, overlap := inst.chunkSizes()
	force := it.Chunking != fmt.Sprintf("%d/%d", size, overlap)
	sum, err := s.cfg.Retrieval.Ingest(ctx, inst.Index, docs, rag.IngestOptions{Force: force, Chunk: ingest.ChunkOptions{Size: size, Overlap: overlap}})
	if err != nil {
		return docIDs, 0, "", err // some batches may have been written
	}
	if sum.Skipped > 0 {
		// the skipped documents keep their chunks: count them all
		n := 0
		for _, id := range docIDs {
			d, err := s.cfg.Indexes.Document(ctx, inst.Index, id)
			if err != nil {
				return docIDs, 0, "", err
			}
			n += len(d.Chunks)
		}
		return docIDs, n, warn, nil
	}
	return docIDs, sum.Chunks, warn, nil
}
