//go:build !unix

package evidence

import "time"

// cpuTime is unknown here; the benchmarks leave out their per-CPU-second
// figure.
func cpuTime() time.Duration { return 0 }
