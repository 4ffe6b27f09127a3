//go:build !amd64

package ann

import "unsafe"

func prefetchLines(p unsafe.Pointer, lines int) {}
