package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/rag"
)

// ListIndexesInput is list_indexes' arguments (none).
type ListIndexesInput struct{}

// IndexSummary describes one index.
type IndexSummary struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Model       string `json:"model,omitempty" jsonschema:"the embedding model; empty for a keyword-only index"`
	Documents   int    `json:"documents"`
	Chunks      int    `json:"chunks"`
}

// ListIndexesOutput is list_indexes' structured result.
type ListIndexesOutput struct {
	Indexes []IndexSummary `json:"indexes"`
}

func (s *Server) listIndexes(ctx context.Context, _ *sdk.CallToolRequest, _ ListIndexesInput) (*sdk.CallToolResult, ListIndexesOutput, error) {
	infos, err := s.cfg.Service.Backend().Indexes(ctx)
	if err != nil {
		return nil, ListIndexesOutput{}, s.toolError(ToolListIndexes, err)
	}
	out := ListIndexesOutput{Indexes: []IndexSummary{}}
	for _, in := range infos {
		if !s.allowed(in.Name) {
			continue
		}
		out.Indexes = append(out.Indexes, IndexSummary{Name: in.Name, Description: in.Description, Model: in.Model,
			Documents: in.Stats.Documents, Chunks: in.Stats.Chunks})
	}
	return nil, out, nil
}

// GetDocumentInput is get_document's arguments.
type GetDocumentInput struct {
	Index string `json:"index,omitempty" jsonschema:"the document's index; may be left out when the server serves exactly one"`
	DocID string `json:"doc_id" jsonschema:"the document's id (as in a search hit's doc_id)"`
}

