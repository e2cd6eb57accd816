package devstack

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a child process in its own process group, stopped with SIGINT and, past a grace period, SIGKILL. On
// Linux the kernel also kills it when its parent dies.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartProcess runs a binary with extra environment variables on top of this process' environment.
func StartProcess(name, binary string, args, env []string, out io.Writer) (*Process, error) {
	return startProcessAs(name, binary, args, env, out, nil)
}

// startProcessAs is StartProcess under another user's credentials (nil: this process' own).
func startProcessAs(name, binary string, args, env []string, out io.Writer, cred *syscall.Credential) (*Process, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group: a terminal's Ctrl-C reaches only the parent, which stops its children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	dieWithParent(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, binary, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process ID, for reading its resource use.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited; Err then tells how.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process' exit error, valid once Done is closed.
func (p *Process) Err() error { return p.err }

// Stop interrupts the process and waits for it to exit, killing it after grace.
func (p *Process) Stop(grace time.Duration) {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Kill kills the process group with SIGKILL, as a crash would, and waits for it to exit.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}
