//go:build unix

package onnx

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time of the whole process (all
// threads, ONNX Runtime's included); ok is false where unavailable.
func processCPU() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
