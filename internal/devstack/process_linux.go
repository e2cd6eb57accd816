package devstack

import "syscall"

// dieWithParent makes the kernel kill the child when the process that started it dies, however it dies (SIGKILL,
// a closed terminal, a crash): a dev stack must never leave a dev server or a relay holding its ports behind. The
// signal follows the OS thread that forked the child, and Go ends a thread only when a goroutine locked to it
// returns, which devstack never does.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
