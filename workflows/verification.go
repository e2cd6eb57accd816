// Package workflows holds kycflow's verification workflows: one file per method, the Treezor KYC review step, and
// the state every method shares (status query, URL update, cancel signal, search attributes, deduplication and
// deadline waits).
//
// Everything here is deterministic: time comes from workflow.Now, waits from workflow timers, and signal handlers
// only record facts into state; the main flow awaits conditions over that state, so the order in which webhooks
// arrive does not matter.
package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/signals"
)

// Error types the identification_url update and the workflow return; the starter branches on them.
const (
	ErrTypeInvalidInput   = "InvalidInput"
	ErrTypeMethodMismatch = "MethodMismatch"
	// ErrTypeNoURL: the verification's URL is spent and no new session can be opened (Yousign: every attempt
	// used).
	ErrTypeNoURL = "NoURL"
)

// verification is the state every method's workflow shares. It is only touched from workflow code.
type verification struct {
	input     signals.VerificationInput
	deadlines signals.Deadlines
	logger    log.Logger

	step         signals.Step
	stepDeadline time.Time

	// startedAt is the workflow's start time.
	startedAt      time.Time
	providerRef    string
	providerStatus string
	url            string
	urlExpiresAt   time.Time
	// initFailure is the outcome when the provider session could not be opened; the URL update returns it.
	initFailure *signals.Outcome

	// reasons are the latest reasons the provider gave (an abort, a refusal), already explained by the catalogue.
	reasons []signals.Reason

	cancelRequested bool
	cancelReason    string
	// cancelFlow cancels the context the flow runs on (see changes.cancelInterrupts).
	cancelFlow workflow.CancelFunc
	// now is workflow time for the status query (nil on runs recorded before the grace: they hand the URL out
	// for the whole awaiting_user step, as they did).
	now func() time.Time

	receivers  []receiver
	seenEvents map[string]struct{}
	webhooks   signals.WebhookCounts
	metrics    *verificationMetrics
	// pendingAttrs are search attribute updates that go with the next step change (changes.leanAttributes).
	pendingAttrs []temporal.SearchAttributeUpdate
	outcome      *signals.Outcome
	// overdue is set while a wait for the provider is past its review bound; overdueCanRead when that provider
	// offers a read.
	overdue        *signals.Overdue
	overdueCanRead bool

	// Operator actions (operator.go): recheckRequested asks the overdue wait for a read now; pendingApproval is
	// the first operator's approval, awaiting a second; operatorOutcome ends the verification.
	recheckRequested bool
	pendingApproval  *signals.Decision
	approvalRef      string // the provider session pendingApproval was given for
	operatorOutcome  *signals.Outcome
	// operatorActions are the accepted operator actions, in order, for the outcome.
	operatorActions []signals.Decision

	changes changes
	// extension is the overdue limit an operator set for a bound (extend).
	extension *overdueExtension
	// renew, when set, asks the flow for a URL usable now because the current one is spent or withdrawn (Yousign:
	// a new verification); it fails when the flow cannot give one.
	renew func() error
	// sdkToken is what the provider's mobile SDK starts the session with (IDnow's reference); only the
	// identification_url update answers with it.
	sdkToken string
	// sessionOpenUntil, set where the provider keeps one session per user and a new one replaces it, says until
	// when the session may still complete, at a given time (Outcome.SessionOpenUntil).
	sessionOpenUntil func(now time.Time) (time.Time, bool)
}

