package workflows_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// TestEventsOfAnotherSessionChangeNothing: Treezor's workflow ID is per user and reused, so a late or redelivered
// event of the user's previous verification reaches the current run. It is counted stale and changes nothing:
// another identification ID than the one this run's initiation returned, or a webhook Treezor emitted before this
// run asked for what it answers.
func TestEventsOfAnotherSessionChangeNothing(t *testing.T) {
	var start time.Time // set before each run; the events' emission times are relative to it
	at := func(d time.Duration) signals.Webhook { return signals.Webhook{EmittedAt: start.Add(d)} }
	with := func(w signals.Webhook, id string) signals.Webhook { w.EventID = id; return w }
	tests := []struct {
		name       string
		method     signals.Method
		events     func() []event
		wantStatus signals.OutcomeStatus
		wantStale  int
		wantDocs   int
		setup      func(r *run) // default: every Treezor call succeeds
	}{
		{
			name: "QES: an old session's CANCELED", method: signals.MethodTreezorQES,
			events: func() []event {
				e := signals.TreezorQESEvents
				old := identEvent("old-f", signals.TreezorResultCanceled, "3101")
				old.IdentificationID = "idn-previous-session"
				cur := identEvent("f", signals.TreezorResultSuccess, "")
				cur.IdentificationID = testRef
				return []event{{time.Hour, e.Finalized, old}, {2 * time.Hour, e.Finalized, cur},
					{3 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)}}
			},
			// The document Treezor creates after qes.finalized (seed 002).
			wantStatus: signals.OutcomeApproved, wantStale: 1, wantDocs: 1,
		},
		{
			name: "live verification: an old session's score 0", method: signals.MethodTreezorLiveness,
			events: func() []event {
				old := signals.TreezorLivenessEvent{Webhook: with(at(time.Minute), "old-u"), UserID: testUser, IdentificationID: "idv-previous",
					KycStatus: signals.LivenessStatusProcessed, Score: new(int)}
				return append([]event{{time.Minute, signals.SignalTreezorKycLivenessUpdate, old}}, happyEvents()...)
			},
			wantStatus: signals.OutcomeApproved, wantStale: 1, wantDocs: 2,
		},
		{
			name: "a review decided before this run asked for one", method: signals.MethodTreezorLiveness,
			events: func() []event {
				// Emitted at the start, delivered (late) once this run's review was requested.
				earlier := signals.TreezorKycReviewEvent{Webhook: with(at(0), "kr-old"), UserID: testUser, KycReview: signals.KycReviewValidated}
				evs := happyEvents()[:4]
				return append(evs, event{5 * time.Hour, signals.SignalTreezorKycReview, earlier},
					event{6 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewRefused)})
			},
			wantStatus: signals.OutcomeRefused, wantStale: 1, wantDocs: 0,
		},
		{
			name: "a document of an earlier session", method: signals.MethodTreezorQES,
			events: func() []event {
				e := signals.TreezorQESEvents
				oldDoc := signals.TreezorDocumentEvent{Webhook: with(at(-48*time.Hour), "d-old"), UserID: testUser, DocumentID: "doc-old", DocumentTypeID: 9}
				return []event{{time.Hour, e.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
					{2 * time.Hour, signals.SignalTreezorDocumentCreate, oldDoc},
					{3 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)}}
			},
			// Only the document Treezor creates after this session's qes.finalized (seed 002) counts.
			wantStatus: signals.OutcomeApproved, wantStale: 1, wantDocs: 1,
		},
		{
			// The first POST timed out after Treezor had opened a session; the retry opened another, whose ID the
			// run follows. The first session's events are another session's.
			name: "QES: a retried initiation's first session", method: signals.MethodTreezorQES,
			setup: func(r *run) {
				r.env.OnActivity(tz.Initiate, mock.Anything, mock.Anything).Return(activities.Identification{}, errors.New("POST .../qes: context deadline exceeded")).Once()
				r.treezorOK()
			},
			events: func() []event {
				e := signals.TreezorQESEvents
				first := identEvent("first-f", signals.TreezorResultCanceled, "3101")
				first.IdentificationID = "idn-first-attempt"
				return []event{{time.Hour, e.Finalized, first}, {2 * time.Hour, e.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
					{3 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)}}
			},
			wantStatus: signals.OutcomeApproved, wantStale: 1, wantDocs: 1,
		},
		{
			name: "Solaris: an earlier identification's successful", method: signals.MethodSolarisIDnow,
			setup: func(r *run) { r.solarisOK(signals.SolarisStatusPending, "") },
			events: func() []event {
				old := solarisEvent("old-s", signals.SolarisStatusSuccessful)
				old.IdentificationID = "earlier-cidt"
				return []event{{time.Hour, signals.SignalSolarisIdentification, old}}
			},
			// Nothing from this identification: its link expires after 14 days.
			wantStatus: signals.OutcomeExpired, wantStale: 1,
		},
		{
			name: "Yousign: an earlier run's verified", method: signals.MethodYousignVideo,
			setup: func(r *run) {
				r.yousignOK(signals.YousignStatusFailed)
				r.input = yousignInput(0)
			},
			events: func() []event {
				return []event{{5 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("old-y", "ver-earlier", signals.YousignStatusVerified)},
					{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("y", "ver-1", signals.YousignStatusFailed)}}
			},
			wantStatus: signals.OutcomeRefused, wantStale: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t)
			r.method = tt.method
			start = r.env.Now()
			if tt.setup == nil {
				r.treezorOK()
			} else {
				tt.setup(r)
			}
			r.deliver(tt.events())
			var final signals.Status
			o := r.execute()
			require.Equal(t, tt.wantStatus, o.Status, "detail: %s", o.Detail)
			require.Len(t, o.Documents, tt.wantDocs)
			v, err := r.env.QueryWorkflow(signals.QueryStatus)
			require.NoError(t, err)
			require.NoError(t, v.Get(&final))
			require.Equal(t, tt.wantStale, final.Webhooks.Stale)
		})
	}
}

