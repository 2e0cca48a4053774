package testserver

import "syscall"

// sysProcAttr makes the kernel kill etcd and the apiserver when the test
// binary dies (a panic, go test's timeout, ^C), so no orphan keeps ports and
// gigabytes of memory on a shared machine.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