// changes are the command-sequence changes a run follows, read once with workflow.GetVersion when the run starts
// (changeDecisionIntegrity): a run recorded before them replays without them, so its history stays valid.
type changes struct {
	// takePendingAtBounds: a wait that reaches its bound takes the webhooks delivered with the bound's timer first
	// (see awaitWebhooksFirst).
	takePendingAtBounds bool
	// identDecidesOnResult: a qes/videoConference created or processing event counts as the user's completion by
	// its result, not by its name (START only says the session began).
	identDecidesOnResult bool
	// cancelInterruptsCalls: the backend's cancel signal cancels the flow's context, so a provider call in flight
	// stops waiting at once (Temporal requests the activity's cancellation), and a call cut short by a cancel,
	// the backend's or Temporal's, ends the verification cancelled instead of failed.
	cancelInterrupts bool
	// boundsEscalate: a wait for the provider that passes its review bound makes the verification overdue
	// instead of ending it (see awaitProvider).
	boundsEscalate bool
	// matchSessions: a Treezor event of another session than this run's is counted stale and changes nothing
	// (see treezorFlow.staleEvent).
	matchSessions bool
	// urlGrace: the wait for the user's session lasts the URL's validity plus Deadlines.Grace (see userBound).
	urlGrace bool
	// userActsByEmission (version 2): a webhook that marks the user's own action (finishing or leaving the
	// session) counts for a user-side bound only if the provider emitted it before the bound (see lateUserAction).
	userActsByEmission bool
	// documentsComplete (version 3): Treezor's KYC review is requested only once every document of the session
	// has had its document.create webhook, after QES and video conference too (see awaitAllDocuments).
	documentsComplete bool
	// yousignAttempts (version 4): Yousign's verifications expire 7 days after each one's creation, an
	// inconclusive result's codes decide between a new verification now and waiting for the user, a spent URL is
	// never handed out (a URL asked for then opens a new verification), and no status code is invented (see
	// yousignFlow.runAttempts).
	yousignAttempts bool
	// sepaTransfer (version 5): a verification with SEPAValidation waits for the user's SEPA transfer before the
	// KYC review (see treezorFlow.awaitTransfer).
	sepaTransfer bool
	// strictInput (version 6): the input passes VerificationInput.ValidateForStart (a subject ID in its provider's
	// form, at most MaxYousignAttempts); runs started before accepted more, and keep running.
	strictInput bool
	// confirmDecisions (version 7): a decision a webhook brings is applied only once the provider's API shows it
	// (Treezor's KYC review: see treezorFlow.confirmReview).
	confirmDecisions bool
	// confirmResults (version 8): Solaris's and Yousign's final results (approve or refuse) are applied only once
	// the provider's API shows them too (see solarisFlow.confirmFinal, yousignFlow.confirmResult).
	confirmResults bool
	// leanAttributes (version 9): one search attribute upsert per step change. The method, provider and first
	// step come with the start when the starter set them (no upsert then); the provider reference goes with the
	// next step change (the URL's, right after; the relay routes by alias, not by this attribute); the last step
	// and the outcome go together. Each upsert is a billable action and a visibility write.
	leanAttributes bool
	// relistDocuments (version 10): a document.create that reaches the run while the user's documents are being
	// listed makes the workflow list them again (see awaitAllDocuments); before, the listing that missed the
	// document held the KYC review until the review bound.
	relistDocuments bool
	// readTransfers (version 11): the SEPA validation step reads the wallet's validated transfers from Treezor
	// when it begins and at its bound (see treezorFlow.awaitTransfer); before, only payin webhooks counted, and a
	// transfer made before the workflow existed, or whose webhook was lost, ended the verification expired.
	readTransfers bool
	// webhooksBeforeTimers (version 12): a wait lets the listener take the webhooks already delivered to the run
	// before it starts its timer (see awaitWebhooksFirst); before, a wait whose webhook came in the same task
	// started its timer and cancelled it at once, a billable action and two history events for nothing.
	webhooksBeforeTimers bool
	// localReads (version 13 only): every read of the provider's state made its first attempt as a local
	// activity, the reads a run may conclude on too (see readProvider for why version 14 stopped that).
	localReads bool
	// localGatheringReads (version 14): the reads that gather (the documents listed before Treezor's review
	// within its bound, the wallet's transfers when the SEPA step begins) make their first attempt as a local
	// activity; before, each was a regular activity, an activity task and a workflow task more for the engine.
	localGatheringReads bool
}

// changeDecisionIntegrity is the one workflow.GetVersion change ID behind every field of changes; never rename it.
// One ID rather than one per behaviour: the SDK upserts the TemporalChangeVersion search attribute for each
// GetVersion a new run calls, and six of them cost six visibility writes per verification (seen in a recorded
// history). A later set of changes raises the version (maxSupported 2, ...) under the same ID.
const changeDecisionIntegrity = "decision-integrity"

func readChanges(ctx workflow.Context) changes {
	version := workflow.GetVersion(ctx, changeDecisionIntegrity, workflow.DefaultVersion, 14)
	on := version >= 1
	return changes{takePendingAtBounds: on, identDecidesOnResult: on, cancelInterrupts: on, boundsEscalate: on,
		matchSessions: on, urlGrace: on, userActsByEmission: version >= 2, documentsComplete: version >= 3, yousignAttempts: version >= 4,
		sepaTransfer: version >= 5, strictInput: version >= 6,
		confirmDecisions: version >= 7, confirmResults: version >= 8, leanAttributes: version >= 9,
		relistDocuments: version >= 10, readTransfers: version >= 11,
		webhooksBeforeTimers: version >= 12, localReads: version == 13, localGatheringReads: version >= 14}
}

