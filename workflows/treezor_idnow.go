package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/reasons"
	"github.com/kycflow/kycflow/signals"
)

// identMethod is what sets Treezor's IDnow-backed methods apart: their webhook names and reason codes.
type identMethod struct {
	events    signals.TreezorIdentEvents
	catalogue *reasons.Catalogue
}

// TreezorQES runs a Treezor qualified electronic signature identification. IDnow hosts the session, so its URL is
// valid 14 days and survives the user leaving (qes.aborted); qes.finalized carries the provider's result, and a
// success goes on to Treezor's KYC review.
func TreezorQES(ctx workflow.Context, input signals.VerificationInput) (signals.Outcome, error) {
	return runTreezorIdent(ctx, input, identMethod{events: signals.TreezorQESEvents, catalogue: reasons.TreezorQES})
}

// TreezorVideoConference runs a Treezor video conference identification: the same life cycle as QES under the
// videoConference.* webhooks.
func TreezorVideoConference(ctx workflow.Context, input signals.VerificationInput) (signals.Outcome, error) {
	return runTreezorIdent(ctx, input, identMethod{events: signals.TreezorVideoConferenceEvents, catalogue: reasons.TreezorVideoConference})
}

// identState is what the qes.* / videoConference.* webhooks said so far.
type identState struct {
	// completed: the user finished the session (a created or processing event whose result is beyond START).
	completed bool
	// lastAbort is the reason of the latest abort while the user could still come back.
	lastAbort *signals.ProviderReason
	// fraudPending: the provider is still checking a fraud suspicion.
	fraudPending bool
	// final is the first decisive result; later ones never replace it.
	final *signals.TreezorIdentEvent
}

func runTreezorIdent(ctx workflow.Context, input signals.VerificationInput, m identMethod) (signals.Outcome, error) {
	ctx, f, err := newTreezorFlow(ctx, input)
	if err != nil {
		return signals.Outcome{}, err
	}
	var st identState
	event := func(signal string) receiver {
		return on(f.verification, workflow.GetSignalChannel(ctx, signal),
			func(ev signals.TreezorIdentEvent) { f.recordIdent(signal, ev, m, &st) })
	}
	f.listenTreezor(ctx, event(m.events.Created), event(m.events.Processing), event(m.events.Aborted), event(m.events.Finalized))
	if o := f.initiate(ctx); o != nil {
		return f.complete(ctx, *o), nil
	}
	if o := f.awaitIdent(ctx, m, &st); o != nil {
		return f.complete(ctx, *o), nil
	}
	if f.changes.documentsComplete {
		// Seed 002: "The verification documents are automatically created once the qes.finalized webhook is
		// received"; the review needs them.
		if o := f.awaitAllDocuments(ctx, false); o != nil {
			return f.complete(ctx, *o), nil
		}
	}
	if o := f.awaitTransfer(ctx); o != nil {
		return f.complete(ctx, *o), nil
	}
	return f.complete(ctx, f.review(ctx)), nil
}

func (f *treezorFlow) recordIdent(signal string, ev signals.TreezorIdentEvent, m identMethod, st *identState) {
	// Seed 000's webhooks carry the identificationId that POST /videoconference (or /qes) answered with.
	if f.staleEvent(ev.IdentificationID, ev.EmittedAt, f.events.sessionOpenedAt) {
		return
	}
	aborted := signal == m.events.Aborted || ev.Result == signals.TreezorResultAborted
	decided := signal == m.events.Finalized && isDecisive(ev.Result)
	// The user's own steps (finishing the session: created; leaving it: aborted) count for the URL's bound only if
	// emitted before it. processing and finalized are the provider's, on a session the user did finish, whenever
	// they come.
	userStep := signal == m.events.Created || aborted
	if userStep && f.lateUserAction(ev.EmittedAt) {
		return
	}
	switch {
	case aborted:
		// An abort delivered after the user completed a later attempt is stale.
		if !st.completed && st.final == nil {
			st.lastAbort = ev.Reason
			f.reasons = explainReason(m.catalogue, ev.Reason)
		}
	case decided:
		st.completed = true
		if st.final == nil {
			st.final = &ev
		}
	case ev.Result == signals.TreezorResultFraudSuspicionPending:
		st.completed = true
		st.fraudPending = true
	case ev.Result == signals.TreezorResultStart && f.changes.identDecidesOnResult:
		// Seed 000's result table: "START – The verification process has started." The user is in the session,
		// not done with it: an ABORTED may still follow, and the 14-day link must stay open for their return.
	case signal == m.events.Created, signal == m.events.Processing, ev.Result == signals.TreezorResultReviewPending:
		st.completed = true
	}
}

func isDecisive(result string) bool {
	switch result {
	case signals.TreezorResultSuccess, signals.TreezorResultSuccessDataChange,
		signals.TreezorResultCanceled, signals.TreezorResultFraudSuspicionConfirmed:
		return true
	}
	return false
}

// awaitIdent waits for the user's session, then for the provider's result; nil means a success, ready for the
// KYC review.
func (f *treezorFlow) awaitIdent(ctx workflow.Context, m identMethod, st *identState) *signals.Outcome {
	done, err := f.waitUntil(ctx, f.userBound(), "identification URL valid",
		func() bool { return st.completed || st.final != nil })
	if o := f.stopped(err); o != nil {
		return o
	}
	if !done {
		validity := time.Duration(f.deadlines.URLValidity)
		if st.lastAbort != nil {
			return &signals.Outcome{
				Status:       signals.OutcomeAborted,
				Reasons:      f.reasons,
				Detail:       fmt.Sprintf("the user left (%s) and did not come back within the URL's %s", st.lastAbort.Code, validity),
				UserMayRetry: true,
			}
		}
		return &signals.Outcome{
			Status:       signals.OutcomeExpired,
			Detail:       fmt.Sprintf("the user did not complete the identification within the URL's %s", validity),
			UserMayRetry: true,
		}
	}

	deadline := workflow.Now(ctx).Add(time.Duration(f.deadlines.Review))
	f.enterStep(ctx, signals.StepProviderProcessing, deadline)
	// Neither method has an endpoint for reading the session, so an overdue one only listens.
	decided, err := f.awaitProvider(ctx, deadline, fmt.Sprintf("provider result (%s)", m.events.Finalized),
		func() bool { return st.final != nil }, nil)
	if o := f.stopped(err); o != nil {
		return o
	}
	if !decided {
		detail := fmt.Sprintf("no final result from the provider within %s", f.overdueText())
		if st.fraudPending {
			detail += " (a fraud suspicion was still being checked)"
		}
		return &signals.Outcome{Status: signals.OutcomeReviewTimeout, Detail: detail}
	}

	final := st.final
	rs := explainReason(m.catalogue, final.Reason)
	f.reasons = rs
	switch final.Result {
	case signals.TreezorResultSuccess, signals.TreezorResultSuccessDataChange:
		return nil
	case signals.TreezorResultCanceled:
		return &signals.Outcome{
			Status:       signals.OutcomeCanceled,
			Reasons:      rs,
			Detail:       "the provider could not complete the identification",
			UserMayRetry: true,
		}
	default:
		return &signals.Outcome{
			Status:  signals.OutcomeFraudSuspected,
			Reasons: rs,
			Detail:  "the provider confirmed a fraud suspicion",
		}
	}
}
