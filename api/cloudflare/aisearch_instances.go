package cloudflare

import (
	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/aisearch"
)

// Paging of AI Search lists.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
)

// instanceJSON is the SDK's InstanceReadResponse.
type instanceJSON struct {
	ID string `json:"id"`
	aisearch.Settings
	CreatedAt     string  `json:"created_at"`
	ModifiedAt    string  `json:"modified_at"`
	LastActivity  *string `json:"last_activity"`
	Namespace     string  `json:"namespace"`
	Status        string  `json:"status"`
	Enable        bool    `json:"enable"`
	EngineVersion int     `json:"engine_version"`
}

// describeInstance writes an instance with the effective values of the
// settings it left unset, so a client reads what is in force.
func describeInstance(r *aisearch.Instance) instanceJSON {
	out := instanceJSON{ID: r.ID, Settings: r.Effective(), CreatedAt: *isoTime(r.CreatedAt), ModifiedAt: *isoTime(r.ModifiedAt),
		LastActivity: isoTime(r.LastActivity), Namespace: r.Namespace, Status: "active", Enable: true, EngineVersion: 1}
	if out.EmbeddingModel == nil && r.Model != "" {
		v := ragdPrefix + r.Model
		out.EmbeddingModel = &v
	}
	return out
}

func (h *handler) createInstance(c echo.Context) error {
	var req aisearch.CreateInstanceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := h.ais.CreateInstance(c.Request().Context(), namespaceParam(c), req)
	if err != nil {
		return err
	}
	return ok(c, describeInstance(&r))
}

func (h *handler) listInstances(c echo.Context) error {
	ns := namespaceParam(c)
	page, perPage, err := paging(c)
	if err != nil {
		return err
	}
	if q := c.QueryParam("namespace"); q != "" && c.Param("namespace") == "" {
		ns = q
	}
	recs, err := h.ais.Instances(ns, c.QueryParam("search"), c.QueryParam("order_by_direction") == "desc")
	if err != nil {
		return err
	}
	lo, hi, info := pageOf(len(recs), page, perPage)
	out := make([]instanceJSON, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, describeInstance(&recs[i]))
	}
	return okPage(c, out, info)
}

func (h *handler) getInstance(c echo.Context) error {
	r, err := h.ais.Instance(namespaceParam(c), c.Param("index"))
	if err != nil {
		return err
	}
	return ok(c, describeInstance(&r))
}

func (h *handler) updateInstance(c echo.Context) error {
	var req aisearch.UpdateInstanceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := h.ais.UpdateInstance(namespaceParam(c), c.Param("index"), req)
	if err != nil {
		return err
	}
	return ok(c, describeInstance(&r))
}

func (h *handler) deleteInstance(c echo.Context) error {
	r, err := h.ais.DeleteInstance(c.Request().Context(), namespaceParam(c), c.Param("index"))
	if err != nil {
		return err
	}
	return ok(c, describeInstance(&r))
}