// newVerification validates the input and sets up what every method shares. The flow runs on the context it
// returns, which the backend's cancel signal cancels.
func newVerification(ctx workflow.Context, input signals.VerificationInput) (workflow.Context, *verification, error) {
	if err := input.Validate(); err != nil {
		return ctx, nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("invalid verification input: %v", err), ErrTypeInvalidInput, nil)
	}
	v := &verification{
		input:      input,
		deadlines:  input.Deadlines.WithDefaults(input.Method),
		logger:     log.With(workflow.GetLogger(ctx), "method", string(input.Method)),
		step:       signals.StepInitiating,
		startedAt:  workflow.GetInfo(ctx).WorkflowStartTime,
		seenEvents: map[string]struct{}{},
		changes:    readChanges(ctx),
		metrics:    newVerificationMetrics(ctx, input.Method),
	}
	if v.changes.strictInput {
		if err := input.ValidateForStart(); err != nil {
			return ctx, nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("invalid verification input: %v", err), ErrTypeInvalidInput, nil)
		}
	}
	if err := workflow.SetQueryHandler(ctx, signals.QueryStatus, v.status); err != nil {
		return ctx, nil, fmt.Errorf("register status query: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, signals.UpdateIdentificationURL, v.identificationURL,
		workflow.UpdateHandlerOptions{Validator: v.validateURLRequest}); err != nil {
		return ctx, nil, fmt.Errorf("register identification_url update: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, signals.UpdateOperatorAction, v.operatorAction,
		workflow.UpdateHandlerOptions{Validator: v.validateOperatorAction}); err != nil {
		return ctx, nil, fmt.Errorf("register operator_action update: %w", err)
	}
	if err := v.setInitialAttributes(ctx); err != nil {
		return ctx, nil, fmt.Errorf("set search attributes: %w", err)
	}
	v.metrics.started()
	v.metrics.stepChanged("", v.step)
	if v.changes.urlGrace {
		root := ctx
		v.now = func() time.Time {
			// A query runs outside any workflow task, where workflow.Now is still the last task's time (a
			// Yousign URL's issue, 15 minutes and more ago when nothing came since). The status query adds no
			// command and no state, so it may read the worker's clock: a URL past its expiry is never shown.
			now := workflow.Now(root)
			if wall := time.Now(); wall.After(now) {
				return wall
			}
			return now
		}
	}
	if v.changes.cancelInterrupts {
		ctx, v.cancelFlow = workflow.WithCancel(ctx)
	}
	return ctx, v, nil
}

// setInitialAttributes sets the method, provider and first step. With changes.leanAttributes, what the start
// already carries (the starter sets them, signals.InitialSearchAttributes) is not upserted again; a start without them
// (the temporal CLI, another client) gets them in one upsert, as before.
func (v *verification) setInitialAttributes(ctx workflow.Context) error {
	have := workflow.GetTypedSearchAttributes(ctx)
	var updates []temporal.SearchAttributeUpdate
	for _, kv := range []struct {
		key   temporal.SearchAttributeKeyKeyword
		value string
	}{{signals.AttrMethod, string(v.input.Method)}, {signals.AttrProvider, string(v.input.Method.Provider())}, {signals.AttrStep, string(v.step)}} {
		if got, ok := have.GetKeyword(kv.key); v.changes.leanAttributes && ok && got == kv.value {
			continue // the start carried it
		}
		updates = append(updates, kv.key.ValueSet(kv.value))
	}
	if len(updates) == 0 {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

// receiver reads one webhook signal channel into the flow's state.
type receiver struct {
	ch     workflow.ReceiveChannel
	handle func(ctx workflow.Context, c workflow.ReceiveChannel)
}

// on makes the receiver of one webhook signal: it decodes each delivery and hands it to record, unless it is a
// redelivery of an event already seen or arrives once the outcome is decided.
func on[T interface{ DeliveryID() string }](v *verification, ch workflow.ReceiveChannel, record func(T)) receiver {
	return receiver{ch, func(ctx workflow.Context, c workflow.ReceiveChannel) {
		var ev T
		c.Receive(ctx, &ev)
		if !v.firstDelivery(ev.DeliveryID()) || v.outcome != nil {
			return
		}
		record(ev)
	}}
}

// listen starts one coroutine that records every webhook, and the backend's cancel signal, as they arrive,
// whatever the main flow is doing. One coroutine for all of them keeps a parked verification small in the
// worker's cache.
func (v *verification) listen(ctx workflow.Context, receivers ...receiver) {
	receivers = append(receivers, receiver{workflow.GetSignalChannel(ctx, signals.SignalCancel), v.receiveCancel})
	v.receivers = receivers
	sel := workflow.NewSelector(ctx)
	for _, r := range receivers {
		sel.AddReceive(r.ch, func(c workflow.ReceiveChannel, _ bool) { r.handle(ctx, c) })
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel.Select(ctx)
		}
	})
}

// complete finishes the workflow with an outcome. Signals that arrived in the same workflow task are taken off
// their channels first, so none is reported as unhandled; they change nothing once the outcome is decided.
func (v *verification) complete(ctx workflow.Context, o signals.Outcome) signals.Outcome {
	if v.operatorOutcome != nil && o.DecidedBy == nil {
		// The operator's action was accepted while the flow was finishing another way (a provider read in
		// flight): an accepted decision is never dropped.
		o = *v.operatorOutcome
	}
	late := 0
	for _, r := range v.receivers {
		for r.ch.ReceiveAsync(nil) {
			late++
		}
	}
	if late > 0 {
		v.logger.Info("Webhooks arrived after the outcome was decided; they change nothing", "count", late)
	}
	return v.finish(ctx, o)
}

func (v *verification) receiveCancel(ctx workflow.Context, c workflow.ReceiveChannel) {
	var req signals.CancelRequest
	c.Receive(ctx, &req)
	v.onCancel(req)
}

func (v *verification) onCancel(req signals.CancelRequest) {
	if v.outcome != nil || v.cancelRequested {
		return
	}
	v.cancelRequested = true
	v.cancelReason = req.Reason
	v.logger.Info("Cancellation requested by the backend")
	if v.cancelFlow != nil {
		// A provider call in flight (up to 30 minutes of retries) must not hold the cancellation back.
		v.cancelFlow()
	}
}

// callFailed is the outcome of a provider call that failed for good: cancelled when a cancel, the backend's or
// Temporal's, cut it short, otherwise the failure (failureOutcome).
func (v *verification) callFailed(err error, what string) signals.Outcome {
	if v.interrupted(err) {
		return v.stopOutcome()
	}
	return failureOutcome(err, what)
}

// interrupted reports whether a provider call's error is a cancellation of the verification, and records it.
func (v *verification) interrupted(err error) bool {
	if !v.changes.cancelInterrupts || !temporal.IsCanceledError(err) {
		return false
	}
	if v.operatorOutcome == nil {
		v.cancelRequested = true
	}
	return true
}

// countWebhook counts a webhook event of a kind, in the status query's counts and the metrics.
func (v *verification) countWebhook(kind string) {
	switch kind {
	case WebhookKindReceived:
		v.webhooks.Received++
	case WebhookKindDuplicate:
		v.webhooks.Duplicates++
	case WebhookKindStale:
		v.webhooks.Stale++
	case WebhookKindLate:
		v.webhooks.Late++
	case WebhookKindUnconfirmed:
		v.webhooks.Unconfirmed++
	}
	v.metrics.webhook(kind)
}

// firstDelivery reports whether an event is new, remembering it. Providers deliver webhooks at least once and the
// relay may signal the same event twice; the event ID is the only key that survives both.
func (v *verification) firstDelivery(eventID string) bool {
	v.countWebhook(WebhookKindReceived)
	if eventID == "" {
		// Without an ID nothing can be deduplicated; the handlers are idempotent on state anyway.
		return true
	}
	if _, seen := v.seenEvents[eventID]; seen {
		v.countWebhook(WebhookKindDuplicate)
		v.logger.Info("Ignoring duplicate webhook", "eventId", eventID)
		return false
	}
	v.seenEvents[eventID] = struct{}{}
	return true
}

func (v *verification) validateURLRequest(req signals.URLRequest) error {
	if req.Method != "" && req.Method != v.input.Method {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("a %s verification is already running for this subject; cancel it or wait for it before starting %s",
				v.input.Method, req.Method), ErrTypeMethodMismatch, nil)
	}
	return nil
}

