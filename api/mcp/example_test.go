package mcp_test

import (
	"context"
	"fmt"
	"log"
	"os"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/api/mcp"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// An MCP client searching a keyword-only index through ragd's tools,
// connected over an in-memory transport (ragd mcp uses stdio, ragd serve
// Streamable HTTP at /mcp).
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "ragd-mcp-example")
	defer os.RemoveAll(dir)
	eng, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	svc, _ := rag.New(rag.Config{Backend: eng})
	if _, err := svc.CreateIndex(ctx, data.IndexConfig{Name: "kb"}); err != nil {
		log.Fatal(err)
	}
	docs := []data.Document{{ID: "tea", Text: "Steep green tea for two minutes."}, {ID: "bread", Text: "Bake the loaf in a hot oven."}}
	if _, err := svc.Ingest(ctx, "kb", docs, rag.IngestOptions{}); err != nil {
		log.Fatal(err)
	}

	srv, _ := mcp.New(mcp.Config{Service: svc, Access: mcp.ReadOnly})
	st, ct := sdk.NewInMemoryTransports()
	if _, err := srv.MCP(mcp.ReadOnly).Connect(ctx, st, nil); err != nil {
		log.Fatal(err)
	}
	client := sdk.NewClient(&sdk.Implementation{Name: "example", Version: "1"}, nil)
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()

	tools, _ := cs.ListTools(ctx, nil)
	for _, t := range tools.Tools {
		fmt.Println("tool:", t.Name)
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "search", Arguments: map[string]any{"index": "kb", "query": "green tea"}})
	if err != nil {
		log.Fatal(err)
	}
	hits := res.StructuredContent.(map[string]any)["hits"].([]any)
	fmt.Println("top hit:", hits[0].(map[string]any)["uri"])
	// Output:
	// tool: ask
	// tool: get_document
	// tool: list_indexes
	// tool: search
	// top hit: ragd://kb/tea
}
