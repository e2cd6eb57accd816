package workflows

import (
	"cmp"
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
	// attempt counts the verifications opened; verification.providerRef is the current one's ID, opened the
	// IDs of all of them, and openedAt when the current one was created.
	attempt     int
	maxAttempts int
	opened      []string
	openedAt    time.Time
	// results holds the first done event of each verification this run opened, by verification ID. An
	// inconclusive result for an earlier attempt never decides the current one; a verified or failed one does
	// (runs with changes.yousignAttempts): it is Yousign's decision on this person.
	results map[string]signals.YousignVerificationEvent
	// renewWanted: the backend asked for a URL (a joining start, renew) while the current one is spent: a new
	// verification opens at once.
	renewWanted bool
	// creating: a CreateVerification is in flight.
	creating bool
}

// yousignNext is what an inconclusive result's codes call for (seed 004's inconclusive table).
type yousignNext int

const (
	// retryNow: the user can succeed at once with a new verification (camera access, connection, browser, a
	// failed document or face challenge).
	retryNow yousignNext = iota
	// waitForUser: the user left or put it off (never started, "later", no document at hand, left before the
	// capture and the URL expired): a new verification opens when the backend asks for a URL again, not before,
	// so that no 15-minute URL is burnt while nobody is there.
	waitForUser
	// userRefused: "The individual explicitly refused to do the verification process" (IDVV_3001).
	userRefused
	// verificationExpired: "Verification expired (after 7 days) before the user completed the flow" (IDVV_1199).
	verificationExpired
)

func nextAfterInconclusive(codes []string) yousignNext {
	next := retryNow
	for _, c := range codes {
		switch c {
		case "IDVV_3001":
			return userRefused
		case yousignExpiredCode:
			return verificationExpired
		case "IDVV_1113", "IDVV_1201", "IDVV_1202", "IDVV_1203", "IDVV_1314", "IDVV_1413":
		default:
			// IDVV_1101, 1111, 1112, 1121, and any code not in the seed: wait for the user rather than guess.
			next = waitForUser
		}
	}
	if len(codes) == 0 {
		return waitForUser
	}
	return next
}

func (f *yousignFlow) record(ev signals.YousignVerificationEvent) {
	if !slices.Contains(f.opened, ev.VerificationID) && !f.creating {
		// Not a verification this run opened: an earlier run's (the workflow ID is the subject's and reused). It
		// is kept, never decides (decided and finalOfAny look only at this run's), and is counted stale. While a
		// creation is in flight it may be the one being created (after an outage its result can reach the run
		// first), so it is not counted.
		f.countWebhook(WebhookKindStale)
	}
	if _, seen := f.results[ev.VerificationID]; !seen && isYousignFinal(ev.Status) {
		f.results[ev.VerificationID] = ev
	}
}

// explainYousign maps a result's IDVV status codes through the catalogue.
func explainYousign(codes []string) []signals.Reason {
	rs := make([]signals.Reason, 0, len(codes))
	for _, code := range codes {
		rs = append(rs, reasons.Yousign.Explain(code, ""))
	}
	return rs
}

func isYousignFinal(status string) bool {
	return status == signals.YousignStatusVerified || status == signals.YousignStatusFailed || status == signals.YousignStatusInconclusive
}

func (f *yousignFlow) run(ctx workflow.Context) signals.Outcome {
	maxAttempts := f.input.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = defaultYousignAttempts
	}
	f.maxAttempts = maxAttempts
	if f.changes.yousignAttempts {
		f.renew = f.wantRenewal
		return f.runAttempts(ctx)
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
		rs := explainYousign(result.StatusCodes)
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
	f.creating = true
	err := workflow.ExecuteActivity(actx, ys.CreateVerification, activities.YousignCreateRequest{
		FirstName:   f.input.Yousign.FirstName,
		LastName:    f.input.Yousign.LastName,
		RedirectURL: f.input.RedirectURL,
	}).Get(actx, &created)
	f.creating = false
	if err != nil {
		o := f.callFailed(err, "create verification")
		if f.attempt == 1 {
			return f.initFailed(o)
		}
		return &o
	}
	f.setProviderReference(ctx, created.ID)
	f.opened = append(f.opened, created.ID)
	f.openedAt = workflow.Now(ctx)
	f.renewWanted = false
	f.publishURL(ctx, created.URL)
	return nil
}

