package aisearch

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

var instanceIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// findInstance returns the stored instance id of namespace ns (for use
// inside aisStore.read or update), or not found when either is missing.
func findInstance(d *aisData, ns, id string) (*Instance, error) {
	r, ok := d.Instances[instKey(ns, id)]
	if _, nsOK := d.Namespaces[ns]; !ok || !nsOK {
		return nil, fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
	}
	return r, nil
}

// Instance returns a copy of an instance, without its items
// (data.ErrNotFound when the namespace or the instance is absent).
func (s *Service) Instance(ns, id string) (Instance, error) {
	var out Instance
	var err error
	s.ais.read(func(d *aisData) {
		if _, ok := d.Namespaces[ns]; !ok {
			err = fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
			return
		}
		r, ok := d.Instances[instKey(ns, id)]
		if !ok {
			err = fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
			return
		}
		out = *r
		out.Items = nil
	})
	return out, err
}

// IndexName is the ragd index behind an instance: the id itself in the
// default namespace, "<namespace>.<id>" elsewhere. Neither namespace names
// nor instance ids may contain '.', so two instances never share a name;
// a plain ragd index that already has the name makes creation fail (409).
func IndexName(ns, id string) string {
	if ns == DefaultNamespace {
		return id
	}
	return ns + "." + id
}

// CreateInstance creates an instance in namespace ns and its index.
func (s *Service) CreateInstance(ctx context.Context, ns string, req CreateInstanceRequest) (Instance, error) {
	if !instanceIDRE.MatchString(req.ID) {
		return Instance{}, invalid("id %q: use 1-32 lowercase letters, digits, '-' and '_', starting with a letter or digit", req.ID)
	}
	if err := req.validate(); err != nil {
		return Instance{}, err
	}
	var nsErr error
	s.ais.read(func(d *aisData) {
		if _, ok := d.Namespaces[ns]; !ok {
			nsErr = fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
		} else if _, ok := d.Instances[instKey(ns, req.ID)]; ok {
			nsErr = fmt.Errorf("AI Search instance %q in namespace %q: %w", req.ID, ns, data.ErrExists)
		}
	})
	if nsErr != nil {
		return Instance{}, nsErr
	}
	model, err := s.instanceModel(req.Settings)
	if err != nil {
		return Instance{}, err
	}
	cfg := data.IndexConfig{Name: IndexName(ns, req.ID), Description: fmt.Sprintf("AI Search instance %s/%s", ns, req.ID)}
	if model != "" {
		emb, err := s.cfg.Models.Embedder(ctx, model)
		if err != nil {
			return Instance{}, fmt.Errorf("embedding_model: %w%s", err, s.modelHint())
		}
		cfg.Model, cfg.Dims, cfg.Metric = model, emb.Info().Dims, data.Cosine
	}
	now := time.Now().UTC()
	rec := &Instance{ID: req.ID, Namespace: ns, Index: cfg.Name, Model: model, CreatedAt: now, ModifiedAt: now,
		Settings: req.Settings, Items: map[string]*Item{}}
	l := s.WriteLock(cfg.Name)
	l.Lock()
	defer l.Unlock()
	if _, err := s.cfg.Indexes.CreateIndex(ctx, cfg); err != nil {
		if errors.Is(err, data.ErrExists) {
			err = fmt.Errorf("a ragd index named %q already exists (an instance in namespace %q uses the index of that name): %w", cfg.Name, ns, data.ErrExists)
		}
		return Instance{}, err
	}
	err = s.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[ns]; !ok {
			return fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
		}
		if _, ok := d.Instances[instKey(ns, req.ID)]; ok {
			return fmt.Errorf("AI Search instance %q in namespace %q: %w", req.ID, ns, data.ErrExists)
		}
		d.Instances[instKey(ns, req.ID)] = rec
		return nil
	})
	if err != nil {
		_ = s.cfg.Indexes.DropIndex(ctx, cfg.Name)
		return Instance{}, err
	}
	out := *rec
	out.Items = nil
	return out, nil
}

// resolveModel maps an embedding_model setting to a ragd model name.
func (s *Service) resolveModel(name string) (string, bool) {
	if s.cfg.ResolveModel == nil {
		return name, true
	}
	return s.cfg.ResolveModel(name)
}

