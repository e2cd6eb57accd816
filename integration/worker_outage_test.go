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
// the bound's timer fires while no worker runs (15 minutes, here 6 s), and the worker that comes back gets the
// timer and the user's kycliveness.create in one workflow task. Timing follows when Treezor acted, in both orders:
// a webhook signalled before the bound (its event before the timer's) goes on to the provider's processing; one
// Treezor emitted after the bound (its event after the timer's) ends the verification expired, though the listener
// takes it before the wait reads the timer.
func TestIntegrationWorkerOutageAcrossABound(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server (run `make test`)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	temporal, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{})
	require.NoError(t, err)
	t.Cleanup(temporal.Stop)
	c, err := client.Dial(client.Options{HostPort: temporal.HostPort,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	st := &starter.Starter{Client: c}

	const bound = 6 * time.Second
	tests := []struct {
		name, user string
		// webhookAfterBound: Treezor emits the create after the bound, and it reaches Temporal after the timer.
		webhookAfterBound bool
		wantStep          signals.Step
		wantOutcome       signals.OutcomeStatus
		history           string
	}{
		{name: "webhook before the timer", user: "530001", wantStep: signals.StepProviderProcessing,
			history: "treezor-liveness-webhook-with-timer"},
		{name: "webhook after the timer", user: "530002", webhookAfterBound: true, wantStep: signals.StepCompleted,
			wantOutcome: signals.OutcomeExpired, history: "treezor-liveness-webhook-after-timer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stopWorker, err := testenv.StartWorker(c)
			require.NoError(t, err)
			v, _, err := st.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: tt.user,
				// No grace: the bound's timer must fire while the worker is down.
				Deadlines: signals.Deadlines{URLValidity: signals.Duration(bound), Review: signals.Duration(time.Hour), Grace: signals.Duration(time.Millisecond)}})
			require.NoError(t, err)
			began := time.Now()
			stopWorker()

			create := func() {
				require.NoError(t, c.SignalWorkflow(ctx, v.WorkflowID, v.RunID, signals.SignalTreezorKycLivenessCreate,
					signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "c-" + tt.user, EmittedAt: time.Now()},
						UserID: tt.user, KycStatus: signals.LivenessStatusProcessing}))
			}
			if !tt.webhookAfterBound {
				// The user begins the session before the bound; Treezor's webhook reaches Temporal while no worker
				// runs. (Sent at once: a loaded machine may take seconds to return from Start.)
				create()
			}
			// The bound passes, and its timer fires, with the worker still down.
			time.Sleep(time.Until(began.Add(bound + 2*time.Second)))
			if tt.webhookAfterBound {
				create()
			}

			_, stopWorker, err = testenv.StartWorker(c)
			require.NoError(t, err)
			defer stopWorker()
			var status signals.Status
			require.Eventually(t, func() bool {
				status, err = st.Status(ctx, v)
				return err == nil && status.Step != signals.StepAwaitingUser
			}, time.Minute, 200*time.Millisecond, "the restarted worker runs the workflow task: %v", err)
			require.Equal(t, tt.wantStep, status.Step, "outcome %+v", status.Outcome)
			if tt.wantOutcome != "" {
				require.NotNil(t, status.Outcome)
				require.Equal(t, tt.wantOutcome, status.Outcome.Status)
				require.Equal(t, 1, status.Webhooks.Late, "the create emitted after the bound is counted late")
			} else {
				require.NoError(t, st.Cancel(ctx, v, "test over"))
			}
			_, err = st.Wait(ctx, v)
			require.NoError(t, err)
			// Its history holds the webhook and the timer in one workflow task; replayed against code that reads
			// the timer first, or that takes a late webhook, it fails with a non-determinism error.
			recordHistoryFrom(t, temporal.HostPort, v, tt.history)
		})
	}
}