// TestUserStepsEmittedAfterTheirBoundAreLate: timing follows when the provider acted. A webhook for the user's own
// step (finishing or leaving the session) that Treezor emitted after the URL's bound (15 minutes plus the 2-minute
// grace for the live verification, 14 days plus the grace for QES) cannot make the user on time, even when the
// worker sees it first: after an outage it reaches the run in one workflow task with the bound's timer, behind it,
// and the listener takes it before the wait reads the timer (the real-server case is
// TestIntegrationWorkerOutageAcrossABound; the test environment cannot put both in one task, so here the webhook is
// delivered before the timer, carrying Treezor's later emission time). A provider decision counts whenever it was
// emitted: Treezor only decides on a session the user did finish.
func TestUserStepsEmittedAfterTheirBoundAreLate(t *testing.T) {
	var start time.Time
	emitted := func(ev signals.Webhook, d time.Duration) signals.Webhook { ev.EmittedAt = start.Add(d); return ev }
	liveness := func(ev any, d time.Duration) any {
		e := ev.(signals.TreezorLivenessEvent)
		e.Webhook = emitted(e.Webhook, d)
		return e
	}
	ident := func(ev signals.TreezorIdentEvent, d time.Duration) any {
		ev.Webhook = emitted(ev.Webhook, d)
		return ev
	}
	tests := []struct {
		name       string
		method     signals.Method
		events     func() []event
		wantStatus signals.OutcomeStatus
		wantLate   int
	}{
		{
			name: "live verification: a create emitted at 18 min", method: signals.MethodTreezorLiveness,
			events: func() []event {
				return []event{{14 * time.Minute, signals.SignalTreezorKycLivenessCreate, liveness(livenessCreate("c"), 18*time.Minute)}}
			},
			wantStatus: signals.OutcomeExpired, wantLate: 1,
		},
		{
			name: "live verification: a create emitted at 16 min, within the grace", method: signals.MethodTreezorLiveness,
			events: func() []event {
				evs := happyEvents()
				evs[0] = event{16 * time.Minute, signals.SignalTreezorKycLivenessCreate, liveness(livenessCreate("c"), 16*time.Minute)}
				evs[1].at = 20 * time.Minute
				return evs
			},
			wantStatus: signals.OutcomeApproved,
		},
		{
			name: "live verification: a create emitted late, then Treezor's score", method: signals.MethodTreezorLiveness,
			events: func() []event {
				evs := happyEvents()
				evs[0] = event{14 * time.Minute, signals.SignalTreezorKycLivenessCreate, liveness(livenessCreate("c"), 18*time.Minute)}
				evs[1] = event{15 * time.Minute, signals.SignalTreezorKycLivenessUpdate, liveness(livenessUpdate("u", 1), 19*time.Minute)}
				return evs
			},
			wantStatus: signals.OutcomeApproved, wantLate: 1,
		},
		{
			name: "QES: a created emitted after the 14 days", method: signals.MethodTreezorQES,
			events: func() []event {
				return []event{{13 * day, signals.TreezorQESEvents.Created,
					ident(identEvent("c", signals.TreezorResultSuccess, ""), 14*day+time.Hour)}}
			},
			wantStatus: signals.OutcomeExpired, wantLate: 1,
		},
		{
			name: "QES: a finalized emitted after the 14 days", method: signals.MethodTreezorQES,
			events: func() []event {
				return []event{
					{13 * day, signals.TreezorQESEvents.Finalized, ident(identEvent("f", signals.TreezorResultSuccess, ""), 14*day+time.Hour)},
					{13*day + time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)}}
			},
			wantStatus: signals.OutcomeApproved,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t)
			r.method = tt.method
			start = r.env.Now()
			r.treezorOK().deliver(tt.events())
			o := r.execute()
			require.Equal(t, tt.wantStatus, o.Status, "detail: %s", o.Detail)
			v, err := r.env.QueryWorkflow(signals.QueryStatus)
			require.NoError(t, err)
			var final signals.Status
			require.NoError(t, v.Get(&final))
			require.Equal(t, tt.wantLate, final.Webhooks.Late)
		})
	}
}

