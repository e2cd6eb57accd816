package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/devstack"
)

// devstackRun is `make run` as a process: kycflow-devstack on free ports, its output in a pipe the test reads.
type devstackRun struct {
	cmd *exec.Cmd
	// out is the read end of devstack's stdout and stderr; lines are what was read until the banner.
	out      *os.File
	lines    []string
	children []int
	ports    []string
	// TemporalAddr, SandboxURL, RelayURL, CodecURL and UIURL are where the stack listens; DataDir holds its
	// state, its payload key, codec tokens and CLI profile.
	TemporalAddr, SandboxURL, RelayURL, CodecURL, UIURL, DataDir string
	exited                                                       chan error
}

// startDevstack runs kycflow-devstack until its banner says the stack is up. Whatever happens to the test, the
// cleanup kills devstack and every child it started.
func startDevstack(t *testing.T, extraArgs ...string) *devstackRun {
	t.Helper()
	bin := binaries(t)
	var ports []string
	for range 7 {
		p, err := devstack.FreePort()
		require.NoError(t, err)
		ports = append(ports, strconv.Itoa(p))
	}
	d := &devstackRun{
		TemporalAddr: "127.0.0.1:" + ports[0],
		SandboxURL:   "http://127.0.0.1:" + ports[2],
		RelayURL:     "http://127.0.0.1:" + ports[3],
		CodecURL:     "http://localhost:" + ports[5],
		UIURL:        "http://localhost:" + ports[1],
		DataDir:      t.TempDir(),
		exited:       make(chan error, 1),
	}
	for _, p := range ports {
		d.ports = append(d.ports, "127.0.0.1:"+p)
	}
	args := append([]string{"-bin", bin, "-data", d.DataDir, "-port", ports[0], "-ui-port", ports[1],
		"-sandbox-addr", "127.0.0.1:" + ports[2], "-relay-addr", "127.0.0.1:" + ports[3], "-relay-admin-addr", "127.0.0.1:" + ports[4],
		"-codec-addr", "127.0.0.1:" + ports[5], "-worker-metrics-addr", "127.0.0.1:" + ports[6], "-ui-bin", filepath.Join(bin, "temporal-ui", "server")}, extraArgs...)
	d.cmd = exec.Command(filepath.Join(bin, "kycflow-devstack"), args...)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	d.out = r
	d.cmd.Stdout, d.cmd.Stderr = w, w
	require.NoError(t, d.cmd.Start())
	w.Close()
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		for _, pid := range d.children {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		r.Close()
	})

	banner := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			d.lines = append(d.lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "kycflow is running") {
				banner <- nil
				return
			}
		}
		banner <- fmt.Errorf("devstack's output ended before its banner: %v", sc.Err())
	}()
	select {
	case err := <-banner:
		require.NoError(t, err, "output:\n%s", strings.Join(d.lines, "\n"))
	case <-time.After(3 * time.Minute):
		t.Fatalf("no banner after 3 minutes; output:\n%s", strings.Join(d.lines, "\n"))
	}
	d.children = childrenOf(t, d.cmd.Process.Pid)
	require.Len(t, d.children, 6, "the dev server, the sandbox, the relay, the worker, the codec server and the UI")
	return d
}

// requireNothingLeft waits for devstack to exit, then checks that none of its children lives on and that every
// port it used can be bound again.
func (d *devstackRun) requireNothingLeft(t *testing.T) {
	t.Helper()
	select {
	case <-d.exited:
	case <-time.After(time.Minute):
		t.Fatal("devstack did not exit")
	}
	require.Eventually(t, func() bool {
		for _, pid := range d.children {
			if alive(pid) {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "processes devstack started are still running: %v", d.children)
	require.Eventually(t, func() bool {
		for _, addr := range d.ports {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return false
			}
			l.Close()
		}
		return true
	}, 10*time.Second, 100*time.Millisecond, "a port of the stack is still held: %v", d.ports)
}

// TestDevstackLeavesNothingBehind stops `make run` in the ways a person's terminal does. `make run | tee log`
// then Ctrl-C: tee exits and devstack gets SIGINT, and its first write meets a closed pipe. A pipe whose reader
// exits (`| head`): the next log line meets it. A closed terminal: SIGHUP. A SIGKILL: the kernel kills the
// children (parent-death signal). Each time no process may survive and every port must be free.
func TestDevstackLeavesNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs every process (run `make test`)")
	}
	cases := []struct {
		name string
		stop func(t *testing.T, d *devstackRun)
	}{
		{"output pipe closed, then Ctrl-C", func(t *testing.T, d *devstackRun) {
			d.out.Close()
			require.NoError(t, d.cmd.Process.Signal(os.Interrupt))
		}},
		{"output pipe closed, then a log line", func(t *testing.T, d *devstackRun) {
			d.out.Close()
			// The sandbox logs each subject it creates: devstack's copy of that line meets the closed pipe.
			require.Eventually(t, func() bool {
				resp, err := http.Post(d.SandboxURL+"/sandbox/subjects", "application/json",
					strings.NewReader(`{"method":"treezor-liveness","scenario":"HAPPYPATH"}`))
				if err != nil {
					return true // the sandbox has stopped already
				}
				resp.Body.Close()
				select {
				case err := <-d.exited:
					d.exited <- err
					return true
				default:
					return false
				}
			}, 30*time.Second, 500*time.Millisecond, "devstack never noticed its output was gone")
		}},
		{"terminal closed (SIGHUP)", func(t *testing.T, d *devstackRun) {
			go func() { _, _ = io.Copy(io.Discard, d.out) }()
			require.NoError(t, d.cmd.Process.Signal(syscall.SIGHUP))
		}},
		{"SIGKILL", func(t *testing.T, d *devstackRun) {
			go func() { _, _ = io.Copy(io.Discard, d.out) }()
			require.NoError(t, d.cmd.Process.Kill())
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := startDevstack(t)
			tc.stop(t, d)
			d.requireNothingLeft(t)
		})
	}
}

// TestDevstackNamesWhatHoldsAPort: a second `make run` while the first still holds its ports fails at once,
// naming the port, the process that holds it and the flag that moves it.
func TestDevstackNamesWhatHoldsAPort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs kycflow-devstack (run `make test`)")
	}
	bin := binaries(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "kycflow-devstack"), "-bin", bin, "-data", t.TempDir(),
		"-relay-addr", "127.0.0.1:"+port).CombinedOutput()
	require.Error(t, err, "devstack must refuse to start: %s", out)
	require.Contains(t, string(out), "webhook relay port 127.0.0.1:"+port+" is in use by pid "+strconv.Itoa(os.Getpid()))
	require.Contains(t, string(out), "choose another port with -relay-addr")
	require.NotContains(t, string(out), "Starting the Temporal dev server", "nothing was started")
}

// childrenOf lists the processes whose parent is pid (Linux /proc).
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	var children []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(strings.Split(path, "/")[2])
			children = append(children, child)
		}
	}
	return children
}

// alive reports whether a process exists and is not a zombie (a zombie holds no port and runs no code; whether it
// is reaped is up to its new parent).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