// instanceModel picks the ragd embedding model for new instance settings:
// embedding_model mapped through ResolveModel, else the default model;
// "" when index_method turns vectors off or no model is configured.
func (s *Service) instanceModel(set Settings) (string, error) {
	if !set.vectorOn() {
		return "", nil
	}
	if set.EmbeddingModel != nil && *set.EmbeddingModel != "" {
		m, ok := s.resolveModel(*set.EmbeddingModel)
		if !ok {
			return "", fmt.Errorf("embedding_model %q: %w%s", *set.EmbeddingModel, embed.ErrModelNotFound, s.modelHint())
		}
		if s.cfg.Models == nil {
			return "", fmt.Errorf("embedding_model %q: no embedding models configured: %w", *set.EmbeddingModel, data.ErrUnavailable)
		}
		return m, nil
	}
	if s.cfg.Models == nil || s.cfg.DefaultModel == "" || s.cfg.DefaultModel == "none" {
		if set.IndexMethod != nil && set.IndexMethod.Vector {
			return "", fmt.Errorf("index_method.vector: the server has no default embedding model; name one in embedding_model: %w", data.ErrUnavailable)
		}
		return "", nil
	}
	return s.cfg.DefaultModel, nil
}

// Instances lists the instances of namespace ns whose ids contain search,
// by creation time (newest first when desc) then id.
func (s *Service) Instances(ns, search string, desc bool) ([]Instance, error) {
	var recs []Instance
	var err error
	s.ais.read(func(d *aisData) {
		if _, ok := d.Namespaces[ns]; !ok {
			err = fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
			return
		}
		for _, r := range d.Instances {
			if r.Namespace == ns && strings.Contains(r.ID, search) {
				cp := *r
				cp.Items = nil
				recs = append(recs, cp)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt) != desc
		}
		return a.ID < b.ID
	})
	return recs, nil
}

// UpdateInstance merges the settings set in req into the instance's. The
// embedding model and whether the instance indexes vectors are fixed at
// creation.
func (s *Service) UpdateInstance(ns, id string, req UpdateInstanceRequest) (Instance, error) {
	if req.ID != nil && *req.ID != id {
		return Instance{}, invalid("id %q differs from the instance in the path (%q); ids cannot be changed", *req.ID, id)
	}
	var out Instance
	err := s.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[ns]; !ok {
			return fmt.Errorf("namespace %q: %w", ns, data.ErrNotFound)
		}
		r, ok := d.Instances[instKey(ns, id)]
		if !ok {
			return fmt.Errorf("AI Search instance %q in namespace %q: %w", id, ns, data.ErrNotFound)
		}
		next := r.Settings
		next.merge(req.Settings)
		if err := next.validate(); err != nil {
			return err
		}
		if m := req.IndexMethod; m != nil && m.Vector != (r.Model != "") {
			return unsupported("index_method.vector cannot change after creation (the index's embedding model is fixed); create a new instance")
		}
		if m := req.EmbeddingModel; m != nil && *m != "" {
			want, _ := s.resolveModel(*m)
			if want != r.Model {
				return unsupported("embedding_model cannot change after creation (the index holds %q vectors); create a new instance", r.Model)
			}
		}
		r.Settings = next
		r.ModifiedAt = time.Now().UTC()
		out = *r
		out.Items = nil
		return nil
	})
	return out, err
}

// DeleteInstance drops an instance's index, its items and their uploads,
// and returns the instance as it was.
func (s *Service) DeleteInstance(ctx context.Context, ns, id string) (Instance, error) {
	r, err := s.Instance(ns, id)
	if err != nil {
		return Instance{}, err
	}
	l := s.WriteLock(r.Index)
	l.Lock()
	defer l.Unlock()
	if err := s.cfg.Indexes.DropIndex(ctx, r.Index); err != nil && !isNotFound(err) {
		return Instance{}, err
	}
	var items []string
	err = s.ais.update(func(d *aisData) error {
		items = items[:0] // fn may run again on a newer state
		if cur, ok := d.Instances[instKey(ns, id)]; ok {
			for itemID := range cur.Items {
				items = append(items, itemID)
			}
		}
		delete(d.Instances, instKey(ns, id))
		return nil
	})
	if err != nil {
		return Instance{}, err
	}
	for _, itemID := range items {
		s.ais.dropBlob(itemID)
	}
	return r, nil
}
