package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// tz is the typed reference workflows schedule Treezor activities through.
var tz *activities.Treezor

// Activity options. Initiation is short because a backend is waiting for the URL; the calls after it can take
// longer to succeed, since the user has already done their part; the one read made at a deadline is bounded so
// that the verification concludes rather than waits on it.
var (
	initiateOptions     = providerCall(2*time.Minute, 20*time.Second, 6)
	providerCallOptions = providerCall(30*time.Minute, 2*time.Minute, 0)
	reconcileOptions    = providerCall(5*time.Minute, time.Minute, 0)
)

// providerCall is the options of one provider API call: 30 s per attempt (the HTTP client retries briefly inside
// it), exponential backoff from 1 s, and a bound on the whole; maxAttempts 0 leaves only that bound. The call
// heartbeats (activities.HeartbeatInterval), so a cancellation reaches it within seconds, and a worker that died
// mid-call is noticed after the heartbeat timeout rather than the attempt's 30 s.
func providerCall(scheduleToClose, maxInterval time.Duration, maxAttempts int32) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		HeartbeatTimeout:       5 * activities.HeartbeatInterval,
		ScheduleToCloseTimeout: scheduleToClose,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    maxInterval,
			MaximumAttempts:    maxAttempts,
		},
	}
}

// treezorFlow runs what Treezor's three methods share: initiating the session, the events they all receive, and
// the KYC review. A method adds its own wait in between (see TreezorLiveness).
type treezorFlow struct {
	*verification
	events treezorEvents
}

// treezorEvents is what the Treezor webhooks told the workflow so far. Handlers only record here; the flow
// awaits conditions over it, so reordered deliveries need no special handling.
type treezorEvents struct {
	livenessStarted bool
	// livenessResult is the first processed kycliveness.update; later ones never replace it.
	livenessResult *signals.TreezorLivenessEvent
	documents      []signals.TreezorDocumentEvent
	// transfer is the first validated SEPA transfer into the wallet of SEPAValidation.
	transfer *signals.TreezorPayinEvent
	// reviewRequested opens the window for user.kycreview: an event from an earlier review is stale.
	reviewRequested bool
	review          *signals.TreezorKycReviewEvent
	// reconciledReview is a decided kycReview read from Treezor (0 until one is); lastReadReview the latest read.
	reconciledReview, lastReadReview int
	// sessionOpenedAt and reviewRequestedAt are when this run asked Treezor for its session and its review: an
	// event Treezor emitted before cannot be about them.
	sessionOpenedAt, reviewRequestedAt time.Time
}

// emissionSlack absorbs the difference between Treezor's clock (webhook_created_at) and Temporal's: an event is
// stale by its emission time only when it was emitted this much before this run's request. An earlier session's
// events are minutes to days older.
const emissionSlack = time.Minute

// staleEvent reports whether a Treezor event belongs to another session than this run's, counting it: another
// identification ID than the one this run's initiation returned, or an emission before this run asked Treezor
// for what the event answers (after). Treezor's workflow IDs are per user and reused, so a redelivered or late
// event of a previous verification reaches the current run; it must change nothing.
func (f *treezorFlow) staleEvent(identificationID string, emittedAt, after time.Time) bool {
	if !f.changes.matchSessions {
		return false
	}
	stale := (identificationID != "" && f.providerRef != "" && identificationID != f.providerRef) ||
		(!emittedAt.IsZero() && !after.IsZero() && emittedAt.Before(after.Add(-emissionSlack)))
	if stale {
		f.countWebhook(WebhookKindStale)
		f.logger.Info("Ignoring a webhook of another provider session", "emittedAt", emittedAt)
	}
	return stale
}

func newTreezorFlow(ctx workflow.Context, input signals.VerificationInput) (workflow.Context, *treezorFlow, error) {
	ctx, v, err := newVerification(ctx, input)
	if err != nil {
		return ctx, nil, err
	}
	return ctx, &treezorFlow{verification: v}, nil
}

// listenTreezor starts recording webhooks: every Treezor method receives the document and KYC review webhooks,
// and each method adds its own.
func (f *treezorFlow) listenTreezor(ctx workflow.Context, own ...receiver) {
	f.listen(ctx, append(own,
		on(f.verification, workflow.GetSignalChannel(ctx, signals.SignalTreezorDocumentCreate), f.recordDocument),
		on(f.verification, workflow.GetSignalChannel(ctx, signals.SignalTreezorKycReview), f.recordReview),
		on(f.verification, workflow.GetSignalChannel(ctx, signals.SignalTreezorPayinCreate), f.recordPayin),
		on(f.verification, workflow.GetSignalChannel(ctx, signals.SignalTreezorPayinUpdate), f.recordPayin),
	)...)
}