// Document is a whole stored document.
type Document struct {
	Index     string         `json:"index"`
	ID        string         `json:"id"`
	Title     string         `json:"title,omitempty"`
	Text      string         `json:"text"`
	Source    string         `json:"source,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	UpdatedAt string         `json:"updated_at,omitempty" jsonschema:"when it was last written (RFC 3339)"`
	Chunks    int            `json:"chunks" jsonschema:"how many passages it was split into"`
	URI       string         `json:"uri"`
}

func (s *Server) getDocument(ctx context.Context, _ *sdk.CallToolRequest, in GetDocumentInput) (*sdk.CallToolResult, Document, error) {
	d, err := s.document(ctx, in.Index, in.DocID)
	if err != nil {
		return nil, Document{}, s.toolError(ToolGetDocument, err)
	}
	return nil, d, nil
}

// document reads one document of an allowed index.
func (s *Server) document(ctx context.Context, index, id string) (Document, error) {
	name, err := s.indexName(index)
	if err != nil {
		return Document{}, err
	}
	if id == "" {
		return Document{}, fmt.Errorf("%w: doc_id is required", data.ErrInvalid)
	}
	d, err := s.cfg.Service.Backend().Document(ctx, name, id)
	if err != nil {
		return Document{}, err
	}
	out := Document{Index: name, ID: d.ID, Title: d.Title, Text: d.Text, Source: d.Source, Metadata: d.Metadata,
		Chunks: len(d.Chunks), URI: DocumentURI(name, d.ID)}
	if !d.UpdatedAt.IsZero() {
		out.UpdatedAt = d.UpdatedAt.UTC().Format(time.RFC3339)
	}
	return out, nil
}

// readDocument serves resources ragd://{index}/{doc_id}.
func (s *Server) readDocument(ctx context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	uri := req.Params.URI
	index, id, err := ParseDocumentURI(uri)
	if err != nil {
		return nil, err
	}
	d, err := s.document(ctx, index, id)
	if errors.Is(err, data.ErrNotFound) {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	if err != nil {
		return nil, s.toolError("resources/read", err)
	}
	meta := sdk.Meta{"index": d.Index, "id": d.ID, "chunks": d.Chunks}
	if d.Title != "" {
		meta["title"] = d.Title
	}
	if d.Source != "" {
		meta["source"] = d.Source
	}
	if d.UpdatedAt != "" {
		meta["updated_at"] = d.UpdatedAt
	}
	if len(d.Metadata) > 0 {
		meta["metadata"] = d.Metadata
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: d.Text, Meta: meta}}}, nil
}

// ParseDocumentURI splits ragd://INDEX/ID into the index and the
// (unescaped) document id.
func ParseDocumentURI(uri string) (index, id string, err error) {
	rest, ok := strings.CutPrefix(uri, "ragd://")
	if !ok {
		return "", "", fmt.Errorf("%w: resource %q: want ragd://{index}/{doc_id}", data.ErrInvalid, uri)
	}
	rawIndex, rawID, ok := strings.Cut(rest, "/")
	if !ok || rawIndex == "" || rawID == "" {
		return "", "", fmt.Errorf("%w: resource %q: want ragd://{index}/{doc_id}", data.ErrInvalid, uri)
	}
	if index, err = url.PathUnescape(rawIndex); err == nil {
		id, err = url.PathUnescape(rawID)
	}
	if err != nil {
		return "", "", fmt.Errorf("%w: resource %q: %w", data.ErrInvalid, uri, err)
	}
	return index, id, nil
}

// DocumentInput is one document to add.
type DocumentInput struct {
	ID       string         `json:"id" jsonschema:"a stable id; a document with the same id is replaced"`
	Text     string         `json:"text" jsonschema:"the document's plain text"`
	Title    string         `json:"title,omitempty"`
	Source   string         `json:"source,omitempty" jsonschema:"where it came from, e.g. a URL (default: mcp)"`
	Metadata map[string]any `json:"metadata,omitempty" jsonschema:"fields to filter on: strings, numbers, booleans or lists of them"`
}

// AddDocumentsInput is add_documents' arguments.
type AddDocumentsInput struct {
	Index     string          `json:"index,omitempty" jsonschema:"the index to write to; may be left out when the server serves exactly one"`
	Documents []DocumentInput `json:"documents" jsonschema:"the documents to add or replace"`
	Force     bool            `json:"force,omitempty" jsonschema:"rewrite documents even when unchanged"`
}

// AddDocumentsOutput is what add_documents did.
type AddDocumentsOutput struct {
	Written int `json:"written" jsonschema:"documents written"`
	Skipped int `json:"skipped" jsonschema:"documents skipped because they were unchanged"`
	Chunks  int `json:"chunks" jsonschema:"passages written"`
}

func (s *Server) addDocuments(ctx context.Context, _ *sdk.CallToolRequest, in AddDocumentsInput) (*sdk.CallToolResult, AddDocumentsOutput, error) {
	name, err := s.indexName(in.Index)
	if err != nil {
		return nil, AddDocumentsOutput{}, s.toolError(ToolAddDocuments, err)
	}
	docs, err := s.checkDocuments(in.Documents)
	if err != nil {
		return nil, AddDocumentsOutput{}, s.toolError(ToolAddDocuments, err)
	}
	sum, err := s.cfg.Service.Ingest(ctx, name, docs, rag.IngestOptions{Force: in.Force})
	if err != nil {
		return nil, AddDocumentsOutput{}, s.toolError(ToolAddDocuments, err)
	}
	return nil, AddDocumentsOutput{Written: sum.Docs, Skipped: sum.Skipped, Chunks: sum.Chunks}, nil
}

// checkDocuments validates add_documents' documents as the REST API does.
func (s *Server) checkDocuments(in []DocumentInput) ([]data.Document, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: documents is empty", data.ErrInvalid)
	}
	if len(in) > s.cfg.MaxDocuments {
		return nil, fmt.Errorf("%w: %d documents in one call (limit %d)", data.ErrTooLarge, len(in), s.cfg.MaxDocuments)
	}
	docs := make([]data.Document, len(in))
	for i, d := range in {
		if d.ID == "" {
			return nil, fmt.Errorf("%w: documents[%d] has no id", data.ErrInvalid, i)
		}
		if err := data.CheckID(fmt.Sprintf("documents[%d].id", i), d.ID, 0); err != nil {
			return nil, err
		}
		if err := data.CheckMetadata(d.Metadata); err != nil {
			return nil, fmt.Errorf("documents[%d] (%q): %w", i, d.ID, err)
		}
		if strings.TrimSpace(d.Text) == "" && strings.TrimSpace(d.Title) == "" {
			return nil, fmt.Errorf("%w: documents[%d] (%q) has no text", data.ErrInvalid, i, d.ID)
		}
		src := d.Source
		if src == "" {
			src = "mcp"
		}
		docs[i] = data.Document{ID: d.ID, Title: d.Title, Text: d.Text, Source: src, Metadata: d.Metadata}
	}
	return docs, nil
}

// DeleteDocumentInput is delete_document's arguments.
type DeleteDocumentInput struct {
	Index string `json:"index,omitempty" jsonschema:"the document's index; may be left out when the server serves exactly one"`
	DocID string `json:"doc_id" jsonschema:"the id of the document to delete"`
}

// DeleteDocumentOutput is what delete_document did.
type DeleteDocumentOutput struct {
	Deleted string `json:"deleted" jsonschema:"the id of the deleted document"`
}

func (s *Server) deleteDocument(ctx context.Context, _ *sdk.CallToolRequest, in DeleteDocumentInput) (*sdk.CallToolResult, DeleteDocumentOutput, error) {
	name, err := s.indexName(in.Index)
	if err == nil && in.DocID == "" {
		err = fmt.Errorf("%w: doc_id is required", data.ErrInvalid)
	}
	if err != nil {
		return nil, DeleteDocumentOutput{}, s.toolError(ToolDeleteDocument, err)
	}
	n, missing, err := s.cfg.Service.Backend().DeleteDocuments(ctx, name, []string{in.DocID})
	if err == nil && (n == 0 || len(missing) > 0) {
		err = fmt.Errorf("%w: document %q in index %q", data.ErrNotFound, in.DocID, name)
	}
	if err != nil {
		return nil, DeleteDocumentOutput{}, s.toolError(ToolDeleteDocument, err)
	}
	return nil, DeleteDocumentOutput{Deleted: in.DocID}, nil
}