// identificationURL answers the update of Update-with-Start: it blocks until the provider issued the URL or the
// attempt failed, so the caller gets the URL in the same round trip that started the workflow.
func (v *verification) identificationURL(ctx workflow.Context, _ signals.URLRequest) (signals.Identification, error) {
	if v.renew != nil && v.outcome == nil && v.initFailure == nil && v.step != signals.StepInitiating &&
		(v.url == "" || !workflow.Now(ctx).Before(v.urlExpiresAt)) {
		// A spent URL is never handed out: the flow opens a session whose URL works now.
		if err := v.renew(); err != nil {
			return signals.Identification{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNoURL, nil)
		}
		v.url = ""
	}
	err := workflow.Await(ctx, func() bool { return v.url != "" || v.initFailure != nil || v.outcome != nil })
	if err != nil {
		return signals.Identification{}, err
	}
	if v.url == "" {
		o := v.initFailure
		if o == nil {
			o = v.outcome
		}
		return signals.Identification{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("identification could not be started: %s", o.Detail), o.Cause, nil)
	}
	return signals.Identification{
		URL:        v.url,
		ExpiresAt:  v.urlExpiresAt,
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		SDKToken:   v.sdkToken,
	}, nil
}

func (v *verification) status() (signals.Status, error) {
	s := signals.Status{
		Method:      v.input.Method,
		Step:        v.step,
		Reasons:     v.reasons,
		UserMessage: userMessage(v.reasons),
		Outcome:     v.outcome,
		Webhooks:    v.webhooks,

		ProviderStatus: v.providerStatus,
	}
	if v.step == signals.StepAwaitingUser && v.url != "" && (v.now == nil || v.now().Before(v.urlExpiresAt)) {
		s.IdentificationURL = v.url
		s.URLExpiresAt = timePtr(v.urlExpiresAt)
	}
	if !v.stepDeadline.IsZero() && v.outcome == nil {
		s.Deadline = timePtr(v.stepDeadline)
	}
	if v.step == signals.StepOverdue && v.overdue != nil {
		o := *v.overdue
		s.Overdue = &o
	}
	return s, nil
}

