package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// Service is what the tools call: the retrieval service (rag.Service is
// one).
type Service interface {
	Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error)
	Ask(ctx context.Context, name string, req rag.AskRequest, emit func(rag.Event) error) (*rag.AskResult, error)
	Ingest(ctx context.Context, name string, docs []data.Document, opts rag.IngestOptions) (rag.IngestResult, error)
	Backend() index.Backend
}

// Access is what a session or a call may do.
type Access int

// Accesses, weakest first.
const (
	// ReadOnly allows search, ask, list_indexes, get_document and
	// resource reads.
	ReadOnly Access = iota + 1
	// ReadWrite adds add_documents and delete_document.
	ReadWrite
)

// Config configures the MCP server.
type Config struct {
	// Service answers the tools (required).
	Service Service
	// Access is the most any session may do (default ReadWrite). Over
	// HTTP a session gets the lesser of this and its API key's scope.
	Access Access
	// Indexes, when not empty, are the only indexes the tools and
	// resources may use; the others are reported as not found.
	Indexes []string
	// Version is reported to clients as the server's version.
	Version string
	// MaxDocuments bounds the documents of one add_documents call
	// (default 1000).
	MaxDocuments int
	// MaxBodyBytes bounds an HTTP request's body (default 32 MiB).
	MaxBodyBytes int64
	// PageSize is how many documents one resources/list page holds
	// (default 100).
	PageSize int
	// ProgressEvery is how many answer tokens ask gathers into one
	// progress notification (default 8).
	ProgressEvery int
	// Logger receives internal failures (default: discard).
	Logger *slog.Logger
}

// Server builds MCP servers over one service.
type Server struct {
	cfg     Config
	log     *slog.Logger
	schemas *sdk.SchemaCache // tools' schemas, inferred once for every session's server

	httpOnce sync.Once
	http     map[Access]*sdk.Server // Handler's servers, by access
	inflight atomic.Int64           // Handler's requests in progress, other than GET streams
}

// New returns a Server; it fails without a service.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, fmt.Errorf("mcp: %w: no service", data.ErrInvalid)
	}
	if cfg.Access == 0 {
		cfg.Access = ReadWrite
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxDocuments <= 0 {
		cfg.MaxDocuments = 1000
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 8
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	return &Server{cfg: cfg, log: cfg.Logger, schemas: sdk.NewSchemaCache()}, nil
}

// Tool names.
const (
	ToolSearch         = "search"
	ToolAsk            = "ask"
	ToolListIndexes    = "list_indexes"
	ToolGetDocument    = "get_document"
	ToolAddDocuments   = "add_documents"
	ToolDeleteDocument = "delete_document"
)

// MCP returns an MCP server whose sessions may do at most access (capped
// by Config.Access): write tools are added only for ReadWrite.
func (s *Server) MCP(access Access) *sdk.Server {
	access = min(access, s.cfg.Access)
	srv := sdk.NewServer(&sdk.Implementation{Name: "ragd", Title: "ragd retrieval", Version: s.cfg.Version}, &sdk.ServerOptions{
		Instructions: "ragd searches document indexes. Call list_indexes to see them, search for passages, " +
			"ask for a cited answer, get_document or read ragd://{index}/{doc_id} for a whole document.",
		Logger:      s.log,
		SchemaCache: s.schemas,
	})
	sdk.AddTool(srv, &sdk.Tool{Name: ToolSearch, Title: "Search an index",
		Description: "Find the passages of an index that best match a query (keyword, vector or hybrid retrieval). " +
			"Returns hits with their text, source, score and a ragd:// resource URI for the whole document.",
		Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true}}, s.search)
	sdk.AddTool(srv, &sdk.Tool{Name: ToolAsk, Title: "Ask a question",
		Description: "Answer a question from an index: retrieve passages, generate an answer that cites them as [n], " +
			"and return the answer with its citations. Sends progress notifications while generating when the request carries a progress token.",
		Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true}}, s.ask)
	sdk.AddTool(srv, &sdk.Tool{Name: ToolListIndexes, Title: "List indexes",
		Description: "List the indexes this server may search, with their embedding model and document counts.",
		Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true}}, s.listIndexes)
	sdk.AddTool(srv, &sdk.Tool{Name: ToolGetDocument, Title: "Get a document",
		Description: "Return one whole document of an index by its id: text, title, source and metadata.",
		Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true}}, s.getDocument)
	if access >= ReadWrite {
		sdk.AddTool(srv, &sdk.Tool{Name: ToolAddDocuments, Title: "Add documents",
			Description: "Add or replace documents in an index (each an id and text). They are chunked and embedded with the index's settings; " +
				"unchanged documents are skipped. Needs write access.",
			Annotations: &sdk.ToolAnnotations{IdempotentHint: true}}, guardWrite(s, s.addDocuments))
		sdk.AddTool(srv, &sdk.Tool{Name: ToolDeleteDocument, Title: "Delete a document",
			Description: "Delete one document and its chunks from an index. Needs write access.",
			Annotations: &sdk.ToolAnnotations{DestructiveHint: ptr(true), IdempotentHint: true}}, guardWrite(s, s.deleteDocument))
	}
	srv.AddResourceTemplate(&sdk.ResourceTemplate{Name: "document", Title: "ragd document",
		URITemplate: "ragd://{index}/{doc_id}", MIMEType: "text/plain",
		Description: "A whole document of an index, as text; doc_id is percent-encoded. Its title, source and metadata are in _meta."},
		s.readDocument)
	srv.AddReceivingMiddleware(s.listDocuments)
	return srv
}

func ptr[T any](v T) *T { return &v }

// allowed reports whether the tools may use index name.
func (s *Server) allowed(name string) bool {
	return len(s.cfg.Indexes) == 0 || slices.Contains(s.cfg.Indexes, name)
}

// indexName resolves a tool's index argument: the one given (which must
// be allowed), or the only allowed index when exactly one is configured.
func (s *Server) indexName(name string) (string, error) {
	if name == "" {
		if len(s.cfg.Indexes) == 1 {
			return s.cfg.Indexes[0], nil
		}
		return "", fmt.Errorf("%w: index is required (call list_indexes to see them)", data.ErrInvalid)
	}
	if !s.allowed(name) {
		return "", fmt.Errorf("%w: index %q is not available here", data.ErrNotFound, name)
	}
	return name, nil
}

// toolError turns a failure into the error a client sees: the stable
// code and message of data's error table, or, for an internal failure,
// a generic message (the detail goes to the log).
func (s *Server) toolError(tool string, err error) error {
	cl := data.ClassOf(err)
	if cl.Logged() {
		s.log.Error("mcp tool failed", "tool", tool, "err", err)
	}
	if cl.Status == http.StatusInternalServerError {
		return fmt.Errorf("%s: internal error (see the server log)", cl.Code)
	}
	return fmt.Errorf("%s: %s", cl.Code, err.Error())
}
