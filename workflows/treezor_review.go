package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// review runs Treezor's KYC review: request it, wait for user.kycreview within the review bound, and at the
// deadline read the user's state once before concluding, in case the webhook was lost.
func (f *treezorFlow) review(ctx workflow.Context) signals.Outcome {
	deadline := workflow.Now(ctx).Add(time.Duration(f.deadlines.Review))
	// Open the window before the request: Treezor may answer by webhook before the activity's completion is recorded.
	f.events.reviewRequested = true
	f.events.reviewRequestedAt = workflow.Now(ctx)
	f.enterStep(ctx, signals.StepKYCReview, deadline)

	actx := workflow.WithActivityOptions(ctx, withSummary(providerCallOptions, "request Treezor KYC review"))
	req := activities.ReviewRequest{
		UserID: f.input.SubjectID,
		// Stable across activity retries and replays, so Treezor sees one request per verification run.
		AccessTag: "kycflow-review-" + workflow.GetInfo(ctx).WorkflowExecution.RunID,
	}
	if err := workflow.ExecuteActivity(actx, tz.RequestKYCReview, req).Get(actx, nil); err != nil {
		return f.callFailed(err, "request KYC review")
	}

	if !f.changes.boundsEscalate {
		decided, err := f.waitUntil(ctx, deadline, "Treezor KYC review", func() bool { return f.events.review != nil })
		if o := f.stopped(err); o != nil {
			return *o
		}
		if decided {
			return f.reviewOutcome(f.events.review.KycReview, "user.kycreview webhook")
		}
		return f.reconcileReview(ctx)
	}

	reviewed := func() bool { return f.events.review != nil || f.events.reconciledReview != 0 }
	for {
		decided, err := f.awaitProvider(ctx, deadline, "Treezor KYC review (user.kycreview)", reviewed, f.readReview)
		if o := f.stopped(err); o != nil {
			return *o
		}
		switch {
		case f.events.review != nil && f.changes.confirmDecisions:
			if kycReview, ok := f.confirmReview(ctx); ok {
				return f.reviewOutcome(kycReview, "user.kycreview webhook, confirmed by reading the user")
			}
			if o := f.stoppedDuringRead(); o != nil {
				return *o
			}
			continue // not confirmed: the webhook is set aside, and the review goes on
		case f.events.review != nil:
			return f.reviewOutcome(f.events.review.KycReview, "user.kycreview webhook")
		case decided:
			return f.reviewOutcome(f.events.reconciledReview, "read from Treezor while overdue")
		}
		break
	}
	return signals.Outcome{
		Status: signals.OutcomeReviewTimeout,
		Detail: fmt.Sprintf("no KYC review decision within %s; the user's kycReview is still %d", f.overdueText(), f.events.lastReadReview),
	}
}

// confirmReview reads the user before a user.kycreview webhook's decision is applied: webhooks trigger, the
// provider decides. Treezor signs only object_payload, so an older signed User payload showing kycReview 2 (an
// earlier review's, a user.update's) re-sent under a fresh webhook_id or event name would otherwise approve. A
// decision the read shows is the outcome (Treezor's, even where it differs from the webhook's); none means the
// webhook is set aside (see verification.confirm) and the review goes on waiting.
func (f *treezorFlow) confirmReview(ctx workflow.Context) (int, bool) {
	claimed := f.events.review.KycReview
	var read int
	confirmed, _ := f.confirm(ctx, "Treezor KYC review", func(ctx workflow.Context) (bool, error) {
		var state activities.UserKYC
		if err := f.readProvider(ctx, false, reconcileOptions, "confirm the KYC review by reading the user", tz.GetUserKYC, f.input.SubjectID, &state); err != nil {
			return false, err
		}
		read = state.KycReview
		return signals.KycReviewDecided(state.KycReview), nil
	})
	if !confirmed {
		f.events.review = nil
		return 0, false
	}
	if read != claimed {
		f.logger.Warn("The user.kycreview webhook and Treezor's API disagree; Treezor's API decides", "webhook", claimed, "read", read)
	}
	return read, true
}

// readReview reads the user's KYC review from Treezor, for an overdue review whose webhook may be lost, and
// records a decision it finds.
func (f *treezorFlow) readReview(ctx workflow.Context) {
	var state activities.UserKYC
	err := f.readProvider(ctx, false, reconcileOptions, "reconcile: read the user's KYC review", tz.GetUserKYC, f.input.SubjectID, &state)
	if f.interrupted(err) {
		return
	}
	if err != nil {
		f.logger.Warn("Reading the user's KYC review failed; the overdue review keeps listening", "error", err)
		return
	}
	f.events.lastReadReview = state.KycReview
	if signals.KycReviewDecided(state.KycReview) {
		f.logger.Info("KYC review decided without a webhook; read from Treezor", "kycReview", state.KycReview)
		f.events.reconciledReview = state.KycReview
	}
}

func (f *treezorFlow) reconcileReview(ctx workflow.Context) signals.Outcome {
	timeout := signals.Outcome{
		Status: signals.OutcomeReviewTimeout,
		Detail: fmt.Sprintf("no KYC review decision within %s", time.Duration(f.deadlines.Review)),
	}
	var state activities.UserKYC
	if err := f.readProvider(ctx, false, reconcileOptions, "reconcile: read the user's KYC review", tz.GetUserKYC, f.input.SubjectID, &state); err != nil {
		if f.interrupted(err) {
			return f.stopOutcome()
		}
		timeout.Detail += "; reading the user's state failed: " + err.Error()
		return timeout
	}
	if signals.KycReviewDecided(state.KycReview) {
		f.logger.Info("KYC review decided without a webhook; reconciled by reading the user", "kycReview", state.KycReview)
		return f.reviewOutcome(state.KycReview, "reconciliation after the review deadline")
	}
	timeout.Detail += fmt.Sprintf("; the user's kycReview is still %d", state.KycReview)
	return timeout
}

func (f *treezorFlow) reviewOutcome(kycReview int, source string) signals.Outcome {
	if kycReview == signals.KycReviewValidated {
		return signals.Outcome{
			Status:    signals.OutcomeApproved,
			Detail:    "KYC review validated (" + source + ")",
			Documents: f.documents(),
		}
	}
	return signals.Outcome{
		Status: signals.OutcomeRefused,
		Detail: "KYC review refused (" + source + ")",
	}
}

func (f *treezorFlow) documents() []signals.Document {
	docs := make([]signals.Document, 0, len(f.events.documents))
	for _, d := range f.events.documents {
		docs = append(docs, signals.Document{ID: d.DocumentID, TypeID: d.DocumentTypeID, Type: d.DocumentType})
	}
	return docs
}
