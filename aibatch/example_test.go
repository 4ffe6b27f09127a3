package aibatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ragd/ragd/aibatch"
)

// A queue whose runner upper-cases each request's text: submit a batch,
// then poll its id until it is done.
func Example() {
	upper := aibatch.RunnerFunc(func(ctx context.Context, model string, req json.RawMessage) (json.RawMessage, error) {
		var in struct{ Text string }
		if err := json.Unmarshal(req, &in); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"response": strings.ToUpper(in.Text)})
	})
	q, err := aibatch.Open(aibatch.Config{Runner: upper}) // Dir "": memory only
	if err != nil {
		panic(err)
	}
	defer q.Close()
	b, err := q.Submit("@cf/example", []json.RawMessage{
		json.RawMessage(`{"text":"hello","external_reference":"greeting"}`),
		json.RawMessage(`{"text":"world"}`),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Status)
	for b.Status != aibatch.StatusDone {
		time.Sleep(time.Millisecond)
		if b, err = q.Get(b.ID); err != nil {
			panic(err)
		}
	}
	for _, r := range b.Responses {
		fmt.Println(r.ID, r.Success, string(r.Result), string(r.ExternalReference))
	}
	// Output:
	// queued
	// 0 true {"response":"HELLO"} "greeting"
	// 1 true {"response":"WORLD"}
}
