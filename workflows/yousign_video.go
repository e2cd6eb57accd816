package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/reasons"
	"github.com/kycflow/kycflow/signals"
)

// ys is the typed reference workflows schedule Yousign activities through.
var ys *activities.Yousign

// defaultYousignAttempts: Yousign bills nothing for an inconclusive verification and advises a new one.
const defaultYousignAttempts = 2

// changeClearSpentURL versions hiding an inconclusive attempt's URL while the next verification opens.
const changeClearSpentURL = "yousign-clear-spent-url"

// yousignExpiredCode is Yousign's "verification expired (after 7 days)".
const yousignExpiredCode = "IDVV_1199"

// YousignVideo runs a Yousign video identity verification. Each verification's URL is valid 15 minutes; an
// inconclusive result (the user never started, left, had no document) opens a new verification, up to
// MaxAttempts, whose URL the same update and status query hand out. The whole verification is bounded by 7 days.
func YousignVideo(ctx workflow.Context, input signals.VerificationInput) (signals.Outcome, error) {
	ctx, v, err := newVerification(ctx, input)
	if err != nil {
		return signals.Outcome{}, err
	}
	f := &yousignFlow{verification: v, results: map[string]signals.YousignVerificationEvent{}}
	f.listen(ctx, on(v, workflow.GetSignalChannel(ctx, signals.SignalYousignVerificationDone), f.record))
	return f.complete(ctx, f.run(ctx)), nil
}

type yousignFlow struct {
	*verification
	// attempt counts the verifications opened; verification.providerRef is the current one's ID.
	attempt int
	// results holds the first done event of each verification this run opened, by verification ID; a result for
	// an earlier attempt arriving late is stale and never decides the current one.
	results map[string]signals.YousignVerificationEvent
}

func (f *yousignFlow) record(ev signals.YousignVerificationEvent) {
	if _, seen := f.results[ev.VerificationID]; !seen && isYousignFinal(ev.Status) {
		f.results[ev.VerificationID] = ev
	}
}

func isYousignFinal(status string) bool {
	return status == signals.YousignStatusVerified || status == signals.YousignStatusFailed || status == signals.YousignStatusInconclusive
}

func (f *yousignFlow) run(ctx workflow.Context) signals.Outcome {
	maxAttempts := f.input.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = defaultYousignAttempts
	}
	expiresAt := workflow.Now(ctx).Add(time.Duration(f.deadlines.Verification))
	for {
		f.attempt++
		if o := f.open(ctx); o != nil {
			return *o
		}
		result, o := f.await(ctx, expiresAt)
		if o != nil {
			return *o
		}
		rs := make([]signals.Reason, 0, len(result.StatusCodes))
		for _, code := range result.StatusCodes {
			rs = append(rs, reasons.Yousign.Explain(code, ""))
		}
		f.reasons = rs
		switch result.Status {
		case signals.YousignStatusVerified:
			return f.fetchResult(ctx)
		case signals.YousignStatusFailed:
			return signals.Outcome{Status: signals.OutcomeRefused, Reasons: rs, UserMayRetry: anyRetryable(rs),
				Detail: "Yousign verification failed"}
		}
		if slices.Contains(result.StatusCodes, yousignExpiredCode) || !workflow.Now(ctx).Before(expiresAt) {
			return signals.Outcome{Status: signals.OutcomeExpired, Reasons: rs, UserMayRetry: true,
				Detail: "the verification expired before the user completed it"}
		}
		if f.attempt >= maxAttempts {
			return signals.Outcome{Status: signals.OutcomeAborted, Reasons: rs, UserMayRetry: true,
				Detail: fmt.Sprintf("inconclusive after %d attempt(s)", f.attempt)}
		}
		f.logger.Info("Inconclusive verification; opening a new one", "attempt", f.attempt+1)
	}
}

