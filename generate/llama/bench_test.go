package llama

import (
	"context"
	"strings"
	"testing"
	"time"
)

// benchPrompt is about 100 tokens.
var benchPrompt = strings.Repeat("Once upon a time there was a little model. ", 10)

func TestBenchFirstToken(t *testing.T) {
	m := tinyModel(t)
	res, err := m.BenchFirstToken(context.Background(), benchPrompt, 5)
	if err != nil {
		t.Fatal(err)
	}
	if res.PromptTokens < 80 || res.Generate <= 0 || res.Bare <= 0 || res.Runs != 5 ||
		res.GenerateMin > res.Generate || res.BareMin > res.Bare {
		t.Errorf("%+v", res)
	}
	t.Log(res)
	if _, err := m.BenchFirstToken(context.Background(), "", 1); err == nil {
		t.Error("empty prompt accepted")
	}
}

// BenchmarkFirstToken reports time to first token through Generate and
// through bare llama.cpp calls side by side, and ragd's added time:
//
//	go test -run '^$' -bench FirstToken -benchtime 50x ./generate/llama/
func BenchmarkFirstToken(b *testing.B) {
	m := tinyModel(b)
	ctx := context.Background()
	b.Run("Generate", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.firstTokenGenerate(ctx, benchPrompt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Bare", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := m.firstTokenBare(ctx, benchPrompt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Paired", func(b *testing.B) {
		var res FirstTokenTimes
		var err error
		for b.Loop() {
			if res, err = m.BenchFirstToken(ctx, benchPrompt, 1); err != nil {
				b.Fatal(err)
			}
		}
		_ = res
		r, err := m.BenchFirstToken(ctx, benchPrompt, 21)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Generate)/float64(time.Millisecond), "gen-ms")
		b.ReportMetric(float64(r.Bare)/float64(time.Millisecond), "bare-ms")
		b.ReportMetric(float64(r.Overhead)/float64(time.Microsecond), "overhead-us")
		b.ReportMetric(float64(r.GenerateMin)/float64(time.Millisecond), "gen-min-ms")
		b.ReportMetric(float64(r.BareMin)/float64(time.Millisecond), "bare-min-ms")
	})
}

// BenchmarkGenerate32 measures a full 32-token greedy completion.
func BenchmarkGenerate32(b *testing.B) {
	m := tinyModel(b)
	ctx := context.Background()
	for b.Loop() {
		r := collect(ctx, m, generateReq(32))
		if r.err != nil {
			b.Fatal(r.err)
		}
	}
}
