package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReadmeQuickStart runs every shell block of the README's quick start, as written, against a running
// kycflow-devstack, in a folder whose .data is the stack's: the profile, payload key and codec tokens it wrote
// name its free ports. With the payload key, Temporal holds ciphertext, so the temporal CLI's block passes only
// through the codec server. Each block runs with `set -e`, so any command that fails fails the test, and each ends with the outcome
// of the verification it cancelled.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs every process (run `make test`)")
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	blocks := quickStartBlocks(t, string(readme))
	require.Len(t, blocks, 3, "the kycflow CLI block, the operator's close and the temporal CLI block")

	d := startDevstack(t)
	drain(d)
	work := t.TempDir()
	require.NoError(t, os.Symlink(binaries(t), filepath.Join(work, "bin")))
	require.NoError(t, os.Symlink(d.DataDir, filepath.Join(work, ".data")))
	env := cleanEnv()
	for i, block := range blocks {
		require.NotContains(t, block, "7233", "block %d: the stack's address comes from .data/temporal.toml", i+1)
		script := block
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		cancel()
		require.NoError(t, err, "README quick start block %d failed:\n%s\noutput:\n%s", i+1, block, out)
		require.Contains(t, string(out), `"cancelled"`, "block %d ends with the cancelled outcome:\n%s", i+1, out)
		t.Logf("block %d output:\n%s", i+1, out)
	}
}

var shellBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// quickStartBlocks returns the ```sh blocks of the README's "## Quick start" section.
func quickStartBlocks(t *testing.T, readme string) []string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Quick start\n")
	require.True(t, ok, "the README has a Quick start section")
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []string
	for _, m := range shellBlock.FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// drain keeps devstack's log flowing once the test no longer reads it.
func drain(d *devstackRun) {
	go func() {
		buf := make([]byte, 32<<10)
		for {
			if _, err := d.out.Read(buf); err != nil {
				return
			}
		}
	}()
}

// cleanEnv is the test's environment without the Temporal and kycflow settings of the shell running it, as a
// newcomer's shell would be.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "KYCFLOW_") {
			env = append(env, kv)
		}
	}
	return env
}
