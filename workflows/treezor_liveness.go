package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/reasons"
	"github.com/kycflow/kycflow/signals"
)

// TreezorLiveness runs a Treezor live verification (Liveness or Certified video / PVID; both use kycliveness):
// the user has 15 minutes on the identification URL, Treezor's partner scores the session, a validated session's
// documents are pulled into Treezor, and Treezor's compliance team reviews the user.
func TreezorLiveness(ctx workflow.Context, input signals.VerificationInput) (signals.Outcome, error) {
	ctx, f, err := newTreezorFlow(ctx, input)
	if err != nil {
		return signals.Outcome{}, err
	}
	// Seed 001: "Please don't call the /v1/users/{userId}/kycliveness endpoint for a given user before the previous
	// live verification is completed. [...] The newer request replaces the previous one."
	f.sessionOpenUntil = f.livenessOpenUntil
	f.listenTreezor(ctx,
		on(f.verification, workflow.GetSignalChannel(ctx, signals.SignalTreezorKycLivenessCreate), f.recordLiveness),
		on(f.verification, workflow.GetSignalChannel(ctx, signals.SignalTreezorKycLivenessUpdate), f.recordLiveness),
	)
	if o := f.initiate(ctx); o != nil {
		return f.complete(ctx, *o), nil
	}
	if o := f.awaitLiveness(ctx); o != nil {
		return f.complete(ctx, *o), nil
	}
	if o := f.collectLivenessDocuments(ctx); o != nil {
		return f.complete(ctx, *o), nil
	}
	if o := f.awaitTransfer(ctx); o != nil {
		return f.complete(ctx, *o), nil
	}
	return f.complete(ctx, f.review(ctx)), nil
}

// livenessOpenUntil says until when the live verification may still complete at now: the user may still be in
// it (the URL's bound), or finished it while Treezor has not scored it (the processing bound).
func (f *treezorFlow) livenessOpenUntil(now time.Time) (time.Time, bool) {
	switch {
	case f.step == signals.StepAwaitingUser && f.url != "" && now.Before(f.userBound()):
		return f.userBound(), true
	case f.events.livenessStarted && f.events.livenessResult == nil && f.step == signals.StepProviderProcessing && now.Before(f.stepDeadline):
		return f.stepDeadline, true
	}
	return time.Time{}, false
}

// awaitLiveness waits for the user's session and its score; nil means score 1 (validated).
func (f *treezorFlow) awaitLiveness(ctx workflow.Context) *signals.Outcome {
	started, err := f.waitUntil(ctx, f.userBound(), "live verification URL valid",
		func() bool { return f.events.livenessStarted || f.events.livenessResult != nil })
	if o := f.stopped(err); o != nil {
		return o
	}
	if !started {
		return &signals.Outcome{
			Status:       signals.OutcomeExpired,
			Detail:       fmt.Sprintf("no kycliveness webhook within %s of issuing the URL", time.Duration(f.deadlines.URLValidity)),
			UserMayRetry: true,
		}
	}

	deadline := workflow.Now(ctx).Add(time.Duration(f.deadlines.Review))
	f.enterStep(ctx, signals.StepProviderProcessing, deadline)
	// Treezor offers no endpoint to read a live verification's state, so an overdue one only listens.
	processed, err := f.awaitProvider(ctx, deadline, "live verification processing (kycliveness.update)",
		func() bool { return f.events.livenessResult != nil }, nil)
	if o := f.stopped(err); o != nil {
		return o
	}
	if !processed {
		return &signals.Outcome{
			Status: signals.OutcomeReviewTimeout,
			Detail: fmt.Sprintf("no processed kycliveness.update within %s", f.overdueText()),
		}
	}

	result := f.events.livenessResult
	f.reasons = explainAll(reasons.TreezorLiveness, result.Reasons)
	switch *result.Score {
	case signals.LivenessScoreValidated:
		return nil
	case signals.LivenessScoreRefused:
		return &signals.Outcome{
			Status:       signals.OutcomeRefused,
			Reasons:      f.reasons,
			Detail:       "live verification refused (score 0)",
			UserMayRetry: anyRetryable(f.reasons),
		}
	default:
		return &signals.Outcome{
			Status:       signals.OutcomeFailed,
			Cause:        signals.CauseVerificationFailed,
			Reasons:      f.reasons,
			Detail:       fmt.Sprintf("live verification could not be processed (score %d)", *result.Score),
			UserMayRetry: len(f.reasons) == 0 || anyRetryable(f.reasons),
		}
	}
}

// collectLivenessDocuments pulls a validated session's documents into Treezor and waits for their document.create
// webhooks, all of them (awaitAllDocuments); runs recorded before that change waited for the synthesis document
// only.
func (f *treezorFlow) collectLivenessDocuments(ctx workflow.Context) *signals.Outcome {
	deadline := workflow.Now(ctx).Add(time.Duration(f.deadlines.Review))
	f.enterStep(ctx, signals.StepCollectingDocuments, deadline)
	actx := workflow.WithActivityOptions(ctx, withSummary(providerCallOptions, "retrieve live verification documents"))
	if err := workflow.ExecuteActivity(actx, tz.RetrieveLivenessDocuments, f.input.SubjectID).Get(actx, nil); err != nil {
		o := f.callFailed(err, "retrieve live verification documents")
		if o.Cause == signals.CauseProviderRejected {
			o.Cause = signals.CauseDocumentsUnavailable
		}
		return &o
	}
	if f.changes.documentsComplete {
		return f.awaitAllDocuments(ctx, true)
	}
	got, err := f.awaitProvider(ctx, deadline, "live verification documents (document.create)", f.hasSynthesisDocument, nil)
	if o := f.stopped(err); o != nil {
		return o
	}
	if !got {
		return &signals.Outcome{
			Status: signals.OutcomeReviewTimeout,
			Detail: fmt.Sprintf("no synthesis document (documentTypeId 26 or 34) within %s", f.overdueText()),
		}
	}
	return nil
}

func (f *treezorFlow) hasSynthesisDocument() bool {
	for _, d := range f.events.documents {
		if isSynthesisDocument(d.DocumentTypeID) {
			return true
		}
	}
	return false
}

// isSynthesisDocument reports whether a document type is a live verification's synthesis: Liveness result (26) or
// Certified Liveness Result (34).
func isSynthesisDocument(typeID int) bool {
	return typeID == signals.DocumentTypeLivenessResult || typeID == signals.DocumentTypeCertifiedLivenessResult
}

func explainAll(c *reasons.Catalogue, rs []signals.ProviderReason) []signals.Reason {
	out := make([]signals.Reason, 0, len(rs))
	for _, r := range rs {
		out = append(out, c.Explain(r.Code, r.Message))
	}
	return out
}

// explainReason explains an optional provider reason: nil without one.
func explainReason(c *reasons.Catalogue, r *signals.ProviderReason) []signals.Reason {
	if r == nil {
		return nil
	}
	return []signals.Reason{c.Explain(r.Code, r.Message)}
}