// enterStep records the step and when its wait ends, for the status query and the KycStep search attribute.
func (v *verification) enterStep(ctx workflow.Context, step signals.Step, deadline time.Time, with ...temporal.SearchAttributeUpdate) {
	v.metrics.stepChanged(v.step, step)
	v.step = step
	v.stepDeadline = deadline
	updates := append(append(v.pendingAttrs, signals.AttrStep.ValueSet(string(step))), with...)
	v.pendingAttrs = nil
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		v.logger.Warn("Could not update KycStep search attribute", "error", err)
	}
	details := fmt.Sprintf("step: %s", step)
	if !deadline.IsZero() {
		details += fmt.Sprintf(", until %s", deadline.UTC().Format(time.RFC3339))
	}
	workflow.SetCurrentDetails(ctx, details)
}

// initFailed records that the provider session could not be opened; the URL update reports it to the caller.
func (v *verification) initFailed(o signals.Outcome) *signals.Outcome {
	v.initFailure = &o
	return &o
}

// publishURL hands a new identification URL to the URL update and the status query, valid from now on.
func (v *verification) publishURL(ctx workflow.Context, url string) {
	v.url = url
	v.urlExpiresAt = workflow.Now(ctx).Add(time.Duration(v.deadlines.URLValidity))
	v.metrics.urlIssued(ctx)
	v.enterStep(ctx, signals.StepAwaitingUser, v.urlExpiresAt)
}

func (v *verification) setProviderReference(ctx workflow.Context, ref string) {
	v.providerRef = ref
	if ref == "" {
		return
	}
	if v.changes.leanAttributes {
		v.pendingAttrs = append(v.pendingAttrs, signals.AttrProviderReference.ValueSet(ref))
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, signals.AttrProviderReference.ValueSet(ref)); err != nil {
		v.logger.Warn("Could not set KycProviderReference search attribute", "error", err)
	}
}

