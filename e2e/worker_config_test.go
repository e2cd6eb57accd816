package e2e_test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWorkerRefusesYousignWithoutAPayloadKey starts the real worker binary with Yousign configured and no payload
// key: it must refuse to start (Yousign's names would sit in clear in Temporal), and say which switch allows it.
func TestWorkerRefusesYousignWithoutAPayloadKey(t *testing.T) {
	cmd := workerCommand(t, "YOUSIGN_BASE_URL=https://api-sandbox.yousign.app/v3", "YOUSIGN_API_KEY=test-key")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the worker must exit with an error; output:\n%s", out)
	require.Contains(t, string(out), "KYCFLOW_ALLOW_PLAINTEXT_PII=true", "the refusal names the switch")
}

// TestWorkerWarnsWithoutAPayloadKey: with only Treezor (IDs, no names, in its inputs) the worker may run without a
// payload key, but says so: outcomes and references would sit in clear in Temporal.
func TestWorkerWarnsWithoutAPayloadKey(t *testing.T) {
	cmd := workerCommand(t, "TREEZOR_BASE_URL=https://acme.sandbox.treezor.co", "TREEZOR_CLIENT_ID=id", "TREEZOR_CLIENT_SECRET=s3cret-value")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "No payload key") {
			require.Contains(t, lines.Text(), `"level":"WARN"`)
			require.Contains(t, lines.Text(), "KYCFLOW_PAYLOAD_KEY")
			return
		}
	}
	t.Fatal("the worker never warned that payloads are stored in clear")
}

// workerCommand is the real worker binary with only env (and a Temporal address nobody answers on), killed after
// 30 s at the latest.
func workerCommand(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds the binaries (run `make test`)")
	}
	bin := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "kycflow-worker"))
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "TEMPORAL_ADDRESS=127.0.0.1:1"}, env...)
	return cmd
}
