package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/ragd/ragd/ingest"
)

// progressBar renders ingest progress on a terminal: a bar, counts, rate
// and ETA, redrawn in place. On a non-terminal it stays silent.
//
// It is also the writer for the log lines printed while it runs: a line
// written through it clears the bar's line first, so that it starts at
// column 0, and the bar is redrawn below it. Safe for concurrent use.
type progressBar struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	drawn   bool
	bar     string // the bar as last drawn; "" before the first update
	lastLn  int
	midLine bool // a log write ended without a newline: the cursor is not at column 0
}

func newProgressBar(w io.Writer, enabled bool) *progressBar {
	on := false
	if f, ok := w.(*os.File); ok && enabled {
		on = term.IsTerminal(int(f.Fd()))
	}
	return &progressBar{w: w, on: on}
}

func (b *progressBar) update(p ingest.Progress) {
	if !b.on {
		return
	}
	frac := 0.0
	if p.BytesTotal > 0 {
		frac = float64(p.BytesDone) / float64(p.BytesTotal)
	} else if p.FilesTotal > 0 {
		frac = float64(p.FilesDone) / float64(p.FilesTotal)
	}
	const width = 28
	filled := int(frac * width)
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Chunks) / s
	}
	eta := "--:--"
	if frac > 0.01 && frac < 1 {
		rem := time.Duration(float64(p.Elapsed) * (1 - frac) / frac)
		eta = fmtDur(rem)
	}
	line := fmt.Sprintf("[%s%s] %3.0f%% %d/%d files  %d chunks  %.0f chunks/s  ETA %s  %d skipped %d failed",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100, p.FilesDone, p.FilesTotal, p.Chunks, rate, eta, p.Skipped, p.Failed)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.midLine {
		fmt.Fprintln(b.w)
		b.midLine = false
	}
	b.bar = line
	b.draw()
}

// draw writes the bar over the current line, padding over a longer
// earlier one. The caller holds mu.
func (b *progressBar) draw() {
	line := "\r" + b.bar
	pad := ""
	if n := b.lastLn - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	b.lastLn = len(line)
	fmt.Fprint(b.w, line+pad)
	b.drawn = true
}

// Write writes log output. While the bar is on screen it blanks the bar's
// line, writes p from column 0 and, once p ends a line, redraws the bar.
func (b *progressBar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.drawn || b.midLine {
		n, err := b.w.Write(p)
		b.midLine = b.drawn && !bytes.HasSuffix(p, []byte("\n"))
		if b.drawn && !b.midLine {
			b.draw()
		}
		return n, err
	}
	if _, err := io.WriteString(b.w, "\r"+strings.Repeat(" ", b.lastLn)+"\r"); err != nil {
		return 0, err
	}
	b.lastLn = 0
	n, err := b.w.Write(p)
	if err != nil {
		return n, err
	}
	if bytes.HasSuffix(p, []byte("\n")) {
		b.draw()
	} else {
		b.midLine = true
	}
	return n, nil
}

// done ends the bar's line, leaving it on screen.
func (b *progressBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn, b.bar, b.lastLn = false, "", 0
	}
}
