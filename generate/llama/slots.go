package llama

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ragd/ragd/generate"
)

// slot is one llama.cpp context with its KV cache. A slot is used by one
// request at a time.
type slot struct {
	ctx     uintptr
	mem     uintptr
	abort   *atomic.Bool
	abortID uintptr // index of abort in the abort callback's table
	nBatch  int
	tokens  []int32 // scratch for single-token decodes, kept on the heap
}

// pool hands out slots to requests, with a bounded number of waiters.
type pool struct {
	free     chan *slot
	queue    int          // most requests allowed to wait
	waiting  atomic.Int64 // requests waiting now
	done     chan struct{}
	closeOne sync.Once
}

func newPool(slots, queue int) *pool {
	return &pool{free: make(chan *slot, slots), queue: queue, done: make(chan struct{})}
}

func (p *pool) put(s *slot) { p.free <- s }

// get returns a free slot, waiting while fewer than queue requests are
// already waiting; otherwise it fails with generate.ErrOverloaded.
func (p *pool) get(ctx context.Context) (*slot, error) {
	select {
	case <-p.done:
		return nil, fmt.Errorf("llama: %w: model closed", generate.ErrUnavailable)
	default:
	}
	select {
	case s := <-p.free:
		return s, nil
	default:
	}
	if p.waiting.Add(1) > int64(p.queue) {
		p.waiting.Add(-1)
		return nil, fmt.Errorf("llama: %w: %d requests already waiting", generate.ErrOverloaded, p.queue)
	}
	defer p.waiting.Add(-1)
	select {
	case s := <-p.free:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.done:
		return nil, fmt.Errorf("llama: %w: model closed", generate.ErrUnavailable)
	}
}

// close wakes and fails every waiter; running requests finish normally.
func (p *pool) close() { p.closeOne.Do(func() { close(p.done) }) }

// drain frees every slot currently in the pool. The caller ensures no
// request holds one.
func (p *pool) drain(l *lib) {
	for {
		select {
		case s := <-p.free:
			l.free(s.ctx)
			releaseAbortFlag(s.abortID)
		default:
			return
		}
	}
}