// runAttempts runs verifications until one decides, following seed 004:
//   - each verification expires 7 days after it was created ("Verification expired (after 7 days)"), not 7 days
//     after the workflow started;
//   - after inconclusive, the codes say whether to open a new verification now or wait for the user to ask for
//     a URL again (nextAfterInconclusive); an explicit refusal (IDVV_3001) ends the verification;
//   - a spent URL (15 minutes) is never handed out: a URL asked for after it opens a new verification at once
//     (wantRenewal);
//   - no status code is ever invented: a verification that ends without a result from Yousign, even read back,
//     ends expired without reasons.
func (f *yousignFlow) runAttempts(ctx workflow.Context) signals.Outcome {
	var (
		expiresAt time.Time
		// carried is an earlier verification's decision that came while the flow waited for the user.
		carried *signals.YousignVerificationEvent
	)
	for {
		var result signals.YousignVerificationEvent
		if carried != nil {
			result, carried = *carried, nil
		} else {
			f.attempt++
			if o := f.open(ctx); o != nil {
				return *o
			}
			expiresAt = f.openedAt.Add(time.Duration(f.deadlines.Verification))
			var o *signals.Outcome
			if result, o = f.await(ctx, expiresAt); o != nil {
				return *o
			}
		}
		if result.Status == "" {
			if f.renewWanted && f.attempt < f.maxAttempts {
				f.logger.Info("URL asked for after it expired; opening a new verification", "attempt", f.attempt+1)
				continue
			}
			return signals.Outcome{Status: signals.OutcomeExpired, UserMayRetry: true,
				Detail: "no result from Yousign, by webhook or read back, within the verification's 7 days"}
		}
		if f.changes.confirmResults && result.Status != signals.YousignStatusInconclusive {
			confirmed, ok, readErr := f.confirmResult(ctx, result)
			if o := f.stoppedDuringRead(); o != nil {
				return *o
			}
			if readErr != nil {
				// Yousign never answered: as before confirmation, the result could not be fetched.
				return f.callFailed(readErr, "fetch the verification result")
			}
			if !ok {
				// Set aside: wait on for this verification's result, as if the webhook had not come.
				f.enterStep(ctx, signals.StepProviderProcessing, expiresAt)
				var o *signals.Outcome
				if result, o = f.await(ctx, expiresAt); o != nil {
					return *o
				}
				carried = &result // taken by the next turn without opening a verification
				continue
			}
			result = confirmed
		}
		rs := explainYousign(result.StatusCodes)
		f.reasons = rs
		switch {
		case result.Status == signals.YousignStatusVerified && f.changes.confirmResults:
			return signals.Outcome{Status: signals.OutcomeApproved, Detail: "Yousign verification verified, confirmed by reading it"}
		case result.Status == signals.YousignStatusVerified:
			return f.fetchResultOf(ctx, result.VerificationID)
		case result.Status == signals.YousignStatusFailed:
			return signals.Outcome{Status: signals.OutcomeRefused, Reasons: rs, UserMayRetry: anyRetryable(rs),
				Detail: "Yousign verification failed"}
		}
		next := nextAfterInconclusive(result.StatusCodes)
		switch {
		case next == verificationExpired:
			return signals.Outcome{Status: signals.OutcomeExpired, Reasons: rs, UserMayRetry: true,
				Detail: "the verification expired (after 7 days) before the user completed it"}
		case next == userRefused:
			return signals.Outcome{Status: signals.OutcomeAborted, Reasons: rs, UserMayRetry: true,
				Detail: "the user refused the verification"}
		case f.attempt >= f.maxAttempts:
			return signals.Outcome{Status: signals.OutcomeAborted, Reasons: rs, UserMayRetry: true,
				Detail: fmt.Sprintf("inconclusive after %d attempt(s)", f.attempt)}
		case next == retryNow:
			f.logger.Info("Inconclusive verification the user can retry at once; opening a new one", "attempt", f.attempt+1)
			continue
		}
		// The user left or put it off: no URL is burnt until they ask for one, within the spent verification's
		// 7 days.
		f.url = ""
		f.enterStep(ctx, signals.StepAwaitingUser, expiresAt)
		asked, err := f.waitUntil(ctx, expiresAt, "the user asks for a new Yousign URL", func() bool {
			_, final := f.finalOfAny()
			return f.renewWanted || final
		})
		if o := f.stopped(err); o != nil {
			return *o
		}
		if ev, final := f.finalOfAny(); final {
			// An earlier verification's verified or failed result, late: Yousign's decision on this person.
			carried = &ev
			continue
		}
		if !asked {
			return signals.Outcome{Status: signals.OutcomeAborted, Reasons: rs, UserMayRetry: true,
				Detail: "inconclusive, and the user did not ask for a new URL within the verification's 7 days"}
		}
		f.logger.Info("The user asked for a new URL; opening a new verification", "attempt", f.attempt+1)
	}
}

// wantRenewal is the identification_url update's request for a URL usable now, when the current one is spent or
// none is out: the flow opens a new verification at once. It fails when no attempt is left.
func (f *yousignFlow) wantRenewal() error {
	if f.attempt >= f.maxAttempts {
		return fmt.Errorf("the Yousign verification URL has expired and all %d attempts are used", f.maxAttempts)
	}
	f.renewWanted = true
	return nil
}

