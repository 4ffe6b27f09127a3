// Package mcp is ragd's Model Context Protocol front end: it turns MCP
// tool calls and resource reads into calls on the retrieval service
// (rag.Service) and its storage backend, with the official Go SDK.
//
// Tools: search, ask (with progress notifications while the answer is
// generated), list_indexes and get_document need read access;
// add_documents and delete_document need write access. Documents are
// resources under the template ragd://{index}/{doc_id} (the id
// percent-encoded as a path segment); resources/list pages through the
// documents of the allowed indexes.
//
// Access is decided twice. A session lists only the tools its access
// allows: over HTTP, that of the API key that opened the session (read
// keys see no write tools); on stdio, Config.Access. And every write call
// is checked again against the key that sent it, so a session id reused
// with a weaker key cannot write: such a call is refused with a tool
// error that names the scope it needs.
//
// Over HTTP, Shutdown ends the sessions once their calls are done (ragd
// serve calls it when it stops), so that the sessions' standing event
// streams do not hold up a graceful shutdown.
//
// Without API keys (loopback-only mode) Handler refuses a request that
// reached a loopback socket under a non-loopback Host name, as a
// DNS-rebinding web page would send it; a request with a key may come
// through a reverse proxy under any name.
//
// Config.Indexes limits the indexes the tools and resources may touch
// (ragd mcp --index NAME); an index outside it is reported as not found.
package mcp
