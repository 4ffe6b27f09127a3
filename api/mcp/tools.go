package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/rag"
)

// SearchInput is the search tool's arguments.
type SearchInput struct {
	Query string `json:"query" jsonschema:"what to look for, in natural language or keywords"`
	Index string `json:"index,omitempty" jsonschema:"the index to search (see list_indexes); may be left out when the server serves exactly one"`
	TopK  int    `json:"top_k,omitempty" jsonschema:"how many hits to return, 1 to 100 (default 5)"`
	Mode  string `json:"mode,omitempty" jsonschema:"retrieval mode: bm25 (keywords), vector (meaning) or hybrid (both, fused); default: hybrid when the index has an embedding model, else bm25"`
	// Filter is decoded by data.ParseFilterJSON.
	Filter map[string]any `json:"filter,omitempty" jsonschema:"metadata filter in the Vectorize shape, e.g. {\"lang\": \"en\", \"year\": {\"$gte\": 2020}, \"tag\": {\"$in\": [\"a\", \"b\"]}}; operators $eq $ne $lt $lte $gt $gte $in $nin"`
}

// Hit is one search result.
type Hit struct {
	DocID    string         `json:"doc_id" jsonschema:"the document's id"`
	ChunkID  string         `json:"chunk_id" jsonschema:"the passage's id"`
	Score    float64        `json:"score" jsonschema:"relevance, higher is better (its scale depends on the mode)"`
	Text     string         `json:"text" jsonschema:"the passage text"`
	Source   string         `json:"source,omitempty" jsonschema:"where the document came from (file path, URL)"`
	Title    string         `json:"title,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	URI      string         `json:"uri" jsonschema:"resource URI of the whole document"`
}

// SearchOutput is the search tool's structured result.
type SearchOutput struct {
	Index string `json:"index"`
	Hits  []Hit  `json:"hits"`
}

// maxTopK bounds top_k for MCP callers (an agent's context is small).
const maxTopK = 100

func (in SearchInput) query() (data.Query, error) {
	if strings.TrimSpace(in.Query) == "" {
		return data.Query{}, fmt.Errorf("%w: query is required", data.ErrInvalid)
	}
	q := data.Query{Text: in.Query, TopK: in.TopK, Mode: data.Mode(strings.ToLower(in.Mode))}
	if q.TopK == 0 {
		q.TopK = 5
	}
	if q.TopK < 1 || q.TopK > maxTopK {
		return q, fmt.Errorf("%w: top_k %d out of range 1..%d", data.ErrInvalid, in.TopK, maxTopK)
	}
	if q.Mode != "" && !q.Mode.Valid() {
		return q, fmt.Errorf("%w: mode %q: want bm25, vector or hybrid", data.ErrInvalid, in.Mode)
	}
	if len(in.Filter) > 0 {
		b, err := json.Marshal(in.Filter)
		if err != nil {
			return q, fmt.Errorf("%w: filter: %w", data.ErrInvalid, err)
		}
		if q.Filter, err = data.ParseFilterJSON(b); err != nil {
			return q, err
		}
	}
	return q, nil
}

func (s *Server) search(ctx context.Context, _ *sdk.CallToolRequest, in SearchInput) (*sdk.CallToolResult, SearchOutput, error) {
	name, err := s.indexName(in.Index)
	if err != nil {
		return nil, SearchOutput{}, s.toolError(ToolSearch, err)
	}
	q, err := in.query()
	if err != nil {
		return nil, SearchOutput{}, s.toolError(ToolSearch, err)
	}
	hits, err := s.cfg.Service.Search(ctx, name, q)
	if err != nil {
		return nil, SearchOutput{}, s.toolError(ToolSearch, err)
	}
	return nil, SearchOutput{Index: name, Hits: toHits(name, hits)}, nil
}

func toHits(name string, hits []data.Hit) []Hit {
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = Hit{DocID: h.DocID, ChunkID: h.ChunkID, Score: h.Score, Text: h.Text, Source: h.Source,
			Title: h.Title, Metadata: h.Metadata, URI: DocumentURI(name, h.DocID)}
	}
	return out
}

// DocumentURI is the resource URI of a document: ragd://INDEX/ID, the id
// percent-encoded as one path segment.
func DocumentURI(index, id string) string {
	return "ragd://" + url.PathEscape(index) + "/" + url.PathEscape(id)
}

// AskInput is the ask tool's arguments.
type AskInput struct {
	Question  string         `json:"question" jsonschema:"the question to answer from the index's documents"`
	Index     string         `json:"index,omitempty" jsonschema:"the index to answer from (see list_indexes); may be left out when the server serves exactly one"`
	TopK      int            `json:"top_k,omitempty" jsonschema:"how many passages to retrieve for the answer, 1 to 100 (default 5)"`
	Mode      string         `json:"mode,omitempty" jsonschema:"retrieval mode: bm25, vector or hybrid (default: by the index)"`
	Filter    map[string]any `json:"filter,omitempty" jsonschema:"metadata filter for retrieval, as in search"`
	MaxTokens int            `json:"max_tokens,omitempty" jsonschema:"longest answer in tokens (default: the generator's)"`
}

// Citation is a passage an answer cites as [n].
type Citation struct {
	N       int    `json:"n" jsonschema:"the number the answer cites it by, as [n]"`
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id"`
	Source  string `json:"source,omitempty"`
	Title   string `json:"title,omitempty"`
	URI     string `json:"uri" jsonschema:"resource URI of the whole document"`
}

