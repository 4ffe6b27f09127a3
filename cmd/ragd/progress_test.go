package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/ingest"
)

// screen replays what a terminal shows for text with \r and \n: it returns
// the lines and, for each write of marker, the column it started at.
func screen(out, marker string) (lines []string, cols []int) {
	var cur []rune
	col := 0
	flush := func() { lines = append(lines, strings.TrimRight(string(cur), " ")); cur, col = nil, 0 }
	for i := 0; i < len(out); {
		if strings.HasPrefix(out[i:], marker) {
			cols = append(cols, col)
		}
		r := rune(out[i])
		i++
		switch r {
		case '\n':
			flush()
		case '\r':
			col = 0
		default:
			if col < len(cur) {
				cur[col] = r
			} else {
				cur = append(cur, r)
			}
			col++
		}
	}
	if len(cur) > 0 {
		flush()
	}
	return lines, cols
}

func TestProgressBarLogLinesStartAtColumnZero(t *testing.T) {
	var out bytes.Buffer
	bar := &progressBar{w: &out, on: true}
	log := slog.New(slog.NewTextHandler(bar, nil))
	p := ingest.Progress{FilesTotal: 4, FilesDone: 1, Chunks: 10, Elapsed: time.Second}
	bar.update(p)
	log.Warn("skipped record", "line", 7)
	p.FilesDone = 2
	bar.update(p)
	log.Warn("skipped record", "line", 9)
	log.Warn("skipped record", "line", 11)
	p.FilesDone = 4
	bar.update(p)
	bar.done()

	lines, cols := screen(out.String(), "time=")
	if len(cols) != 3 {
		t.Fatalf("%d log lines seen, want 3:\n%q", len(cols), out.String())
	}
	for i, c := range cols {
		if c != 0 {
			t.Errorf("log line %d starts at column %d:\n%q", i, c, out.String())
		}
	}
	// Every log line stands alone on the screen, and the bar is the last line.
	var logs int
	for _, l := range lines {
		if strings.Contains(l, "skipped record") {
			logs++
			if !strings.HasPrefix(l, "time=") || strings.Contains(l, "files") {
				t.Errorf("log line mixed with the bar: %q", l)
			}
		}
	}
	if logs != 3 {
		t.Errorf("%d log lines on screen, want 3: %q", logs, lines)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "[####") || !strings.Contains(last, "4/4 files") {
		t.Errorf("last screen line %q, want the finished bar", last)
	}
}

func TestProgressBarOffPassesLogsThrough(t *testing.T) {
	var out bytes.Buffer
	bar := newProgressBar(&out, true) // not a terminal: off
	bar.update(ingest.Progress{FilesTotal: 1})
	if _, err := bar.Write([]byte("level=WARN msg=x\n")); err != nil {
		t.Fatal(err)
	}
	bar.done()
	if got := out.String(); got != "level=WARN msg=x\n" {
		t.Errorf("output %q", got)
	}
}

func TestProgressBarConcurrentUse(t *testing.T) {
	var out bytes.Buffer
	bar := &progressBar{w: &out, on: true}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if i%2 == 0 {
					bar.update(ingest.Progress{FilesTotal: 100, FilesDone: j})
				} else {
					_, _ = bar.Write([]byte("time=x msg=log\n"))
				}
			}
		}()
	}
	wg.Wait()
	bar.done()
	_, cols := screen(out.String(), "time=")
	for _, c := range cols {
		if c != 0 {
			t.Fatalf("a log line starts at column %d", c)
		}
	}
}
