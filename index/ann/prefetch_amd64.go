package ann

import "unsafe"

// prefetchLines hints the CPU to load lines 64-byte cache lines from p.
// A hint never faults.
//
//go:noescape
func prefetchLines(p unsafe.Pointer, lines int)
