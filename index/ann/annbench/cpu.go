package annbench

import (
	"time"

	"github.com/ragd/ragd/internal/cputime"
)

var start = time.Now()

// cpuTime returns the process's user+system CPU seconds, or wall seconds
// where CPU time is not measured.
func cpuTime() float64 {
	if cputime.Measured {
		return cputime.Process().Seconds()
	}
	return time.Since(start).Seconds()
}