// TestReviewWaitsForEveryDocument: seed 001, "You can make your KYC Review request only once you've received all
// the document creation webhooks"; seed 002, QES documents "are automatically created once the qes.finalized
// webhook is received". The review is requested only when every document Treezor lists for the session has had
// its document.create, whatever their order.
func TestReviewWaitsForEveryDocument(t *testing.T) {
	tests := []struct {
		name       string
		method     signals.Method
		events     func(createdAt func(time.Duration) signals.Webhook) []event
		wantReview time.Duration // when the review is requested, from the start
	}{
		{
			name: "live verification: the synthesis document's webhook first", method: signals.MethodTreezorLiveness,
			// Treezor created both documents at 10 minutes; the first one's webhook is delivered half an hour late.
			events: func(createdAt func(time.Duration) signals.Webhook) []event {
				return []event{
					{2 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
					{10 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
					{11 * time.Minute, signals.SignalTreezorDocumentCreate, documentEmitted("d2", "902", signals.DocumentTypeLivenessResult, createdAt(10*time.Minute))},
					{40 * time.Minute, signals.SignalTreezorDocumentCreate, documentEmitted("d1", "901", 9, createdAt(10*time.Minute))},
					{3 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
				}
			},
			wantReview: 40 * time.Minute,
		},
		{
			name: "QES: the documents come an hour after qes.finalized", method: signals.MethodTreezorQES,
			// Both documents are created at 3 hours; their webhooks come a minute apart.
			events: func(createdAt func(time.Duration) signals.Webhook) []event {
				return []event{
					{time.Hour, signals.TreezorQESEvents.Created, identEvent("c", signals.TreezorResultSuccess, "")},
					{2 * time.Hour, signals.TreezorQESEvents.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
					{3 * time.Hour, signals.SignalTreezorDocumentCreate, documentEmitted("d1", "901", 9, createdAt(3*time.Hour))},
					{3*time.Hour + time.Minute, signals.SignalTreezorDocumentCreate, documentEmitted("d2", "902", 9, createdAt(3*time.Hour))},
					{5 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
				}
			},
			wantReview: 3*time.Hour + time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t)
			r.method = tt.method
			start := r.env.Now()
			var requested time.Duration
			r.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				if info.ActivityType.Name == "RequestKYCReview" && requested == 0 {
					requested = r.env.Now().Sub(start)
				}
			})
			createdAt := func(d time.Duration) signals.Webhook { return signals.Webhook{EmittedAt: start.Add(d)} }
			r.treezorOK().deliver(tt.events(createdAt))
			o := r.execute()
			require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tt.wantReview, requested, "the KYC review is requested once every document is announced")
			require.Len(t, o.Documents, 2)
		})
	}
}

