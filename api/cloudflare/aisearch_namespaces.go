package cloudflare

import (
	"encoding/json"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/aisearch"
)

// namespaceJSON is the SDK's NamespaceReadResponse.
type namespaceJSON struct {
	CreatedAt            *string         `json:"created_at"`
	Name                 string          `json:"name"`
	Description          *string         `json:"description"`
	PublicEndpointID     *string         `json:"public_endpoint_id"`
	PublicEndpointParams json.RawMessage `json:"public_endpoint_params"`
}

func describeNamespace(r aisearch.Namespace) namespaceJSON {
	out := namespaceJSON{CreatedAt: isoTime(r.CreatedAt), Name: r.Name, Description: r.Description, PublicEndpointParams: r.PublicEndpointParams}
	if len(out.PublicEndpointParams) == 0 {
		out.PublicEndpointParams = json.RawMessage("null")
	}
	return out
}

func (h *handler) createNamespace(c echo.Context) error {
	var req aisearch.NamespaceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := h.ais.CreateNamespace(req)
	if err != nil {
		return err
	}
	return ok(c, describeNamespace(r))
}

func (h *handler) listNamespaces(c echo.Context) error {
	page, perPage, err := paging(c)
	if err != nil {
		return err
	}
	recs := h.ais.Namespaces(c.QueryParam("search"))
	lo, hi, info := pageOf(len(recs), page, perPage)
	out := make([]namespaceJSON, 0, hi-lo)
	for _, r := range recs[lo:hi] {
		out = append(out, describeNamespace(r))
	}
	return okPage(c, out, info)
}

func (h *handler) getNamespace(c echo.Context) error {
	r, err := h.ais.Namespace(c.Param("namespace"))
	if err != nil {
		return err
	}
	return ok(c, describeNamespace(r))
}

func (h *handler) updateNamespace(c echo.Context) error {
	var req aisearch.NamespaceRequest
	if err := h.decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := h.ais.UpdateNamespace(c.Param("namespace"), req)
	if err != nil {
		return err
	}
	return ok(c, describeNamespace(r))
}

// deleteNamespace removes an empty namespace; the default one stays.
func (h *handler) deleteNamespace(c echo.Context) error {
	if err := h.ais.DeleteNamespace(c.Param("namespace")); err != nil {
		return err
	}
	return ok(c, nil)
}
