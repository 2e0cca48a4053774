//go:build !linux

package testserver

import "syscall"

// Other systems have no parent-death signal; Stop still ends the children.
func sysProcAttr() *syscall.SysProcAttr { return nil }
