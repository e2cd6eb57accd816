package workflows

import (
	"cmp"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/reasons"
	"github.com/kycflow/kycflow/signals"
)

// sol is the typed reference workflows schedule Solaris activities through.
var sol *activities.Solaris

// SolarisIDnow runs a Solaris IDnow video identification for an existing Solaris person (the subject is the
// person_id). The IDnow link is valid 14 days and survives the user leaving (aborted, canceled); a second-line
// review (pending_successful, pending_failed) is bounded by the 24-hour review bound; a successful identification's
// documents are fetched into the outcome.
//
// The IDENTIFICATION webhook does not name the person: the relay finds this workflow through the
// KycProviderReference search attribute, set to the identification ID as soon as Solaris issues it.
func SolarisIDnow(ctx workflow.Context, input signals.VerificationInput) (signals.Outcome, error) {
	ctx, v, err := newVerification(ctx, input)
	if err != nil {
		return signals.Outcome{}, err
	}
	f := &solarisFlow{verification: v}
	f.listen(ctx, on(v, workflow.GetSignalChannel(ctx, signals.SignalSolarisIdentification), f.record))
	if o := f.initiate(ctx); o != nil {
		return f.complete(ctx, *o), nil
	}
	return f.complete(ctx, f.run(ctx)), nil
}

// solarisFlow follows one identification: verification.providerRef is its ID, and verification.providerStatus the
// most advanced status reported so far (see solarisRank).
type solarisFlow struct {
	*verification
	// beforeFinal is the status a final one from a webhook replaced; a final status the API does not confirm is
	// set aside and the identification goes back to it (confirmFinal).
	beforeFinal string
}

// solarisRank orders statuses so that a late, stale webhook never moves the identification backwards. Equal ranks
// replace each other: the user may abort and come back with the same link.
func solarisRank(status string) int {
	switch status {
	case signals.SolarisStatusPending, signals.SolarisStatusAborted, signals.SolarisStatusCanceled:
		return 1
	case signals.SolarisStatusPendingSuccessful, signals.SolarisStatusPendingFailed:
		return 2
	case signals.SolarisStatusSuccessful, signals.SolarisStatusFailed, signals.SolarisStatusExpired:
		return 3
	}
	return 0
}

func (f *solarisFlow) record(ev signals.SolarisIdentificationEvent) {
	if ev.IdentificationID != f.providerRef {
		// Another session's: the workflow ID is the person's and reused, and Solaris may still report an earlier
		// identification of theirs. It changes nothing and is counted stale, as Treezor's are.
		f.logger.Info("Ignoring a webhook for another identification", "identificationId", ev.IdentificationID)
		f.countWebhook(WebhookKindStale)
		return
	}
	f.observe(ev.Status)
}

func (f *solarisFlow) observe(status string) {
	current := solarisRank(f.providerStatus)
	// Solaris: the second-line review may also resolve negatively with canceled, after which the user may
	// identify again with the same link; only that status may follow a pending_* one.
	reviewCanceled := current == 2 && status == signals.SolarisStatusCanceled
	if current == 3 || (solarisRank(status) < current && !reviewCanceled) {
		return
	}
	if solarisRank(status) == 3 {
		f.beforeFinal = f.providerStatus
	}
	f.providerStatus = status
}

func (f *solarisFlow) initiate(ctx workflow.Context) *signals.Outcome {
	req := activities.SolarisIdentRequest{PersonID: f.input.SubjectID, Language: cmp.Or(f.input.Language, "EN"),
		ProofOfAddress: f.input.ProofOfAddress}
	var ident activities.SolarisIdentification
	actx := workflow.WithActivityOptions(ctx, withSummary(initiateOptions, "create IDnow identification"))
	if err := workflow.ExecuteActivity(actx, sol.CreateIdentification, req).Get(actx, &ident); err != nil {
		return f.initFailed(f.callFailed(err, "create identification"))
	}
	// Published before the request: the first webhook may arrive before the request's response.
	f.setProviderReference(ctx, ident.ID)

	req.IdentificationID, req.ProofOfAddress = ident.ID, nil
	actx = workflow.WithActivityOptions(ctx, withSummary(initiateOptions, "request IDnow identification"))
	if err := workflow.ExecuteActivity(actx, sol.RequestIdentification, req).Get(actx, &ident); err != nil {
		return f.initFailed(f.callFailed(err, "request identification"))
	}
	f.observe(ident.Status)
	if ident.URL == "" {
		o := signals.Outcome{Status: signals.OutcomeFailed, Cause: signals.CauseProviderRejected,
			Detail: "Solaris requested the identification but returned no IDnow URL"}
		return f.initFailed(o)
	}
	// Seed 003: the request answers with the url "for web browser" and the reference "for mobile app"; the app
	// gets the reference through the identification_url update only (sdkToken).
	f.sdkToken = ident.SDKToken
	f.publishURL(ctx, ident.URL)
	return nil
}

