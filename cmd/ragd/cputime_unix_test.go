//go:build unix

package main

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time of the process so far; on a
// shared machine it shows the cost that wall time hides.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