func payin(id, wallet, status, method string) any {
	return signals.TreezorPayinEvent{Webhook: signals.Webhook{EventID: id}, UserID: testUser, PayinID: "p-" + id, WalletID: wallet,
		PayinStatus: status, PaymentMethodID: method}
}

// TestSEPAValidationTransfer: with SEPAValidation, the KYC review waits for a validated SEPA transfer into the
// user's wallet (seed 001: Liveness "Requires [...] a SEPA transfer into their Treezor Wallet as an extra validation
// step"; seed 002: QES in Germany likewise). A transfer made before the step counts; a pending, canceled, card or
// other-wallet payin does not; none within the transfer bound (14 days from the start) ends expired.
func TestSEPAValidationTransfer(t *testing.T) {
	const wallet = "777"
	sct, inst := signals.PaymentMethodSEPACreditTransfer, signals.PaymentMethodSEPAInstantCreditTransfer
	var start time.Time // set before each run; payinEmitted's emission times are relative to it
	payinEmitted := func(id, wallet string, at time.Duration) func() any {
		return func() any {
			p := payin(id, wallet, signals.PayinStatusValidated, sct).(signals.TreezorPayinEvent)
			p.EmittedAt = start.Add(at)
			return p
		}
	}
	tests := []struct {
		name        string
		method      signals.Method
		events      []event
		wantStatus  signals.OutcomeStatus
		wantReview  time.Duration // when the review is requested; 0: never
		wantElapsed time.Duration
		awaitingAt  time.Duration // a time at which the status shows awaiting_transfer; 0: none
		// held are payins Treezor holds whose webhooks never reached the run, by creation time from the start;
		// unreadable makes Treezor's payin listing fail.
		held       map[time.Duration]signals.TreezorPayinEvent
		unreadable bool
	}{
		{
			name: "live verification: the transfer comes after the documents", method: signals.MethodTreezorLiveness,
			events: append(happyEvents()[:4],
				event{time.Hour, signals.SignalTreezorPayinCreate, payin("pc", wallet, signals.PayinStatusPending, sct)},
				event{2 * time.Hour, signals.SignalTreezorPayinUpdate, payin("pu", wallet, signals.PayinStatusValidated, sct)},
				event{3 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)}),
			wantStatus: signals.OutcomeApproved, wantReview: 2 * time.Hour, wantElapsed: 3 * time.Hour, awaitingAt: 90 * time.Minute,
		},
		{
			name: "live verification: an instant transfer made before the session", method: signals.MethodTreezorLiveness,
			events: append([]event{{time.Minute, signals.SignalTreezorPayinUpdate, payin("pu", wallet, signals.PayinStatusValidated, inst)}},
				happyEvents()...),
			wantStatus: signals.OutcomeApproved, wantReview: 11 * time.Minute, wantElapsed: 3 * time.Hour,
		},
		{
			name: "QES: only a canceled transfer, a card top-up and another wallet's transfer", method: signals.MethodTreezorQES,
			events: []event{
				{time.Hour, signals.TreezorQESEvents.Created, identEvent("c", signals.TreezorResultSuccess, "")},
				{2 * time.Hour, signals.TreezorQESEvents.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
				{3 * time.Hour, signals.SignalTreezorPayinUpdate, payin("p1", wallet, signals.PayinStatusCanceled, sct)},
				{4 * time.Hour, signals.SignalTreezorPayinUpdate, payin("p2", wallet, signals.PayinStatusValidated, "25")},
				{5 * time.Hour, signals.SignalTreezorPayinUpdate, payin("p3", "888", signals.PayinStatusValidated, sct)},
			},
			wantStatus: signals.OutcomeExpired, wantElapsed: 14*day + 2*time.Minute, awaitingAt: 6 * time.Hour,
		},
		{
			// Its payin webhooks came before the workflow existed: the relay had no run to signal.
			name: "live verification: a transfer made before the verification started", method: signals.MethodTreezorLiveness,
			events:     happyEvents(),
			held:       map[time.Duration]signals.TreezorPayinEvent{-time.Hour: payin("early", wallet, signals.PayinStatusValidated, sct).(signals.TreezorPayinEvent)},
			wantStatus: signals.OutcomeApproved, wantReview: 11 * time.Minute, wantElapsed: 3 * time.Hour,
		},
		{
			name: "QES: the transfer's webhook is lost; Treezor's listing at the bound shows it", method: signals.MethodTreezorQES,
			events: []event{
				{time.Hour, signals.TreezorQESEvents.Created, identEvent("c", signals.TreezorResultSuccess, "")},
				{2 * time.Hour, signals.TreezorQESEvents.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
				{15 * day, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
			},
			held:       map[time.Duration]signals.TreezorPayinEvent{3 * time.Hour: payin("lost", wallet, signals.PayinStatusValidated, sct).(signals.TreezorPayinEvent)},
			wantStatus: signals.OutcomeApproved, wantReview: 14*day + 2*time.Minute, wantElapsed: 15 * day, awaitingAt: 6 * time.Hour,
		},
		{
			// A validated transfer of a month ago (an earlier verification's, or any payin of a wallet in use) is
			// not this one's: neither listed nor, redelivered, taken from its webhook.
			name: "live verification: only a transfer made before the 24-hour lookback", method: signals.MethodTreezorLiveness,
			events: append(happyEvents(),
				event{time.Hour, signals.SignalTreezorPayinUpdate, payinEmitted("old-redelivered", wallet, -30*day)}),
			held:       map[time.Duration]signals.TreezorPayinEvent{-30 * day: payin("old", wallet, signals.PayinStatusValidated, sct).(signals.TreezorPayinEvent)},
			wantStatus: signals.OutcomeExpired, wantElapsed: 14*day + 2*time.Minute, awaitingAt: 2 * time.Hour,
		},
		{
			name: "live verification: Treezor's listing fails; the webhooks decide", method: signals.MethodTreezorLiveness,
			events: append(happyEvents()[:4],
				event{2 * time.Hour, signals.SignalTreezorPayinUpdate, payin("pu", wallet, signals.PayinStatusValidated, sct)},
				event{3 * time.Hour, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)}),
			unreadable: true,
			wantStatus: signals.OutcomeApproved, wantReview: 2 * time.Hour, wantElapsed: 3 * time.Hour, awaitingAt: 90 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t)
			r.method = tt.method
			r.input = &signals.VerificationInput{Method: tt.method, SubjectID: testUser, SEPAValidation: &signals.SEPAValidation{WalletID: wallet}}
			start = r.env.Now()
			events := slices.Clone(tt.events)
			for i, e := range events {
				if emitted, ok := e.payload.(func() any); ok {
					events[i].payload = emitted()
				}
			}
			var requested time.Duration
			r.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				if info.ActivityType.Name == "RequestKYCReview" && requested == 0 {
					requested = r.env.Now().Sub(start)
				}
			})
			var waiting signals.Status
			if tt.awaitingAt > 0 {
				r.env.RegisterDelayedCallback(func() { waiting = r.queryStatus() }, tt.awaitingAt)
			}
			r.treezorOK().deliver(events)
			for at, p := range tt.held {
				r.transfers = append(r.transfers, heldTransfer{p, start.Add(at)})
			}
			r.transfersUnreadable = tt.unreadable
			o := r.execute()
			require.Equal(t, tt.wantStatus, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tt.wantReview, requested)
			require.Equal(t, tt.wantElapsed, o.CompletedAt.Sub(start))
			if tt.awaitingAt > 0 {
				require.Equal(t, signals.StepAwaitingTransfer, waiting.Step)
			}
		})
	}
	t.Run("only where Treezor asks for it", func(t *testing.T) {
		in := signals.VerificationInput{Method: signals.MethodTreezorVideoConference, SubjectID: testUser,
			SEPAValidation: &signals.SEPAValidation{WalletID: wallet}}
		require.ErrorContains(t, in.Validate(), "sepaValidation")
	})
}