// AskOutput is the ask tool's structured result.
type AskOutput struct {
	Answer       string     `json:"answer" jsonschema:"the generated answer; [n] marks cite the citations"`
	Citations    []Citation `json:"citations"`
	Hits         []Hit      `json:"hits" jsonschema:"the passages retrieved for the answer"`
	FinishReason string     `json:"finish_reason,omitempty"`
	Generator    string     `json:"generator,omitempty" jsonschema:"the generator that wrote the answer"`
}

func (s *Server) ask(ctx context.Context, req *sdk.CallToolRequest, in AskInput) (*sdk.CallToolResult, AskOutput, error) {
	name, err := s.indexName(in.Index)
	if err != nil {
		return nil, AskOutput{}, s.toolError(ToolAsk, err)
	}
	if strings.TrimSpace(in.Question) == "" {
		return nil, AskOutput{}, s.toolError(ToolAsk, fmt.Errorf("%w: question is required", data.ErrInvalid))
	}
	q, err := SearchInput{Query: in.Question, TopK: in.TopK, Mode: in.Mode, Filter: in.Filter}.query()
	if err != nil {
		return nil, AskOutput{}, s.toolError(ToolAsk, err)
	}
	if in.MaxTokens < 0 {
		return nil, AskOutput{}, s.toolError(ToolAsk, fmt.Errorf("%w: max_tokens %d is negative", data.ErrInvalid, in.MaxTokens))
	}
	p := s.progress(ctx, req)
	res, err := s.cfg.Service.Ask(ctx, name, rag.AskRequest{Query: q, Answer: generate.AnswerOptions{MaxTokens: in.MaxTokens}}, p.event)
	if err != nil {
		return nil, AskOutput{}, s.toolError(ToolAsk, err)
	}
	p.flush("answer complete")
	out := AskOutput{Answer: res.Answer.Text, Hits: toHits(name, res.Hits), FinishReason: res.Answer.FinishReason,
		Generator: res.Answer.Generator.ID, Citations: make([]Citation, len(res.Answer.Citations))}
	for i, c := range res.Answer.Citations {
		out.Citations[i] = Citation{N: c.N, DocID: c.DocID, ChunkID: c.ChunkID, Source: c.Source, Title: c.Title, URI: DocumentURI(name, c.DocID)}
	}
	// The answer as plain text first, so a client that shows only text
	// content shows the answer; the structured content has the rest.
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: answerText(out)}}}, out, nil
}

// answerText is the answer followed by its numbered sources.
func answerText(out AskOutput) string {
	var b strings.Builder
	b.WriteString(out.Answer)
	if len(out.Citations) > 0 {
		b.WriteString("\n\nSources:")
		for _, c := range out.Citations {
			label := c.Title
			if label == "" {
				label = c.Source
			}
			if label == "" {
				label = c.DocID
			}
			fmt.Fprintf(&b, "\n[%d] %s (%s)", c.N, label, c.URI)
		}
	}
	return b.String()
}

// progress sends an ask's progress notifications: one when passages are
// retrieved, then one per Config.ProgressEvery answer tokens carrying
// those tokens' text, and one at the end. Without a progress token it
// sends nothing.
type progress struct {
	s       *Server
	ctx     context.Context
	session *sdk.ServerSession
	token   any
	tokens  int
	pending strings.Builder
	n       int
}

func (s *Server) progress(ctx context.Context, req *sdk.CallToolRequest) *progress {
	p := &progress{s: s, ctx: ctx}
	if req != nil && req.Params != nil && req.Session != nil {
		p.token, p.session = req.Params.GetProgressToken(), req.Session
	}
	return p
}

func (p *progress) event(ev rag.Event) error {
	if p.token == nil {
		return nil
	}
	switch ev.Type {
	case rag.EventRetrieval:
		p.notify(fmt.Sprintf("retrieved %d passages; generating", len(ev.Passages)))
	case rag.EventToken:
		p.tokens++
		p.pending.WriteString(ev.Delta)
		if p.tokens%p.s.cfg.ProgressEvery == 0 {
			p.flush("")
		}
	}
	return nil
}

// flush sends the tokens gathered since the last notification, or msg
// when there are none.
func (p *progress) flush(msg string) {
	if p.token == nil {
		return
	}
	if p.pending.Len() > 0 {
		msg = p.pending.String()
		p.pending.Reset()
	}
	if msg != "" {
		p.notify(msg)
	}
}

func (p *progress) notify(msg string) {
	p.n++
	err := p.session.NotifyProgress(p.ctx, &sdk.ProgressNotificationParams{ProgressToken: p.token, Message: msg, Progress: float64(p.n)})
	if err != nil {
		p.s.log.Debug("mcp progress notification not sent", "err", err)
	}
}
