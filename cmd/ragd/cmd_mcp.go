package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/api/mcp"
	"github.com/ragd/ragd/data"
)

func init() {
	register(&command{name: "mcp", summary: "serve MCP tools over stdio for desktop agents (search, ask, documents)", run: runMCP})
}

func runMCP(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "mcp", "mcp [--index NAME]... [--read-only] [--data-dir DIR]")
	var indexes multiFlag
	fs.Var(&indexes, "index", "limit the tools to this index (repeatable; default: every index)")
	readOnly := fs.Bool("read-only", false, "offer only the read tools (no add_documents, delete_document)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("mcp takes no arguments (got %q); it speaks MCP on standard input and output", pos[0])
	}
	a, err := openApp(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	for _, name := range indexes {
		if _, err := a.backend.IndexConfig(ctx, name); err != nil {
			if errors.Is(err, data.ErrNotFound) {
				return usageErr("--index %q: no such index", name)
			}
			return err
		}
	}
	gen, err := a.generator(ctx)
	if err != nil {
		return err
	}
	access := mcp.ReadWrite
	if *readOnly {
		access = mcp.ReadOnly
	}
	srv, err := mcp.New(mcp.Config{Service: a.service(gen), Access: access, Indexes: indexes, Version: version, Logger: a.log})
	if err != nil {
		return err
	}
	// Standard output carries the protocol only; logs go to standard error.
	t := &sdk.IOTransport{Reader: io.NopCloser(e.stdin), Writer: nopWriteCloser{e.stdout}}
	err = srv.MCP(access).Run(ctx, t)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mcp: %w", err)
	}
	return nil
}

// nopWriteCloser is a writer the transport may close without closing it.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