func (f *treezorFlow) recordLiveness(ev signals.TreezorLivenessEvent) {
	if f.staleEvent(ev.IdentificationID, ev.EmittedAt, f.events.sessionOpenedAt) {
		return
	}
	result := ev.KycStatus == signals.LivenessStatusProcessed && ev.Score != nil
	// Seed 001: "end users have 15 minutes to complete the steps [...]. After this delay, the identification-url
	// expires", and kycliveness.create is "Received when the end user completes (or abandons)" the process. A create
	// emitted past the bound is no completion in time. A processed result is Treezor's decision on a session the
	// user did complete, and counts whenever it comes.
	// kyc-status processing is the create's ("Received when the end user completes (or abandons)"); processed is
	// Treezor's partner, with or without a score.
	if ev.KycStatus != signals.LivenessStatusProcessed && f.lateUserAction(ev.EmittedAt) {
		return
	}
	f.events.livenessStarted = true
	if result && f.events.livenessResult == nil {
		f.events.livenessResult = &ev
	}
}

// recordPayin keeps the first validated SEPA transfer into the verification's wallet, from its webhook. Any other
// payin (a card top-up, another wallet, one still pending or canceled) changes nothing: the user may send another
// transfer. One Treezor emitted before the transfer window (changes.readTransfers: transferWindowStart) is another
// verification's, or any payin of a wallet in use, redelivered: counted stale.
func (f *treezorFlow) recordPayin(ev signals.TreezorPayinEvent) {
	if f.changes.readTransfers && !ev.EmittedAt.IsZero() && ev.EmittedAt.Before(f.transferWindowStart()) {
		f.countWebhook(WebhookKindStale)
		f.logger.Info("Ignoring a payin emitted before the transfer window", "emittedAt", ev.EmittedAt)
		return
	}
	f.keepTransfer(ev)
}

// keepTransfer records ev if it is the first validated SEPA transfer into the verification's wallet.
func (f *treezorFlow) keepTransfer(ev signals.TreezorPayinEvent) {
	v := f.input.SEPAValidation
	if v == nil || f.events.transfer != nil || !ev.IsValidatedSEPATransfer(v.WalletID) {
		return
	}
	f.events.transfer = &ev
}

// transferWindowStart is the earliest a SEPA validation transfer may have been made and still count: the
// lookback before the start (Deadlines.TransferLookback, 24 hours by default).
func (f *treezorFlow) transferWindowStart() time.Time {
	return f.startedAt.Add(-time.Duration(f.deadlines.TransferLookback))
}

func (f *treezorFlow) recordDocument(ev signals.TreezorDocumentEvent) {
	// Treezor creates a session's documents after it (PUT kycliveness, or on its own after *.finalized).
	if f.staleEvent("", ev.EmittedAt, f.events.sessionOpenedAt) {
		return
	}
	for _, d := range f.events.documents {
		if d.DocumentID == ev.DocumentID {
			return
		}
	}
	f.events.documents = append(f.events.documents, ev)
}

func (f *treezorFlow) recordReview(ev signals.TreezorKycReviewEvent) {
	if !f.events.reviewRequested {
		f.logger.Info("Ignoring user.kycreview received before this verification requested a review", "kycReview", ev.KycReview)
		if f.changes.matchSessions {
			f.countWebhook(WebhookKindStale)
		}
		return
	}
	if f.staleEvent("", ev.EmittedAt, f.events.reviewRequestedAt) {
		return
	}
	// Intermediate values (pending, review open) never replace a decision, and the first decision stands.
	if ev.Decided() && f.events.review == nil {
		f.events.review = &ev
	}
}

// initiate opens the provider session and publishes the URL; it returns the outcome when that failed.
func (f *treezorFlow) initiate(ctx workflow.Context) *signals.Outcome {
	f.events.sessionOpenedAt = workflow.Now(ctx)
	actx := workflow.WithActivityOptions(ctx, withSummary(initiateOptions, fmt.Sprintf("initiate %s", f.input.Method)))
	var id activities.Identification
	err := workflow.ExecuteActivity(actx, tz.Initiate, activities.InitiateRequest{
		Method:      f.input.Method,
		UserID:      f.input.SubjectID,
		RedirectURL: f.input.RedirectURL,
	}).Get(actx, &id)
	if err != nil {
		return f.initFailed(f.callFailed(err, "initiate identification"))
	}
	f.setProviderReference(ctx, id.ID)
	f.publishURL(ctx, id.URL)
	return nil
}

func withSummary(o workflow.ActivityOptions, summary string) workflow.ActivityOptions {
	o.Summary = summary
	return o
}
