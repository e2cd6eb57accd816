package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// TestNoTimerForAWaitAWebhookAlreadyAnswered: Treezor's user.kycreview can reach the run while the review request
// is in flight, and then comes in the same workflow task as the request's result. The wait for it must not start
// its 24-hour timer only to cancel it in that task: a timer is a billable action and two history events, for
// nothing. (Seen in a recorded history on the dev server: TIMER_STARTED and TIMER_CANCELED in one task.)
func TestNoTimerForAWaitAWebhookAlreadyAnswered(t *testing.T) {
	r := newRun(t)
	var requested time.Time
	r.env.OnActivity(tz.RequestKYCReview, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ReviewRequest) (activities.UserKYC, error) {
			// Treezor decides at once; its webhook is buffered with the activity's result.
			requested = r.env.Now()
			r.reviewState = signals.KycReviewValidated
			r.env.SignalWorkflowSkippingWorkflowTask(signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated))
			return activities.UserKYC{KycReview: signals.KycReviewPending}, nil
		})
	var afterRequest []time.Duration // timers started once the review was requested
	r.env.SetOnTimerScheduledListener(func(_ string, d time.Duration) {
		if !requested.IsZero() {
			afterRequest = append(afterRequest, d)
		}
	})
	o := r.treezorOK().deliver(happyEvents()[:4]).execute()
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	require.False(t, requested.IsZero(), "the review was requested")
	require.Empty(t, afterRequest, "no timer for the review wait: its webhook was already in")
}

// TestAWebhookAndItsBoundsTimerInOneTask: after a worker outage, a webhook and the timer of the bound it answers
// reach the run in one workflow task. Timing is decided by when Treezor acted, not by the order the worker takes
// them in: a kycliveness.create Treezor emitted within the 15 minutes and the grace wins over the timer that fired
// with it; one emitted after the bound is late even though it came in the same task (the real-server run of both
// orders is integration's TestIntegrationWorkerOutageAcrossABound).
func TestAWebhookAndItsBoundsTimerInOneTask(t *testing.T) {
	const bound = 15*time.Minute + 2*time.Minute // the URL's validity and the grace for webhook latency
	tests := []struct {
		name       string
		emittedAt  time.Duration // when Treezor emitted the create, from the start
		wantStatus signals.OutcomeStatus
		wantLate   int
	}{
		{"emitted before the bound", 16 * time.Minute, signals.OutcomeApproved, 0},
		{"emitted after the bound", bound + 30*time.Second, signals.OutcomeExpired, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t).treezorOK()
			start := r.env.Now()
			create := livenessCreate("c").(signals.TreezorLivenessEvent)
			create.EmittedAt = start.Add(tt.emittedAt)
			// Buffered without a workflow task of its own: the bound's timer, a moment later, brings the task that
			// takes both.
			r.env.RegisterDelayedCallback(func() {
				r.env.SignalWorkflowSkippingWorkflowTask(signals.SignalTreezorKycLivenessCreate, create)
			}, bound-time.Millisecond)
			later := happyEvents()[1:]
			for i := range later {
				later[i].at += bound
			}
			r.deliver(later)
			var during signals.Status
			r.env.RegisterDelayedCallback(func() { during = r.queryStatus() }, bound+time.Second)
			o := r.execute()
			require.Equal(t, tt.wantStatus, o.Status, "detail: %s", o.Detail)
			final := r.queryStatus()
			require.Equal(t, tt.wantLate, final.Webhooks.Late)
			if tt.wantStatus == signals.OutcomeApproved {
				require.Equal(t, signals.StepProviderProcessing, during.Step, "the user was on time: Treezor processes the session")
			} else {
				require.Equal(t, bound, o.CompletedAt.Sub(start), "expired at the bound")
			}
		})
	}
}
