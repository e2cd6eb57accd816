package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

// TestFinalResultsNeedTheProvidersWord: webhooks trigger, the provider decides (decision-integrity version 8). A
// Solaris or Yousign webhook's approval or refusal is applied only once the provider's GET shows a final result; the
// GET's result wins where they differ, and a webhook the GET does not bear out is set aside (webhooks.unconfirmed)
// while the verification waits on. Each webhook here is signalled bare: the provider's API never announced it.
func TestFinalResultsNeedTheProvidersWord(t *testing.T) {
	tests := []struct {
		name    string
		method  signals.Method
		webhook event
		// read is what the provider's GET shows throughout.
		read            string
		want            signals.OutcomeStatus
		wantUnconfirmed int
	}{
		{
			name: "solaris successful, the API still pending", method: signals.MethodSolarisIDnow,
			webhook: event{10 * time.Minute, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusSuccessful)},
			read:    signals.SolarisStatusPending, want: signals.OutcomeExpired, wantUnconfirmed: 1,
		},
		{
			name: "solaris successful, the API says failed", method: signals.MethodSolarisIDnow,
			webhook: event{10 * time.Minute, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusSuccessful)},
			read:    signals.SolarisStatusFailed, want: signals.OutcomeRefused,
		},
		{
			name: "solaris failed, the API in second-line review", method: signals.MethodSolarisIDnow,
			webhook: event{10 * time.Minute, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusFailed)},
			read:    signals.SolarisStatusPendingSuccessful, want: signals.OutcomeReviewTimeout, wantUnconfirmed: 1,
		},
		{
			name: "yousign verified, the API still pending", method: signals.MethodYousignVideo,
			webhook: event{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusVerified)},
			read:    signals.YousignStatusPending, want: signals.OutcomeExpired, wantUnconfirmed: 1,
		},
		{
			name: "yousign failed, the API still pending", method: signals.MethodYousignVideo,
			webhook: event{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusFailed, "IDVV_2101")},
			read:    signals.YousignStatusPending, want: signals.OutcomeExpired, wantUnconfirmed: 1,
		},
		{
			name: "yousign failed, the API says verified", method: signals.MethodYousignVideo,
			webhook: event{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusFailed, "IDVV_2101")},
			read:    signals.YousignStatusVerified, want: signals.OutcomeApproved,
		},
		{
			name: "yousign verified, the API says failed", method: signals.MethodYousignVideo,
			webhook: event{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusVerified)},
			read:    signals.YousignStatusFailed, want: signals.OutcomeRefused,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t)
			if tc.method == signals.MethodSolarisIDnow {
				r.solarisOK(tc.read, "")
			} else {
				r.yousignReads = map[string]string{"ver-1": tc.read}
				r.yousignOK(tc.read)
			}
			// Not through deliver, which has the provider's API show what its webhooks announce.
			r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(tc.webhook.name, tc.webhook.payload) }, tc.webhook.at)
			var during signals.Status
			r.env.RegisterDelayedCallback(func() { during = r.queryStatus() }, time.Hour)

			var o signals.Outcome
			if tc.method == signals.MethodYousignVideo {
				o = r.executeYousign(1)
			} else {
				o = r.execute()
			}
			require.Equal(t, tc.want, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tc.wantUnconfirmed, during.Webhooks.Unconfirmed, "webhooks set aside an hour in")
			if tc.wantUnconfirmed > 0 {
				require.NotEqual(t, signals.StepCompleted, during.Step, "the verification waits on")
			}
		})
	}
}
