package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Profile names the processes to profile and where their profiles go.
type Profile struct {
	// Addrs maps a process name to its pprof listen address (KYCFLOW_PPROF_ADDR).
	Addrs map[string]string
	// Dir receives one <Prefix><process>.cpu.pprof per process.
	Dir    string
	Prefix string
	// Seconds is each profile's length; the kycflow flows should last at least as long.
	Seconds int
	// EnginePID is the dev server's process. It serves no pprof endpoint, so Linux perf samples it instead, when
	// perf is installed (Debian's linux-perf): `perf report -i <file>` reads the result.
	EnginePID int
}

// start begins a CPU profile of every process and returns a function that waits for them and writes them out.
// A nil Profile profiles nothing.
func (p *Profile) start(ctx context.Context, logf func(string, ...any)) (wait func() error) {
	if p == nil || len(p.Addrs) == 0 {
		return func() error { return nil }
	}
	c := &http.Client{Timeout: time.Duration(p.Seconds+30) * time.Second}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for name, addr := range p.Addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := filepath.Join(p.Dir, p.Prefix+name+".cpu.pprof")
			if err := fetchProfile(ctx, c, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, p.Seconds), path); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("profile %s: %w", name, err))
				mu.Unlock()
				return
			}
			logf("  CPU profile of %s: %s", name, path)
		}()
	}
	if p.EnginePID != 0 {
		if perf, err := exec.LookPath("perf"); err == nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := filepath.Join(p.Dir, p.Prefix+"temporal.perf.data")
				cmd := exec.CommandContext(ctx, perf, "record", "-F", "499", "-g", "-p", strconv.Itoa(p.EnginePID), "-o", path,
					"--", "sleep", strconv.Itoa(p.Seconds))
				if out, err := cmd.CombinedOutput(); err != nil {
					// perf is a bonus: a kernel that refuses it must not fail the benchmark.
					logf("  no perf profile of the dev server: %v: %s", err, bytes.TrimSpace(out))
					return
				}
				logf("  perf profile of the dev server: %s", path)
			}()
		}
	}
	return func() error {
		wg.Wait()
		if len(errs) > 0 {
			return errs[0]
		}
		return nil
	}
}

func fetchProfile(ctx context.Context, c *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
