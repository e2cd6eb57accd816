package integration_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// TestIntegrationWorkerOutageAcrossABound replays what a real cluster does to a verification whose worker is down:
// the user's kycliveness.create is signalled before the 15-minute bound (here 6 s), the bound's timer fires while
// no worker runs, and the worker that comes back gets both in one workflow task, the timer's event after the
// signal's. The webhook came in time, so the verification goes on to the provider's processing instead of
// expiring.
func TestIntegrationWorkerOutageAcrossABound(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server (run `make test`)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	temporal, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{})
	require.NoError(t, err)
	t.Cleanup(temporal.Stop)
	c, err := client.Dial(client.Options{HostPort: temporal.HostPort,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	st := &starter.Starter{Client: c}

	_, stopWorker, err := testenv.StartWorker(c)
	require.NoError(t, err)
	const bound = 6 * time.Second
	v, _, err := st.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "530001",
		// No grace: the bound's timer must fire while the worker is down.
		Deadlines: signals.Deadlines{URLValidity: signals.Duration(bound), Review: signals.Duration(time.Hour), Grace: signals.Duration(time.Millisecond)}})
	require.NoError(t, err)
	began := time.Now()
	stopWorker()

	// The user begins the session before the bound; Treezor's webhook reaches Temporal while no worker runs. (Sent
	// at once: a loaded machine may take seconds to return from Start, and the webhook must precede the bound.)
	require.NoError(t, c.SignalWorkflow(ctx, v.WorkflowID, v.RunID, signals.SignalTreezorKycLivenessCreate,
		signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "c-530001", EmittedAt: time.Now()},
			UserID: "530001", KycStatus: signals.LivenessStatusProcessing}))
	// The bound passes, and its timer fires, with the worker still down.
	time.Sleep(time.Until(began.Add(bound + 2*time.Second)))

	_, stopWorker, err = testenv.StartWorker(c)
	require.NoError(t, err)
	t.Cleanup(stopWorker)
	var status signals.Status
	require.Eventually(t, func() bool {
		status, err = st.Status(ctx, v)
		return err == nil && status.Step != signals.StepAwaitingUser
	}, time.Minute, 200*time.Millisecond, "the restarted worker runs the workflow task: %v", err)
	require.Equal(t, signals.StepProviderProcessing, status.Step, "the in-time webhook wins over the timer; outcome %+v", status.Outcome)
	require.NoError(t, st.Cancel(ctx, v, "test over"))
	_, err = st.Wait(ctx, v)
	require.NoError(t, err)
	// Its history holds the webhook and the timer in one workflow task; replayed against code that reads the timer
	// first, it fails with a non-determinism error.
	recordHistoryFrom(t, temporal.HostPort, v, "treezor-liveness-webhook-with-timer")
}