// waitUntil blocks until cond holds, the backend cancels, or the deadline passes; it reports whether cond held.
// Call it from the flow's own coroutine, never from a selector callback, signal handler or Await condition: the
// yield before a timer (changes.webhooksBeforeTimers) relies on the dispatcher running another pass, which it does
// only for a coroutine that was running.
//
// The timer runs on its own cancellable context and is cancelled on return: AwaitWithTimeout alone leaves a
// satisfied wait's timer pending (up to 14 days) in the history and the UI.
func (v *verification) waitUntil(ctx workflow.Context, deadline time.Time, summary string, cond func() bool) (bool, error) {
	if cond() {
		return true, nil
	}
	if v.stopping() {
		return false, nil
	}
	remaining := deadline.Sub(workflow.Now(ctx))
	if remaining <= 0 {
		return false, nil
	}
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	var err error
	if v.changes.takePendingAtBounds {
		err = v.awaitWebhooksFirst(ctx, timerCtx, remaining, summary, cond)
	} else {
		_, err = workflow.AwaitWithOptions(timerCtx, workflow.AwaitOptions{
			Timeout:      remaining,
			TimerOptions: workflow.TimerOptions{Summary: summary},
		}, func() bool { return v.stopping() || cond() })
	}
	if err != nil {
		var canceled *temporal.CanceledError
		if errors.As(err, &canceled) {
			// Temporal-level cancellation (client.CancelWorkflow) is a backend cancel too.
			v.cancelRequested = true
			return false, nil
		}
		return false, err
	}
	return cond(), nil
}

// awaitWebhooksFirst waits for cond, a cancel or the timer, and lets the webhook listener take every webhook that
// reached the run before the wait reads its timer.
//
// After a worker outage, a webhook recorded in the history before a bound's timer fired reaches the workflow in
// the same task as the timer. A wait that watches the timer itself sees it first, before the listener has run, and
// concludes "timed out" on a webhook that came in time (a verification that was on time ended expired or
// review_timeout). Timing must follow when the provider acted, not when the worker ran. Here the timer is watched
// by a coroutine started after the listener: in a workflow task, coroutines run in the order they were started
// and this wait reads the timer only on the pass after both have run, by when the listener has recorded what came
// with the timer.
func (v *verification) awaitWebhooksFirst(ctx, timerCtx workflow.Context, remaining time.Duration, summary string, cond func() bool) error {
	if v.changes.webhooksBeforeTimers {
		// A webhook delivered with this task (one that answered a call still in flight, say) may satisfy cond,
		// but the listener has yet to take it: the SDK hands it to the listener's blocked selector, where nothing
		// outside can see it. So this wait yields once, without a command: coroutines run in turn until all are
		// blocked, so the listener takes what came before this wait reads cond again, and no timer is started
		// only to be cancelled in the same task.
		yielded := false
		once := func() bool { done := yielded; yielded = true; return done } // false, then true
		if err := workflow.Await(ctx, once); err != nil {
			return err
		}
		if v.stopping() || cond() {
			return nil
		}
	}
	timer := workflow.NewTimerWithOptions(timerCtx, remaining, workflow.TimerOptions{Summary: summary})
	timedOut := false
	workflow.Go(timerCtx, func(ctx workflow.Context) {
		if timer.Get(ctx, nil) == nil {
			timedOut = true
		}
	})
	return workflow.Await(ctx, func() bool { return v.stopping() || cond() || timedOut })
}

// userBound is when the wait for the user's session ends: the URL's expiry, plus a grace for the webhook of a
// session begun just before it, which is still on its way (a user-side bound concludes, but a moment late rather
// than early). The URL itself is never handed out past its expiry.
func (v *verification) userBound() time.Time {
	if !v.changes.urlGrace {
		return v.urlExpiresAt
	}
	return v.urlExpiresAt.Add(time.Duration(v.deadlines.Grace))
}

// lateUserAction reports whether a webhook that marks the user's own action in the session was emitted by the
// provider after the user-side bound, counting it: such an event cannot make the user on time, whenever the worker
// happens to see it.
//
// After a worker outage the bound's timer and a webhook that followed it reach the workflow in one task, and the
// listener takes the webhook before the wait reads its timer (see awaitWebhooksFirst): by the order the worker
// ran, the user made it. The provider's emission time says what happened. The bound already holds the grace
// (userBound), which absorbs the two clocks' difference; an event without an emission time is judged by the order
// it reached the run, as before.
func (v *verification) lateUserAction(emittedAt time.Time) bool {
	if !v.changes.userActsByEmission || emittedAt.IsZero() || v.step != signals.StepAwaitingUser ||
		!emittedAt.After(v.userBound()) {
		return false
	}
	v.countWebhook(WebhookKindLate)
	v.logger.Info("Ignoring a webhook the provider emitted after the user's deadline", "emittedAt", emittedAt,
		"deadline", v.userBound())
	return true
}