// run follows the identification from the user's session to its final status. A second-line review that
// cancels the identification sends the user back to the same link for as long as it is valid.
func (f *solarisFlow) run(ctx workflow.Context) signals.Outcome {
	for {
		sessionDone := func() bool { return solarisRank(f.providerStatus) >= 2 }
		done, err := f.waitUntil(ctx, f.userBound(), "IDnow link valid", sessionDone)
		if o := f.stopped(err); o != nil {
			return *o
		}
		if !done {
			// The link's life is over; a webhook may have been lost, so ask Solaris before concluding.
			f.reconcile(ctx)
			if o := f.stoppedDuringRead(); o != nil {
				return *o
			}
			if !sessionDone() {
				return f.sessionOutcome(ctx)
			}
		}
		if solarisRank(f.providerStatus) == 2 {
			if o := f.awaitReview(ctx); o != nil {
				return *o
			}
		}
		if f.changes.confirmResults && f.isDecision() {
			ident, confirmed, readErr := f.confirmFinal(ctx)
			if o := f.stoppedDuringRead(); o != nil {
				return *o
			}
			if readErr != nil {
				// Solaris never answered, which says nothing about the webhook: the verification fails as an
				// unanswered read did before confirmation (a successful one's documents are unavailable).
				o := f.callFailed(readErr, "read the identification to confirm its final status")
				if o.Status == signals.OutcomeFailed && f.providerStatus == signals.SolarisStatusSuccessful {
					o.Cause = signals.CauseDocumentsUnavailable
				}
				return o
			}
			if !confirmed {
				// Set aside: back to waiting for the user or the review, as the status now says.
				f.enterStep(ctx, signals.StepAwaitingUser, f.urlExpiresAt)
				continue
			}
			return f.confirmedOutcome(ident)
		}
		if f.providerStatus != signals.SolarisStatusCanceled {
			return f.finalOutcome(ctx)
		}
		f.logger.Info("IDnow's review canceled the identification; the user may retry with the same link")
		f.enterStep(ctx, signals.StepAwaitingUser, f.urlExpiresAt)
	}
}

// awaitReview waits for IDnow's second-line review; nil means it decided (a final status, or canceled).
func (f *solarisFlow) awaitReview(ctx workflow.Context) *signals.Outcome {
	deadline := workflow.Now(ctx).Add(time.Duration(f.deadlines.Review))
	f.enterStep(ctx, signals.StepProviderProcessing, deadline)
	decided := func() bool {
		return solarisRank(f.providerStatus) == 3 || f.providerStatus == signals.SolarisStatusCanceled
	}
	ok, err := f.awaitProvider(ctx, deadline, "IDnow second-line review", decided, f.reconcile)
	if o := f.stopped(err); o != nil {
		return o
	}
	if !ok && !f.changes.boundsEscalate {
		// Runs recorded before bounds escalated read the identification once, here.
		f.reconcile(ctx)
		if o := f.stoppedDuringRead(); o != nil {
			return o
		}
	}
	if !decided() {
		return &signals.Outcome{Status: signals.OutcomeReviewTimeout,
			Detail: fmt.Sprintf("IDnow second-line review (%s) undecided after %s", f.providerStatus, f.overdueText())}
	}
	return nil
}

// sessionOutcome concludes a link that expired: the user left (with IDnow's reason) or never came.
func (f *solarisFlow) sessionOutcome(ctx workflow.Context) signals.Outcome {
	validity := time.Duration(f.deadlines.URLValidity)
	if f.providerStatus == signals.SolarisStatusAborted || f.providerStatus == signals.SolarisStatusCanceled {
		rs := f.failureReasons(ctx)
		return signals.Outcome{Status: signals.OutcomeAborted, Reasons: rs, UserMayRetry: true,
			Detail: fmt.Sprintf("identification %s and not resumed within the link's %s", f.providerStatus, validity)}
	}
	return signals.Outcome{Status: signals.OutcomeExpired, UserMayRetry: true,
		Detail: fmt.Sprintf("the user did not complete the identification within the link's %s", validity)}
}

func (f *solarisFlow) finalOutcome(ctx workflow.Context) signals.Outcome {
	switch f.providerStatus {
	case signals.SolarisStatusSuccessful:
		f.enterStep(ctx, signals.StepKYCReview, time.Time{})
		ident, err := f.read(ctx, "fetch the identification and its documents", providerCallOptions, true)
		if err != nil {
			o := f.callFailed(err, "fetch the successful identification")
			if o.Status == signals.OutcomeFailed {
				o.Cause = signals.CauseDocumentsUnavailable
			}
			return o
		}
		return signals.Outcome{Status: signals.OutcomeApproved, Documents: ident.Documents, Detail: "IDnow identification successful"}
	case signals.SolarisStatusExpired:
		return solarisExpired()
	default:
		return solarisRefused(f.failureReasons(ctx), "IDnow identification failed")
	}
}

