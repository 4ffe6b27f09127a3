// Package openaiwire is the OpenAI API's wire format as ragd speaks it, on
// both sides: the request, response and stream-chunk types of chat
// completions (and the legacy completions request) and of embeddings, with
// their validation and limits. The server routes (api: POST
// /v1/chat/completions and /v1/embeddings) decode requests and write
// responses with these types; the clients (generate/openai, a generator on
// an OpenAI-compatible server, and embed/remote, an embedder on one) encode
// requests and decode replies with the same types.
//
// Turning a request into a generation and a generator's events into chunks
// belongs to package generate (ChatRequest, ChatAdapter); this package
// imports only data.
package openaiwire
