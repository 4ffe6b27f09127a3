package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ragd/ragd/data"
)

// stateTimeout bounds one load or save of a state document.
const stateTimeout = 15 * time.Second

// NewDoc returns the document key of store. fix normalises a loaded value,
// the zero value included (nil maps, required entries): an absent or
// corrupt document starts as fix(zero value). log receives the failures
// Read cannot return (nil: discard).
func NewDoc[T any](store Store, key string, log *slog.Logger, fix func(v *T)) *Doc[T] {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if fix == nil {
		fix = func(*T) {}
	}
	return &Doc[T]{store: store, key: key, log: log, fix: fix}
}

// Logger is the logger the document reports to.
func (d *Doc[T]) Logger() *slog.Logger { return d.log }

// Doc is one JSON document of a Store with a decoded copy of type T.
// Over a shared store (replicas behind one Weaviate cluster) every read
// reloads it when its version moved and every update is a versioned
// write, retried on top of the other writer's change when it conflicts;
// over a local store the copy is the truth and is loaded once.
type Doc[T any] struct {
	store Store
	key   string
	log   *slog.Logger
	fix   func(v *T)

	mu     sync.Mutex
	loaded bool
	ver    uint64
	val    T
}

func (d *Doc[T]) refreshLocked(force bool) error {
	if d.loaded && !force && !d.store.Shared() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	if d.loaded && !force {
		// the document may be large: fetch it only when it changed
		ver, err := d.store.StateVersion(ctx, d.key)
		if err != nil {
			return err
		}
		if ver == d.ver {
			return nil
		}
	}
	b, ver, err := d.store.LoadState(ctx, d.key)
	if err != nil {
		return err
	}
	if d.loaded && !force && ver == d.ver {
		return nil
	}
	var v T
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			d.log.Warn("state document corrupt; starting it empty", "key", d.key, "err", err)
			v = *new(T)
		}
	}
	d.fix(&v)
	d.val, d.ver, d.loaded = v, ver, true
	return nil
}

// Read runs fn on the current value; fn must not keep pointers into it.
// When the store cannot be read, fn sees the last copy (logged).
func (d *Doc[T]) Read(fn func(v *T)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.refreshLocked(false); err != nil {
		d.log.Warn("state document unreadable; using the last copy", "key", d.key, "err", err)
		if !d.loaded {
			d.val = *new(T)
			d.fix(&d.val)
		}
	}
	fn(&d.val)
}

// Update applies fn to the current value and saves it. fn validates before
// it changes anything and may run more than once (after a conflicting
// write by another replica), each time on the latest value.
func (d *Doc[T]) Update(fn func(v *T) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if err := d.refreshLocked(attempt > 0); err != nil {
			return fmt.Errorf("%w: reading %s: %w", data.ErrUnavailable, d.key, err)
		}
		if err := fn(&d.val); err != nil {
			d.loaded = false // fn may have changed the copy before failing
			return err
		}
		b, err := json.Marshal(d.val)
		if err != nil {
			d.loaded = false
			return fmt.Errorf("encoding %s: %w", d.key, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
		ver, err := d.store.SaveState(ctx, d.key, b, d.ver)
		cancel()
		if err == nil {
			d.ver = ver
			return nil
		}
		d.loaded = false // the copy holds a change the store does not
		if !errors.Is(err, data.ErrConflict) || attempt == 7 {
			if errors.Is(err, data.ErrConflict) {
				return fmt.Errorf("%w: %s changed concurrently %d times in a row; retry", data.ErrOverloaded, d.key, attempt+1)
			}
			return fmt.Errorf("%w: saving %s: %w", data.ErrUnavailable, d.key, err)
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
}
