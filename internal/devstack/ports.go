package devstack

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Port is a fixed address one process of the stack needs, named for the person who reads the error.
type Port struct {
	// What the port serves ("Temporal gRPC"), and the devstack flag that moves it ("-port").
	What, Flag string
	Addr       string
}

// CheckPortsFree tries to listen on each address and reports every one that is taken, with the process holding
// it when the system tells (Linux /proc), so that a second `make run` says what to stop instead of failing half
// started with "address already in use".
func CheckPortsFree(ports []Port) error {
	var problems []string
	for _, p := range ports {
		l, err := net.Listen("tcp", p.Addr)
		if err == nil {
			l.Close()
			continue
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			problems = append(problems, fmt.Sprintf("%s %s: %v", p.What, p.Addr, err))
			continue
		}
		msg := fmt.Sprintf("%s port %s is in use", p.What, p.Addr)
		if holder := portHolder(p.Addr); holder != "" {
			msg += " by " + holder
		}
		problems = append(problems, msg+"; stop that process, or choose another port with "+p.Flag)
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "\n  "))
}

// portHolder names the process listening on addr's port ("pid 1234 (temporal server start-dev ...)"), or "" when
// it cannot be told: another user's process, or a system without /proc.
func portHolder(addr string) string {
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return ""
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for inode := range listeningInodes(table, port) {
			inodes[inode] = true
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		target, err := os.Readlink(fd)
		if err != nil {
			continue
		}
		inode, ok := strings.CutPrefix(target, "socket:[")
		if !ok || !inodes[strings.TrimSuffix(inode, "]")] {
			continue
		}
		pid := strings.Split(fd, "/")[2]
		cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		args := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		if len(args) > 120 {
			args = args[:120] + "..."
		}
		return fmt.Sprintf("pid %s (%s)", pid, args)
	}
	return ""
}

// listeningInodes reads a /proc/net/tcp table and returns the socket inodes listening on port.
func listeningInodes(table string, port int) map[string]bool {
	f, err := os.Open(table)
	if err != nil {
		return nil
	}
	defer f.Close()
	const stateListen = "0A"
	found := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != stateListen {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
			found[fields[9]] = true
		}
	}
	return found
}
