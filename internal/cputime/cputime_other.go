//go:build !unix

package cputime

import "time"

// Measured reports whether Process measures anything on this platform.
const Measured = false

// Process is not measured on this platform: always 0.
func Process() time.Duration { return 0 }
