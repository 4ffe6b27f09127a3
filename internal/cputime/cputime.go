// Package cputime reads the CPU time the process has used, for benchmarks
// on shared machines, where wall time hides what work costs.
package cputime
