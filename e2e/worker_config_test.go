package e2e_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWorkerRefusesYousignWithoutAPayloadKey starts the real worker binary with Yousign configured and no payload
// key: it must refuse to start (Yousign's names would sit in clear in Temporal), and say which switch allows it.
func TestWorkerRefusesYousignWithoutAPayloadKey(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds the binaries (run `make test`)")
	}
	bin := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "kycflow-worker"))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "TEMPORAL_ADDRESS=127.0.0.1:1",
		"YOUSIGN_BASE_URL=https://api-sandbox.yousign.app/v3", "YOUSIGN_API_KEY=test-key"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the worker must exit with an error; output:\n%s", out)
	require.Contains(t, string(out), "KYCFLOW_ALLOW_PLAINTEXT_PII=true", "the refusal names the switch")
}
