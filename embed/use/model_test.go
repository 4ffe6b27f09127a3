package use

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ragd/ragd/embed"
)

func l2norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestEmbedSemantics(t *testing.T) {
	m := testModel(t)
	v, err := m.Embed(context.Background(), embed.Query, []string{
		"how do I bake bread", "recipe for sourdough loaf", "the stock market fell today",
	})
	if err != nil {
		t.Fatal(err)
	}
	related, unrelated := cosine(v[0], v[1]), cosine(v[0], v[2])
	t.Logf("cos(bread, sourdough) = %.4f, cos(bread, stocks) = %.4f", related, unrelated)
	if related < unrelated+0.3 {
		t.Errorf("related pair %.3f not clearly above unrelated pair %.3f", related, unrelated)
	}
}

// TestEmbedBatchingInvariant checks that a text's vector does not depend on
// the texts batched with it, the batch size or the thread count: every
// layer works on each token row or each sequence on its own.
func TestEmbedBatchingInvariant(t *testing.T) {
	m := testModel(t)
	texts := benchTexts(t, 60)
	want, err := m.Embed(context.Background(), embed.Passage, texts)
	if err != nil {
		t.Fatal(err)
	}
	configs := []Options{{Threads: 1}, {Threads: 3, BatchTokens: 1}, {Threads: 2, BatchTokens: 200}}
	for _, opts := range configs {
		other := newModel(m.tok, m.enc, opts)
		got, err := other.Embed(context.Background(), embed.Passage, texts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range texts {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("%+v: text %d differs (cosine %.7f)", opts, i, cosine(got[i], want[i]))
			}
		}
	}
	for _, i := range []int{0, 17, 59} {
		one, err := m.Embed(context.Background(), embed.Passage, texts[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one[0], want[i]) {
			t.Errorf("text %d alone differs from its vector in a batch", i)
		}
	}
}

func TestEmbedEdgeCases(t *testing.T) {
	m := testModel(t)
	ctx := context.Background()
	out, err := m.Embed(ctx, embed.Passage, nil)
	if err != nil || out == nil || len(out) != 0 {
		t.Fatalf("Embed(nil) = %v, %v; want an empty slice", out, err)
	}
	texts := []string{
		"", "\xff\xfe\xfd", "\x00\x01\x02", "\u200b", strings.Repeat("x", 100000),
		"\ufffd", strings.Repeat("😀", 50), " ", "\t\n",
	}
	vecs, err := m.Embed(ctx, embed.Passage, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs {
		if len(v) != 512 {
			t.Fatalf("text %d: %d dims", i, len(v))
		}
		if n := l2norm(v); math.Abs(n-1) > 1e-4 {
			t.Errorf("text %d %.20q: norm %v, want 1", i, texts[i], n)
		}
	}
	// Invalid UTF-8 reads as U+FFFD: both are one unknown token.
	if !slices.Equal(vecs[1], vecs[5]) {
		t.Errorf("invalid UTF-8 and U+FFFD embed differently")
	}
	// The empty string's vector is the same in any batch and differs from
	// a real text's.
	again, err := m.Embed(ctx, embed.Passage, []string{"x", ""})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again[1], vecs[0]) {
		t.Errorf("empty string embeds differently in another batch")
	}
	if cosine(vecs[0], again[0]) > 0.99 {
		t.Errorf("empty string embeds like a real text")
	}
}

func TestEmbedContext(t *testing.T) {
	m := testModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Embed(ctx, embed.Passage, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: error = %v, want context.Canceled", err)
	}
	// Cancel while a large request runs: the error surfaces, no panic.
	ctx, cancel = context.WithCancel(context.Background())
	small := newModel(m.tok, m.enc, Options{Threads: 1, BatchTokens: 8})
	texts := benchTexts(t, 400)
	done := make(chan error, 1)
	go func() {
		_, err := small.Embed(ctx, embed.Passage, texts)
		done <- err
	}()
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want nil or context.Canceled", err)
	}
}

func TestEmbedConcurrent(t *testing.T) {
	m := testModel(t)
	texts := benchTexts(t, 24)
	want, err := m.Embed(context.Background(), embed.Passage, texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := g % len(texts)
			got, err := m.Embed(context.Background(), embed.Query, texts[i:i+3])
			if err != nil {
				errs <- err
				return
			}
			for j := range got {
				if !slices.Equal(got[j], want[i+j]) {
					errs <- fmt.Errorf("goroutine %d: text %d differs", g, i+j)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
