//go:build !amd64

package ann

func dotI8(a, b []int8) int32 { return dotI8Go(a, b) }
