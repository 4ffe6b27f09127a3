//go:build !unix

package annbench

import "time"

var start = time.Now()

// cpuTime falls back to wall time where getrusage is missing.
func cpuTime() float64 { return time.Since(start).Seconds() }
