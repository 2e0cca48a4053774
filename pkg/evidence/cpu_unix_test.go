//go:build unix

package evidence

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, all threads (the
// collector's too), user and system. On a shared machine wall-clock rates
// measure the neighbours as much as the code; CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
