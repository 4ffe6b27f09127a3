//go:build !unix

package onnx

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