// awaitProvider waits until bound for a decision the provider owes (cond): its processing, IDnow's second-line
// review, Treezor's KYC review. A bound on the provider's side escalates; it does not conclude. Treezor says its
// review takes "about 24h, but may take up to 48h or more (working days only)", IDnow's second-line review "can
// take up to 24 hours" after a status the workflow may see late, and a fraud suspicion has no documented bound: a
// decision a day late is still the decision. Past the bound the verification is overdue (step overdue, status
// query Overdue): it keeps listening, reads the provider where it offers a read (reconcile, nil where it does not)
// at once and then after review/24, doubling up to review/2 (1 h to 12 h with the default 24-hour bound), and
// takes a decision that arrives exactly as if on time. Only the hard limit, OverdueLimit past the bound, after one
// last read, reports false. Runs recorded before the change conclude at the bound, as they did.
func (v *verification) awaitProvider(ctx workflow.Context, bound time.Time, what string, cond func() bool, reconcile func(workflow.Context)) (bool, error) {
	ok, err := v.waitUntil(ctx, bound, what, cond)
	if ok || err != nil || v.stopping() || !v.changes.boundsEscalate {
		return ok, err
	}
	review := time.Duration(v.deadlines.Review)
	pause, maxPause := review/24, review/2
	before := v.step
	v.overdue = &signals.Overdue{Since: bound, WaitingFor: what, Limit: bound.Add(time.Duration(v.deadlines.OverdueLimit))}
	if e := v.extension; e != nil && e.bound.Equal(bound) {
		v.overdue.Limit = e.limit
	}
	v.overdueCanRead = reconcile != nil
	if reconcile != nil {
		v.overdue.NextCheck = timePtr(workflow.Now(ctx)) // the first read is made at once
	}
	defer func() { v.overdue, v.overdueCanRead = nil, false }()
	v.enterStep(ctx, signals.StepOverdue, v.overdue.Limit)
	v.logger.Warn("Verification overdue: the provider has not decided within the review bound", "waitingFor", what)
	for {
		if reconcile != nil {
			v.recheckRequested = false
			reconcile(ctx)
			v.metrics.reconciliationRead(cond())
			if v.stopping() {
				return false, nil
			}
			if cond() {
				v.enterStep(ctx, before, time.Time{})
				return true, nil
			}
		}
		// An operator may move the limit (extend) or ask for a read now (recheck): either ends this wait early.
		limit := v.overdue.Limit
		now := workflow.Now(ctx)
		if !now.Before(limit) {
			return false, nil
		}
		next := limit
		if reconcile != nil {
			next = now.Add(pause)
			if next.After(limit) {
				next = limit
			}
			v.overdue.NextCheck = timePtr(next)
			pause = min(2*pause, maxPause)
		}
		woken := func() bool { return cond() || v.recheckRequested || !v.overdue.Limit.Equal(limit) }
		ok, err := v.waitUntil(ctx, next, "overdue: "+what, woken)
		if err != nil || v.stopping() {
			return false, err
		}
		if ok && cond() {
			// Decided: the flow goes on from the step it was overdue in (it may read the provider first), and an
			// operator action aimed at "overdue" no longer applies.
			v.enterStep(ctx, before, time.Time{})
			return true, nil
		}
	}
}

// overdueExtension is an operator's new overdue limit for the wait bounded by bound.
type overdueExtension struct{ bound, limit time.Time }

// overdueText says how long a provider-side wait lasted before it ended review_timeout, for the outcome's detail.
func (v *verification) overdueText() string {
	review := time.Duration(v.deadlines.Review)
	if !v.changes.boundsEscalate {
		return review.String()
	}
	return fmt.Sprintf("%s and %s overdue", review, time.Duration(v.deadlines.OverdueLimit))
}

