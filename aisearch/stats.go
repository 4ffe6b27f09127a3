package aisearch

import (
	"context"
	"time"
)

// Stats counts an instance's items by status and describes its index.
type Stats struct {
	Completed, Error, Queued, Running int
	// FileErrors maps the key of each failed item to its error.
	FileErrors   map[string]string
	LastActivity time.Time
	// Files and Bytes count the uploaded items and their sizes.
	Files int
	Bytes int64
	// Dims and Vectors describe the instance's index.
	Dims, Vectors int
}

// Stats returns instance id of namespace ns's statistics.
func (s *Service) Stats(ctx context.Context, ns, id string) (Stats, error) {
	out := Stats{FileErrors: map[string]string{}}
	var idx string
	var err error
	s.ais.read(func(d *aisData) {
		var r *Instance
		if r, err = findInstance(d, ns, id); err != nil {
			return
		}
		idx = r.Index
		out.LastActivity = r.LastActivity
		for _, it := range r.Items {
			switch it.Status {
			case ItemCompleted:
				out.Completed++
			case ItemError:
				out.Error++
				out.FileErrors[it.Key] = it.Error
			case ItemQueued:
				out.Queued++
			case ItemRunning:
				out.Running++
			}
			out.Files++
			out.Bytes += it.FileSize
		}
	})
	if err != nil {
		return Stats{}, err
	}
	info, err := s.cfg.Indexes.Index(ctx, idx)
	if err != nil {
		return Stats{}, err
	}
	out.Dims, out.Vectors = info.Dims, info.Stats.Vectors
	return out, nil
}
