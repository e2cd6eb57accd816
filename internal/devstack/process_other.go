//go:build !linux

package devstack

import "syscall"

// dieWithParent has no equivalent outside Linux: there, the children are stopped by Stack.Stop only, so a
// devstack killed with SIGKILL leaves them running.
func dieWithParent(*syscall.SysProcAttr) {}
