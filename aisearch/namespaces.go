package aisearch

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

// MaxNamespaceDescription bounds a namespace's description (characters).
const MaxNamespaceDescription = 256

var namespaceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,27}$`)

// NamespaceRequest creates or updates a namespace (the SDK's
// NamespaceCreateParams and NamespaceUpdateParams); nil fields are unset.
type NamespaceRequest struct {
	Name                 *string         `json:"name"`
	Description          *string         `json:"description"`
	PublicEndpointParams json.RawMessage `json:"public_endpoint_params"`
}

func (r NamespaceRequest) validate() error {
	if d := r.Description; d != nil && (utf8.RuneCountInString(*d) > MaxNamespaceDescription || !utf8.ValidString(*d)) {
		return invalid("description must be valid UTF-8 of at most %d characters", MaxNamespaceDescription)
	}
	if p := r.PublicEndpointParams; len(p) > 0 && string(p) != "null" {
		var v map[string]any
		if err := json.Unmarshal(p, &v); err != nil {
			return invalid("public_endpoint_params must be an object")
		}
		if on, _ := v["enabled"].(bool); on {
			return unsupported("public endpoints are not served by ragd (public_endpoint_params.enabled)")
		}
	}
	return nil
}

// CreateNamespace adds a namespace (data.ErrExists when the name is taken).
func (s *Service) CreateNamespace(req NamespaceRequest) (Namespace, error) {
	if req.Name == nil || !namespaceNameRE.MatchString(*req.Name) {
		name := ""
		if req.Name != nil {
			name = *req.Name
		}
		return Namespace{}, invalid("name %q: use 1-28 lowercase letters, digits, '-' and '_', starting with a letter or digit", name)
	}
	if err := req.validate(); err != nil {
		return Namespace{}, err
	}
	rec := Namespace{Name: *req.Name, Description: req.Description, PublicEndpointParams: req.PublicEndpointParams, CreatedAt: time.Now().UTC()}
	err := s.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[rec.Name]; ok {
			return fmt.Errorf("namespace %q: %w", rec.Name, data.ErrExists)
		}
		cp := rec
		d.Namespaces[rec.Name] = &cp
		return nil
	})
	if err != nil {
		return Namespace{}, err
	}
	return rec, nil
}

// Namespaces lists the namespaces whose names contain search, by name.
func (s *Service) Namespaces(search string) []Namespace {
	var recs []Namespace
	s.ais.read(func(d *aisData) {
		for _, r := range d.Namespaces {
			if strings.Contains(r.Name, search) {
				recs = append(recs, *r)
			}
		}
	})
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	return recs
}

// Namespace returns one namespace (data.ErrNotFound when absent).
func (s *Service) Namespace(name string) (Namespace, error) {
	var out Namespace
	var err error
	s.ais.read(func(d *aisData) {
		r, ok := d.Namespaces[name]
		if !ok {
			err = fmt.Errorf("namespace %q: %w", name, data.ErrNotFound)
			return
		}
		out = *r
	})
	return out, err
}

// UpdateNamespace changes a namespace's description and public endpoint
// parameters; a name in req must be the namespace's own.
func (s *Service) UpdateNamespace(name string, req NamespaceRequest) (Namespace, error) {
	if req.Name != nil && *req.Name != name {
		return Namespace{}, invalid("name %q differs from the namespace in the path (%q); namespaces cannot be renamed", *req.Name, name)
	}
	if err := req.validate(); err != nil {
		return Namespace{}, err
	}
	var out Namespace
	err := s.ais.update(func(d *aisData) error {
		r, ok := d.Namespaces[name]
		if !ok {
			return fmt.Errorf("namespace %q: %w", name, data.ErrNotFound)
		}
		if req.Description != nil {
			r.Description = req.Description
		}
		if req.PublicEndpointParams != nil {
			r.PublicEndpointParams = req.PublicEndpointParams
		}
		out = *r
		return nil
	})
	return out, err
}

// DeleteNamespace removes an empty namespace; the default one stays.
func (s *Service) DeleteNamespace(name string) error {
	if name == DefaultNamespace {
		return invalid("the default namespace cannot be deleted")
	}
	return s.ais.update(func(d *aisData) error {
		if _, ok := d.Namespaces[name]; !ok {
			return fmt.Errorf("namespace %q: %w", name, data.ErrNotFound)
		}
		var ids []string
		for _, r := range d.Instances {
			if r.Namespace == name {
				ids = append(ids, r.ID)
			}
		}
		if len(ids) > 0 {
			sort.Strings(ids)
			return fmt.Errorf("namespace %q still holds instances %s; delete them first: %w", name, strings.Join(ids, ", "), data.ErrExists)
		}
		delete(d.Namespaces, name)
		return nil
	})
}
