package mcp

import (
	"context"
	"fmt"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/data"
)

// listDocuments answers resources/list with the documents of the allowed
// indexes, by index name then id, Config.PageSize at a time; the cursor
// is the URI of the last document of the page before. Other methods pass
// through.
func (s *Server) listDocuments(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		r, ok := req.(*sdk.ListResourcesRequest)
		if method != "resources/list" || !ok {
			return next(ctx, method, req)
		}
		cursor := ""
		if r.Params != nil {
			cursor = r.Params.Cursor
		}
		return s.documentResources(ctx, cursor)
	}
}

func (s *Server) documentResources(ctx context.Context, cursor string) (*sdk.ListResourcesResult, error) {
	var startIndex, after string
	if cursor != "" {
		var err error
		if startIndex, after, err = ParseDocumentURI(cursor); err != nil {
			return nil, fmt.Errorf("%w: bad cursor", data.ErrInvalid)
		}
	}
	infos, err := s.cfg.Service.Backend().Indexes(ctx)
	if err != nil {
		return nil, s.toolError("resources/list", err)
	}
	out := &sdk.ListResourcesResult{Resources: []*sdk.Resource{}}
	for _, in := range infos {
		if !s.allowed(in.Name) || in.Name < startIndex {
			continue
		}
		from := ""
		if in.Name == startIndex {
			from = after
		}
		need := s.cfg.PageSize - len(out.Resources)
		docs, err := s.cfg.Service.Backend().Documents(ctx, in.Name, from, need)
		if err != nil {
			return nil, s.toolError("resources/list", err)
		}
		for _, d := range docs {
			out.Resources = append(out.Resources, &sdk.Resource{URI: DocumentURI(in.Name, d.ID), Name: d.ID, Title: d.Title,
				Description: d.Source, MIMEType: "text/plain"})
		}
		if len(out.Resources) >= s.cfg.PageSize {
			out.NextCursor = out.Resources[len(out.Resources)-1].URI
			break
		}
	}
	return out, nil
}