// finish records the outcome, publishes it, and waits for in-flight handlers so no update is left unanswered.
func (v *verification) finish(ctx workflow.Context, o signals.Outcome) signals.Outcome {
	// After a Temporal cancellation ctx is done; the bookkeeping below must still run.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	o.Method = v.input.Method
	if o.ProviderReference == "" {
		o.ProviderReference = v.providerRef
	}
	if o.UserMessage == "" {
		o.UserMessage = outcomeUserMessage(o)
	}
	o.CompletedAt = workflow.Now(ctx)
	o.OperatorActions = v.operatorActions
	if v.sessionOpenUntil != nil {
		if until, open := v.sessionOpenUntil(o.CompletedAt); open {
			o.SessionOpenUntil = timePtr(until)
		}
	}
	v.outcome = &o
	if v.changes.leanAttributes {
		v.enterStep(ctx, signals.StepCompleted, time.Time{}, signals.AttrOutcome.ValueSet(string(o.Status)))
	} else {
		v.enterStep(ctx, signals.StepCompleted, time.Time{})
		if err := workflow.UpsertTypedSearchAttributes(ctx, signals.AttrOutcome.ValueSet(string(o.Status))); err != nil {
			v.logger.Warn("Could not set KycOutcome search attribute", "error", err)
		}
	}
	v.metrics.finished(ctx, o.Status)
	if o.Status == signals.OutcomeFailed && o.Cause != signals.CauseUserDataIncomplete {
		// A technical failure (a provider outage past its retries, a rejected request): worth an operator's look.
		v.logger.Warn("Verification finished", "outcome", string(o.Status), "cause", o.Cause)
	} else {
		v.logger.Info("Verification finished", "outcome", string(o.Status), "cause", o.Cause)
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		v.logger.Warn("Waiting for handlers to finish", "error", err)
	}
	return o
}

// stopped turns a wait's error or a backend cancellation into the outcome that ends the workflow.
func (v *verification) stopped(err error) *signals.Outcome {
	if err != nil {
		o := signals.Outcome{Status: signals.OutcomeFailed, Cause: signals.CauseProviderUnavailable, Detail: err.Error()}
		return &o
	}
	if v.stopping() {
		o := v.stopOutcome()
		return &o
	}
	return nil
}

// confirmTries and confirmPause bound how long a webhook's decision waits for the provider's API to show it.
const (
	confirmTries = 3
	confirmPause = time.Minute
)

// confirm reads the provider before a decision a webhook brought is applied: webhooks trigger, the provider decides.
// A signature proves who sent a body, not that it is this session's latest word (a replayed or relabelled signed
// payload, an event of an older session). read reports whether the provider's API shows a decision; it is tried
// confirmTries times confirmPause apart, since an API may lag its webhook. decided false with answered true: the
// API answered but showed no decision, so the webhook is set aside, counted in webhooks.unconfirmed, and the
// caller goes on waiting. answered false: no read got an answer (the provider is down), which says nothing about
// the webhook; or the verification is stopping (cancel, operator), which the caller checks with stoppedDuringRead.
func (v *verification) confirm(ctx workflow.Context, decision string, read func(workflow.Context) (bool, error)) (decided, answered bool) {
	for try := 1; try <= confirmTries; try++ {
		ok, err := read(ctx)
		switch {
		case v.interrupted(err) || v.stopping():
			return false, false
		case err != nil:
			v.logger.Warn("Reading the provider to confirm a webhook's decision failed", "decision", decision, "error", err)
		case ok:
			return true, true
		default:
			answered = true
		}
		if try < confirmTries {
			if err := workflow.Sleep(ctx, confirmPause); err != nil {
				return false, false
			}
		}
	}
	if answered {
		v.logger.Warn("A webhook's decision is not shown by the provider's API; set aside, the verification goes on waiting", "decision", decision)
		v.countWebhook(WebhookKindUnconfirmed)
	}
	return false, answered
}

// stoppedDuringRead is stopped for a flow that just made a reconciliation read: a cancel or an operator's decision
// that came during the read ends the verification. Runs recorded before the change went on, as they did.
func (v *verification) stoppedDuringRead() *signals.Outcome {
	if !v.changes.cancelInterrupts {
		return nil
	}
	return v.stopped(nil)
}

// stopping reports whether the verification must stop waiting: the backend cancelled it or an operator decided.
func (v *verification) stopping() bool { return v.cancelRequested || v.operatorOutcome != nil }

// stopOutcome is the outcome of a verification that stops before the provider decided: an operator's decision,
// else cancelled.
func (v *verification) stopOutcome() signals.Outcome {
	if v.operatorOutcome != nil {
		return *v.operatorOutcome
	}
	return v.cancelledOutcome()
}

func (v *verification) cancelledOutcome() signals.Outcome {
	detail := "cancelled by the backend: " + v.cancelReason
	if v.cancelReason == "" && v.changes.cancelInterrupts {
		detail = "cancelled (a cancel signal without a reason, or a Temporal cancellation)"
	}
	return signals.Outcome{Status: signals.OutcomeCancelled, Detail: detail}
}

func timePtr(t time.Time) *time.Time { return &t }
