package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// TestCancelDuringAProviderCall: Treezor keeps answering 503 to the KYC review request, which the retry policy
// retries for up to 30 minutes. A cancel, the backend's signal or Temporal's (the UI, `temporal workflow cancel`),
// that comes while the call is being retried ends the verification cancelled at once: it neither waits for the
// call nor turns into failed/provider_unavailable.
func TestCancelDuringAProviderCall(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(env *testsuite.TestWorkflowEnvironment)
	}{
		{"cancel signal", func(env *testsuite.TestWorkflowEnvironment) {
			env.SignalWorkflow(signals.SignalCancel, signals.CancelRequest{Reason: "support ticket 42"})
		}},
		{"Temporal cancellation", func(env *testsuite.TestWorkflowEnvironment) { env.CancelWorkflow() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t)
			r.env.OnActivity(tz.Initiate, mock.Anything, mock.Anything).Return(activities.Identification{ID: testRef, URL: testURL}, nil)
			r.env.OnActivity(tz.RetrieveLivenessDocuments, mock.Anything, testUser).Return(nil)
			r.listDocuments()
			r.listDocuments()
			r.env.OnActivity(tz.RequestKYCReview, mock.Anything, mock.Anything).
				Return(activities.UserKYC{}, temporal.NewApplicationError("treezor: HTTP 503", "ProviderUnavailable"))
			r.deliver([]event{
				{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", signals.LivenessScoreValidated)},
				{3 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "doc-1", signals.DocumentTypeLivenessResult)},
			})
			r.env.RegisterDelayedCallback(func() { tc.cancel(r.env) }, 5*time.Minute)
			start := r.env.Now()
			o := r.execute()
			require.Equal(t, signals.OutcomeCancelled, o.Status, "detail: %s", o.Detail)
			require.Empty(t, o.Cause)
			require.Less(t, o.CompletedAt.Sub(start), 6*time.Minute, "the cancel did not wait for the retries to run out")
		})
	}
}

// TestCancelDuringYousignsLastRead: a Yousign verification whose user never finishes is read at its 7-day expiry;
// the read keeps failing (retried for up to 5 minutes) and the backend cancels meanwhile. The outcome is cancelled,
// not an expiry (IDVV_1199) the provider never reported.
func TestCancelDuringYousignsLastRead(t *testing.T) {
	r := newRun(t)
	r.method = signals.MethodYousignVideo
	r.env.OnActivity(ys.CreateVerification, mock.Anything, mock.Anything).
		Return(activities.YousignVerification{ID: "ver-1", URL: "https://id.ubble.example/ver-1", Status: signals.YousignStatusPending}, nil)
	r.env.OnActivity(ys.GetVerification, mock.Anything, mock.Anything).
		Return(activities.YousignVerification{}, temporal.NewApplicationError("yousign: HTTP 503", "ProviderUnavailable"))
	lastRead := 7 * day
	r.env.RegisterDelayedCallback(func() {
		r.env.SignalWorkflow(signals.SignalCancel, signals.CancelRequest{Reason: "user deleted"})
	}, lastRead+time.Minute)
	start := r.env.Now()
	o := r.executeYousign(2)
	require.Equal(t, signals.OutcomeCancelled, o.Status, "detail: %s", o.Detail)
	require.Less(t, o.CompletedAt.Sub(start), lastRead+2*time.Minute)
}
