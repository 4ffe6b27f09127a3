package data_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestClassOf(t *testing.T) {
	own := data.Kinded(data.ErrOverloaded, "pkg: queue full")
	for _, tt := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("index %q: %w", "x", data.ErrNotFound), 404, "not_found"},
		{fmt.Errorf("%w: %w", data.ErrInvalid, data.ErrDimension), 400, "dimension_mismatch"},
		{fmt.Errorf("%w: %w", data.ErrInvalid, data.ErrModelMismatch), 409, "model_mismatch"},
		{data.ErrConflict, 409, "conflict"},
		{fmt.Errorf("wrapped: %w", own), 429, "overloaded"},
		{fmt.Errorf("req: %w", context.Canceled), 499, "cancelled"},
		{errors.New("plain"), 500, "internal"},
	} {
		cl := data.ClassOf(tt.err)
		if cl.Status != tt.status || cl.Code != tt.code {
			t.Errorf("ClassOf(%v) = %+v, want %d %s", tt.err, cl, tt.status, tt.code)
		}
	}
	if !errors.Is(own, data.ErrOverloaded) || own.Error() != "pkg: queue full" {
		t.Fatalf("Kinded: %v", own)
	}
	if data.ClassOf(context.Canceled).Logged() || !data.ClassOf(context.DeadlineExceeded).Logged() {
		t.Fatal("499 must not be logged, 504 must")
	}
	if c := data.ClassOfStatus(404); c.Number != 7003 {
		t.Fatalf("status-only 404 = %+v", c)
	}
	if c := data.ClassOfStatus(418); c.Status != 418 || c.Number != 40001 || !strings.Contains(c.Code, "teapot") {
		t.Fatalf("418 = %+v", c)
	}
}

func TestLimits(t *testing.T) {
	for _, id := range []string{"", "x\xff", "x\ufffd", "x\x00", "a\nb", "\u0085", strings.Repeat("a", data.MaxIDBytes+1)} {
		if err := data.CheckID("id", id, 0); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("CheckID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"a", "docs/a b.md", "café ☕", strings.Repeat("a", data.MaxIDBytes)} {
		if err := data.CheckID("id", id, 0); err != nil {
			t.Errorf("CheckID(%q) = %v", id, err)
		}
	}
	if err := data.CheckID("id", strings.Repeat("a", 65), 64); err == nil {
		t.Error("a tighter limit is applied")
	}
	for _, c := range [][2]int{{1e9, 0}, {8, 0}, {256, 256}, {256, -1}, {0, -1}} {
		if err := data.CheckChunking(c[0], c[1]); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("CheckChunking(%v) = %v", c, err)
		}
	}
	for _, c := range [][2]int{{0, 0}, {256, 32}, {data.MinChunkSize, 0}, {data.MaxChunkSize, 100}} {
		if err := data.CheckChunking(c[0], c[1]); err != nil {
			t.Errorf("CheckChunking(%v) = %v", c, err)
		}
	}
	if err := data.CheckMetadata(map[string]any{"k": strings.Repeat("x", data.MaxMetadataBytes)}); !errors.Is(err, data.ErrTooLarge) {
		t.Errorf("big metadata: %v", err)
	}
	for _, tv := range []float64{-0.1, 2.01, 99} {
		if data.CheckTemperature(tv) == nil {
			t.Errorf("temperature %v accepted", tv)
		}
	}
	if data.CheckTemperature(0) != nil || data.CheckTemperature(2) != nil {
		t.Error("0 and 2 are in range")
	}
}
