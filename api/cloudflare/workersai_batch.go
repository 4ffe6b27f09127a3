package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/aibatch"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
)

// Workers AI's asynchronous batch API on POST /ai/run/<model>: a body
// {"requests": [...]} sent with queueRequest (the query parameter
// ?queueRequest=true, as the REST API and the SDK send it, or a
// "queueRequest": true field) is queued and answered with
// {status: "queued", request_id, model}; a body {"request_id": "..."}
// polls it: {status: "queued" | "running"} until it is done, then
// {status: "done", responses: [{id, result, success, external_reference}]}.
// The queue itself is package aibatch.

// batchAccepted is the answer to a queued batch and to a poll.
type batchAccepted struct {
	Status    string             `json:"status"`
	RequestID string             `json:"request_id"`
	Model     string             `json:"model"`
	Responses []aibatch.Response `json:"responses,omitempty"`
}

// queueRequested reports whether the request asks for the batch queue.
func (h *handler) queueRequested(c echo.Context, probe map[string]json.RawMessage) (bool, error) {
	if v := c.QueryParam("queueRequest"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%w: queueRequest %q: want true or false", data.ErrInvalid, v)
		}
		if b {
			return true, nil
		}
	}
	if raw, ok := probe["queueRequest"]; ok {
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return false, fmt.Errorf("%w: queueRequest must be a boolean", data.ErrInvalid)
		}
		return b, nil
	}
	_, poll := probe["request_id"]
	return poll, nil
}

// runQueued submits a batch or polls one.
func (h *handler) runQueued(c echo.Context, model string, probe map[string]json.RawMessage) error {
	if h.batches == nil {
		return fmt.Errorf("the batch queue is not running: %w", data.ErrUnavailable)
	}
	if raw, poll := probe["request_id"]; poll {
		var id string
		if err := json.Unmarshal(raw, &id); err != nil || id == "" {
			return fmt.Errorf("%w: request_id must be a non-empty string", data.ErrInvalid)
		}
		b, err := h.batches.Get(id)
		if err != nil {
			return err
		}
		return ok(c, batchAccepted{Status: b.Status, RequestID: b.ID, Model: b.Model, Responses: b.Responses})
	}
	var reqs []json.RawMessage
	if raw, has := probe["requests"]; !has || json.Unmarshal(raw, &reqs) != nil || len(reqs) == 0 {
		return fmt.Errorf("%w: a queued request needs requests, a non-empty array of request objects (or request_id to poll)", data.ErrInvalid)
	}
	for k := range probe {
		if k != "requests" && k != "queueRequest" {
			return fmt.Errorf("%w: unknown field %q beside requests", data.ErrInvalid, k)
		}
	}
	for i, r := range reqs {
		if err := h.checkBatchRequest(model, r); err != nil {
			return fmt.Errorf("requests[%d]: %w", i, err)
		}
	}
	b, err := h.batches.Submit(model, reqs)
	if err != nil {
		return err
	}
	return ok(c, batchAccepted{Status: b.Status, RequestID: b.ID, Model: b.Model})
}

// checkBatchRequest validates one request of a batch before it is queued,
// so that a malformed one is a 400 now rather than a failure later.
func (h *handler) checkBatchRequest(model string, raw json.RawMessage) error {
	body := withoutReference(raw)
	if _, isEmbed := h.embeddingModel(model); isEmbed {
		if h.cfg.Models == nil {
			return fmt.Errorf("no embedding models configured: %w", data.ErrUnavailable)
		}
		var req embedRequest
		return api.DecodeJSON(body, &req)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return fmt.Errorf("%w: a request must be a JSON object", data.ErrInvalid)
	}
	if err := h.checkEmbeddingRequest(model, probe); err != nil {
		return err
	}
	var r genRequest
	if err := api.DecodeJSON(body, &r); err != nil {
		return err
	}
	if r.Stream {
		return fmt.Errorf("%w: stream is not available in a queued batch", data.ErrInvalid)
	}
	if _, err := r.request(); err != nil {
		return err
	}
	if h.cfg.Generator == nil {
		return fmt.Errorf("no text generator configured for %s: %w", model, data.ErrUnavailable)
	}
	return nil
}

// withoutReference drops external_reference, which the batch queue
// returns with the response and the model never sees.
func withoutReference(raw json.RawMessage) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return raw
	}
	if _, ok := obj["external_reference"]; !ok {
		return raw
	}
	delete(obj, "external_reference")
	b, err := json.Marshal(obj)
	if err != nil {
		return raw
	}
	return b
}

// runBatchRequest is the queue's Runner: one request, as the synchronous
// route would run it without streaming, its result as that route's
// result.
func (h *handler) runBatchRequest(ctx context.Context, model string, body json.RawMessage) (json.RawMessage, error) {
	if err := h.checkBatchRequest(model, body); err != nil {
		return nil, err
	}
	var res any
	if ragdModel, isEmbed := h.embeddingModel(model); isEmbed {
		r, err := h.embedResult(ctx, model, ragdModel, body)
		if err != nil {
			return nil, err
		}
		res = r
	} else {
		var r genRequest
		if err := api.DecodeJSON(body, &r); err != nil {
			return nil, err
		}
		req, err := r.request()
		if err != nil {
			return nil, err
		}
		g, err := h.generateResult(ctx, req)
		if err != nil {
			return nil, err
		}
		res = g
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode a batch result: %w", err)
	}
	return b, nil
}
