package bert_test

import (
	"fmt"

	"github.com/ragd/ragd/embed/bert"
)

func ExampleWeights_Forward() {
	cfg := bert.TinyConfig()
	cfg.NumLabels = 1 // add a cross-encoder head
	w := bert.RandomWeights(cfg, 42)
	out, err := w.Forward(bert.Input{
		IDs:     []int32{101, 7592, 102, 2088, 102, 0},
		TypeIDs: []int32{0, 0, 0, 1, 1, 0},
		Mask:    []int32{1, 1, 1, 1, 1, 0},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(out.Hidden)/cfg.HiddenSize, "positions ×", cfg.HiddenSize)
	fmt.Println(len(out.Pooled), "pooled,", len(out.Logits), "logit")
	// Output:
	// 6 positions × 64
	// 64 pooled, 1 logit
}
