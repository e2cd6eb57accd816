package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/worker"
)

// TestReplayRecordedHistories replays histories exported from real runs (`make history` writes them with
// `temporal workflow show --output json`). A change to a workflow's command sequence that is not behind
// workflow.GetVersion fails here with a non-determinism error instead of in production.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in workflows/testdata")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// Histories recorded by the integration stack are encrypted with its test key; older ones, and the
			// worker-outage run's (a dev server of its own, no key), are plain: the migration switch reads both.
			codec := testenv.PayloadCodec()
			codec.AllowPlaintext = true
			replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
				DataConverter: payloadcodec.DataConverter(codec),
			})
			require.NoError(t, err)
			worker.RegisterWorkflows(replayer)
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
