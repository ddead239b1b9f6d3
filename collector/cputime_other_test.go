//go:build !unix

package collector

import "time"

// processCPU is not measured here; the benchmarks then report zero.
func processCPU() time.Duration { return 0 }
