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
