package grammar_test

import (
	"fmt"

	"github.com/ragd/ragd/generate/grammar"
)

func ExampleSchema_Validate() {
	s, err := grammar.Parse([]byte(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Validate([]byte(`{"ok":true}`)))
	fmt.Println(s.Validate([]byte(`{}`)))
	// Output:
	// <nil>
	// invalid input: $: missing required property "ok"
}
