package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// TestIntegrationCancelStopsTheProviderCall: Treezor takes 25 s to answer an initiation, and the backend cancels
// the verification a moment after it began. The verification ends cancelled at once, and the HTTP call itself is
// abandoned within a few seconds: the activity heartbeats, Temporal answers a heartbeat with the cancellation,
// and the call's context is cancelled. Without heartbeats it ran to Treezor's answer (or the attempt's 30 s).
func TestIntegrationCancelStopsTheProviderCall(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const user = "408001"
	started := make(chan error, 1)
	go func() {
		_, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: user})
		started <- err
	}()
	require.Eventually(t, func() bool { return len(s.Treezor.CallsFor(user)) == 1 }, 15*time.Second, 20*time.Millisecond,
		"the initiation reaches Treezor")
	v := starter.VerificationFor(signals.ProviderTreezor, user)
	cancelledAt := time.Now()
	require.NoError(t, s.Starter.Cancel(ctx, v, "the user closed the signup"))

	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeCancelled, o.Status, "detail: %s", o.Detail)
	require.ErrorIs(t, <-started, starter.ErrClosed, "the start that was waiting for the URL learns the run ended")

	var ran time.Duration
	require.Eventually(t, func() bool {
		var ok bool
		ran, ok = s.Treezor.Abandoned(user)
		return ok
	}, 15*time.Second, 50*time.Millisecond, "the provider call is abandoned, not run to Treezor's answer")
	t.Logf("the call was abandoned %s after it began, %s after the cancel", ran, time.Since(cancelledAt))
	// The first heartbeat comes after activities.HeartbeatInterval (2 s); without heartbeats the call ran until the
	// HTTP client's own 10-second timeout.
	require.Less(t, ran, 6*time.Second)
}