// open creates a verification and publishes its URL.
func (f *yousignFlow) open(ctx workflow.Context) *signals.Outcome {
	opts := initiateOptions
	if f.attempt > 1 {
		opts = providerCallOptions
		// The old URL is spent: a status query shows none, and the URL update waits for the new one. Versioned:
		// the step change is a search attribute command that runs started before it do not have.
		if workflow.GetVersion(ctx, changeClearSpentURL, workflow.DefaultVersion, 1) >= 1 {
			f.url = ""
			f.enterStep(ctx, signals.StepInitiating, time.Time{})
		}
	}
	actx := workflow.WithActivityOptions(ctx, withSummary(opts, fmt.Sprintf("create Yousign verification (attempt %d)", f.attempt)))
	var created activities.YousignVerification
	err := workflow.ExecuteActivity(actx, ys.CreateVerification, activities.YousignCreateRequest{
		FirstName:   f.input.Yousign.FirstName,
		LastName:    f.input.Yousign.LastName,
		RedirectURL: f.input.RedirectURL,
	}).Get(actx, &created)
	if err != nil {
		o := f.callFailed(err, "create verification")
		if f.attempt == 1 {
			return f.initFailed(o)
		}
		return &o
	}
	f.setProviderReference(ctx, created.ID)
	f.publishURL(ctx, created.URL)
	return nil
}

// await waits for the current verification's result. A result that never arrives is read from Yousign: once the
// URL and the review bound have passed, and at the verification's 7-day expiry.
func (f *yousignFlow) await(ctx workflow.Context, expiresAt time.Time) (signals.YousignVerificationEvent, *signals.Outcome) {
	has := func() bool { _, ok := f.results[f.providerRef]; return ok }
	checkpoints := []time.Time{f.urlExpiresAt.Add(time.Duration(f.deadlines.Review)), expiresAt}
	for i, deadline := range checkpoints {
		if deadline.After(expiresAt) {
			deadline = expiresAt
		}
		if i == 1 {
			f.enterStep(ctx, signals.StepProviderProcessing, deadline)
		}
		got, err := f.waitUntil(ctx, deadline, "Yousign verification result", has)
		if o := f.stopped(err); o != nil {
			return signals.YousignVerificationEvent{}, o
		}
		if got {
			return f.results[f.providerRef], nil
		}
		if ev, ok := f.reconcile(ctx); ok {
			return ev, nil
		}
		if o := f.stoppedDuringRead(); o != nil {
			return signals.YousignVerificationEvent{}, o
		}
	}
	return signals.YousignVerificationEvent{Status: signals.YousignStatusInconclusive, StatusCodes: []string{yousignExpiredCode}}, nil
}

// reconcile reads the verification; it reports a result only when Yousign has one.
func (f *yousignFlow) reconcile(ctx workflow.Context) (signals.YousignVerificationEvent, bool) {
	actx := workflow.WithActivityOptions(ctx, withSummary(reconcileOptions, "reconcile: read the verification"))
	var got activities.YousignVerification
	if err := workflow.ExecuteActivity(actx, ys.GetVerification, f.providerRef).Get(actx, &got); err != nil {
		if !f.interrupted(err) {
			f.logger.Warn("Reconciliation read failed", "error", err)
		}
		return signals.YousignVerificationEvent{}, false
	}
	if !isYousignFinal(got.Status) {
		return signals.YousignVerificationEvent{}, false
	}
	f.logger.Info("Verification result read from Yousign; its webhook did not arrive", "status", got.Status)
	return signals.YousignVerificationEvent{VerificationID: got.ID, Status: got.Status, StatusCodes: got.StatusCodes}, true
}

// fetchResult is the review step: the verified status is confirmed by reading the verification itself.
func (f *yousignFlow) fetchResult(ctx workflow.Context) signals.Outcome {
	f.enterStep(ctx, signals.StepKYCReview, time.Time{})
	actx := workflow.WithActivityOptions(ctx, withSummary(providerCallOptions, "fetch the verification result"))
	var got activities.YousignVerification
	if err := workflow.ExecuteActivity(actx, ys.GetVerification, f.providerRef).Get(actx, &got); err != nil {
		return f.callFailed(err, "fetch the verification result")
	}
	if got.Status != signals.YousignStatusVerified {
		return signals.Outcome{Status: signals.OutcomeFailed, Cause: signals.CauseVerificationFailed,
			Detail: fmt.Sprintf("the webhook said verified but Yousign reports %q", got.Status)}
	}
	return signals.Outcome{Status: signals.OutcomeApproved, Detail: "Yousign verification verified"}
}