// await waits for the current verification's result. A result that never arrives is read from Yousign: once the
// URL and the review bound have passed, and at the verification's 7-day expiry.
func (f *yousignFlow) await(ctx workflow.Context, expiresAt time.Time) (signals.YousignVerificationEvent, *signals.Outcome) {
	has := func() bool { _, ok := f.decided(); return ok }
	if f.changes.yousignAttempts {
		// A URL asked for once the current one is spent ends the wait: a new verification opens.
		has = func() bool { _, ok := f.decided(); return ok || f.renewWanted }
	}
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
			ev, _ := f.decided()
			return ev, nil
		}
		if ev, ok := f.reconcile(ctx); ok {
			return ev, nil
		}
		if o := f.stoppedDuringRead(); o != nil {
			return signals.YousignVerificationEvent{}, o
		}
	}
	if f.changes.yousignAttempts {
		// Nothing from Yousign: say so, rather than invent its code (runAttempts).
		return signals.YousignVerificationEvent{}, nil
	}
	return signals.YousignVerificationEvent{Status: signals.YousignStatusInconclusive, StatusCodes: []string{yousignExpiredCode}}, nil
}

// decided is the result that decides the run: the current verification's, or (changes.yousignAttempts) an earlier
// verification's verified or failed one.
func (f *yousignFlow) decided() (signals.YousignVerificationEvent, bool) {
	if f.changes.yousignAttempts {
		// A verified or failed result wins over the current verification's inconclusive one, whatever order they
		// were taken in (after an outage, both come in one workflow task).
		if ev, ok := f.finalOfAny(); ok {
			return ev, true
		}
	}
	ev, ok := f.results[f.providerRef]
	return ev, ok
}

// finalOfAny is the first verified or failed result among the verifications this run opened, in their order.
func (f *yousignFlow) finalOfAny() (signals.YousignVerificationEvent, bool) {
	for _, id := range f.opened {
		if ev, ok := f.results[id]; ok && ev.Status != signals.YousignStatusInconclusive {
			return ev, true
		}
	}
	return signals.YousignVerificationEvent{}, false
}

// reconcile reads the verification; it reports a result only when Yousign has one.
func (f *yousignFlow) reconcile(ctx workflow.Context) (signals.YousignVerificationEvent, bool) {
	var got activities.YousignVerification
	if err := f.readProvider(ctx, false, reconcileOptions, "reconcile: read the verification", ys.GetVerification, f.providerRef, &got); err != nil {
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

// confirmResult reads a verification before its verified or failed result is applied (Yousign: "Get the result
// with GET /verifications/identity_videos/{id}", ../shared/reference/providers-research.md). The read's final
// result is Yousign's word and wins over the webhook's; a read that shows none sets the webhook aside: its result
// is forgotten and the verification waits on.
func (f *yousignFlow) confirmResult(ctx workflow.Context, claimed signals.YousignVerificationEvent) (signals.YousignVerificationEvent, bool, error) {
	id := cmp.Or(claimed.VerificationID, f.providerRef)
	if claimed.Status == signals.YousignStatusVerified {
		f.enterStep(ctx, signals.StepKYCReview, time.Time{})
	}
	var (
		read    activities.YousignVerification
		lastErr error
	)
	confirmed, answered := f.confirm(ctx, "Yousign verification "+claimed.Status, func(ctx workflow.Context) (bool, error) {
		if err := f.readProvider(ctx, false, providerCallOptions, "confirm the result: read the verification", ys.GetVerification, id, &read); err != nil {
			lastErr = err
			return false, err
		}
		return isYousignFinal(read.Status), nil
	})
	if !confirmed {
		delete(f.results, id)
		if !answered && !f.stopping() {
			return signals.YousignVerificationEvent{}, false, lastErr
		}
		return signals.YousignVerificationEvent{}, false, nil
	}
	if read.Status != claimed.Status {
		f.logger.Warn("The verification's webhook and Yousign's API disagree; the API decides", "webhook", claimed.Status, "read", read.Status)
	}
	result := signals.YousignVerificationEvent{VerificationID: id, Status: read.Status, StatusCodes: read.StatusCodes}
	// The API's result replaces the webhook's, so that a verified or failed claim the API turned into inconclusive
	// no longer counts as this person's decision (finalOfAny).
	f.results[id] = result
	return result, true, nil
}

// fetchResult is the review step: the verified status is confirmed by reading the verification itself.
func (f *yousignFlow) fetchResult(ctx workflow.Context) signals.Outcome {
	return f.fetchResultOf(ctx, f.providerRef)
}

// fetchResultOf confirms verification id's verified status by reading it.
func (f *yousignFlow) fetchResultOf(ctx workflow.Context, id string) signals.Outcome {
	if id == "" {
		id = f.providerRef
	}
	f.enterStep(ctx, signals.StepKYCReview, time.Time{})
	var got activities.YousignVerification
	if err := f.readProvider(ctx, false, providerCallOptions, "fetch the verification result", ys.GetVerification, id, &got); err != nil {
		return f.callFailed(err, "fetch the verification result")
	}
	if got.Status != signals.YousignStatusVerified {
		return signals.Outcome{Status: signals.OutcomeFailed, Cause: signals.CauseVerificationFailed,
			Detail: fmt.Sprintf("the webhook said verified but Yousign reports %q", got.Status)}
	}
	return signals.Outcome{Status: signals.OutcomeApproved, Detail: "Yousign verification verified"}
}