// isDecision reports whether the identification's status is a decision on the person: successful or failed.
func (f *solarisFlow) isDecision() bool {
	return f.providerStatus == signals.SolarisStatusSuccessful || f.providerStatus == signals.SolarisStatusFailed
}

// confirmFinal reads the identification before a successful or failed status is applied (seed 003: "GET Retrieve
// person identification ... returns a completed person identification"). The read's final status is Solaris's word
// and wins over the webhook's; a read that shows no final status sets the webhook aside, and the identification
// goes back to the status the read shows (or, with no read, the one before the webhook). A successful one is read
// with its documents, which the outcome carries, so confirming costs no extra call.
func (f *solarisFlow) confirmFinal(ctx workflow.Context) (activities.SolarisIdentification, bool, error) {
	claimed, docs := f.providerStatus, f.providerStatus == signals.SolarisStatusSuccessful
	var (
		ident   activities.SolarisIdentification
		lastErr error
	)
	confirmed, answered := f.confirm(ctx, "Solaris identification "+claimed, func(ctx workflow.Context) (bool, error) {
		got, err := f.read(ctx, "confirm the final status: read the identification", providerCallOptions, docs)
		if err != nil {
			lastErr = err
			return false, err
		}
		ident = got
		return solarisRank(got.Status) == 3, nil
	})
	switch {
	case !confirmed && !answered && !f.stopping():
		f.providerStatus = claimed
		return ident, false, lastErr
	case confirmed && ident.Status != claimed:
		f.logger.Warn("The IDENTIFICATION webhook and Solaris's API disagree; the API decides", "webhook", claimed, "read", ident.Status)
		f.providerStatus = ident.Status
	case !confirmed && solarisRank(ident.Status) > 0:
		f.providerStatus = ident.Status
	case !confirmed:
		f.providerStatus = f.beforeFinal
	}
	return ident, confirmed, nil
}

// confirmedOutcome is the outcome of a final status the API showed: ident is that read.
func (f *solarisFlow) confirmedOutcome(ident activities.SolarisIdentification) signals.Outcome {
	switch ident.Status {
	case signals.SolarisStatusSuccessful:
		return signals.Outcome{Status: signals.OutcomeApproved, Documents: ident.Documents, Detail: "IDnow identification successful, confirmed by reading the identification"}
	case signals.SolarisStatusExpired:
		return solarisExpired()
	}
	var rs []signals.Reason
	if ident.FailureReason != "" {
		rs = []signals.Reason{reasons.IDnow.Explain(ident.FailureReason, "")}
	}
	return solarisRefused(rs, "IDnow identification failed, confirmed by reading the identification")
}

func solarisExpired() signals.Outcome {
	return signals.Outcome{Status: signals.OutcomeExpired, UserMayRetry: true, Detail: "Solaris expired the identification"}
}

// solarisRefused is the outcome of a failed identification. Seed 003: "No reason can be disclosed for the final
// failed status." Solaris may still send one; it is kept for operators and withheld from everything the user sees.
func solarisRefused(rs []signals.Reason, detail string) signals.Outcome {
	return signals.Outcome{Status: signals.OutcomeRefused, Reasons: reasons.Withheld(rs), Detail: detail,
		UserMessage: outcomeUserMessage(signals.Outcome{Status: signals.OutcomeRefused})}
}

// reconcile reads the identification once, for a webhook that may not have been delivered.
func (f *solarisFlow) reconcile(ctx workflow.Context) {
	ident, err := f.read(ctx, "reconcile: read the identification", reconcileOptions, false)
	if f.interrupted(err) {
		return
	}
	if err != nil {
		f.logger.Warn("Reconciliation read failed; concluding from the webhooks received", "error", err)
		return
	}
	f.observe(ident.Status)
}

// failureReasons reads IDnow's failure reason, which the webhook does not carry.
func (f *solarisFlow) failureReasons(ctx workflow.Context) []signals.Reason {
	ident, err := f.read(ctx, "read the failure reason", reconcileOptions, false)
	if err != nil || ident.FailureReason == "" {
		return nil
	}
	return []signals.Reason{reasons.IDnow.Explain(ident.FailureReason, "")}
}

func (f *solarisFlow) read(ctx workflow.Context, summary string, opts workflow.ActivityOptions, docs bool) (activities.SolarisIdentification, error) {
	var ident activities.SolarisIdentification
	req := activities.SolarisIdentRequest{PersonID: f.input.SubjectID, IdentificationID: f.providerRef, IncludeDocuments: docs}
	err := f.readProvider(ctx, false, opts, summary, sol.GetIdentification, req, &ident)
	return ident, err
}