// TestReviewGoesOnWhenADocumentWebhookIsLost: a document.create lost on its way (a relay refusal Treezor does not
// retry) must not hold the review for the whole overdue limit: past the review bound, Treezor's listing shows the
// documents, the synthesis among them, and the review is requested.
func TestReviewGoesOnWhenADocumentWebhookIsLost(t *testing.T) {
	r := newRun(t)
	start := r.env.Now()
	var requested time.Duration
	r.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "RequestKYCReview" && requested == 0 {
			requested = r.env.Now().Sub(start)
		}
	})
	evs := happyEvents()
	evs = append(evs[:2], evs[3:4]...) // the identity card's document.create (901) never arrives
	evs = append(evs, event{2 * day, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)})
	r.treezorOK().deliver(evs)
	r.documents = append(r.documents, heldDocument{signals.Document{ID: "901", TypeID: 9}, start.Add(11 * time.Minute)})
	o := r.execute()
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	require.Equal(t, 10*time.Minute+day, requested, "the review is requested at the documents' bound (PUT at 10 min + 24 h)")
}

// TestAReplayedReviewWebhookDoesNotApprove: Treezor signs only object_payload, so an old signed User payload
// showing kycReview 2 can be re-sent as a user.kycreview under a fresh webhook_id while this run's review is
// pending. Webhooks trigger, the provider decides: the decision is confirmed by reading the user, which still shows
// the review pending, so the webhook is set aside (webhooks.unconfirmed) and Treezor's real decision, refused, is
// the outcome.
func TestAReplayedReviewWebhookDoesNotApprove(t *testing.T) {
	r := newRun(t)
	evs := happyEvents()[:4]
	evs = append(evs, event{5 * time.Hour, signals.SignalTreezorKycReview, review("kr-real", signals.KycReviewRefused)})
	r.treezorOK().deliver(evs)
	// The replay, not through deliver: Treezor's API never showed this decision.
	r.env.RegisterDelayedCallback(func() {
		r.env.SignalWorkflow(signals.SignalTreezorKycReview, review("kr-replayed", signals.KycReviewValidated))
	}, time.Hour)
	var during signals.Status
	r.env.RegisterDelayedCallback(func() { during = r.queryStatus() }, 2*time.Hour)
	o := r.execute()
	require.Equal(t, signals.OutcomeRefused, o.Status, "detail: %s", o.Detail)
	require.Equal(t, signals.StepKYCReview, during.Step, "the replayed approval did not end the review")
	require.Equal(t, 1, during.Webhooks.Unconfirmed)
}
