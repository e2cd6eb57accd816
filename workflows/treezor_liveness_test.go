package workflows_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/worker"
	"github.com/kycflow/kycflow/workflows"
)

var tz *activities.Treezor

const (
	testUser = "123456"
	testURL  = "https://id.example.test/f8048bee"
	testRef  = "f8048bee-3182-48dc-93e5-7eef9db77050"
)

// event is a webhook signal delivered at a workflow time after the start.
type event struct {
	at      time.Duration
	name    string
	payload any
}

func livenessCreate(id string) any {
	return signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: id}, UserID: testUser, KycStatus: signals.LivenessStatusProcessing}
}

func livenessUpdate(id string, score int, codes ...string) any {
	rs := make([]signals.ProviderReason, len(codes))
	for i, c := range codes {
		rs[i] = signals.ProviderReason{Code: c, Message: "as sent by Treezor"}
	}
	return signals.TreezorLivenessEvent{
		Webhook: signals.Webhook{EventID: id}, UserID: testUser,
		KycStatus: signals.LivenessStatusProcessed, Score: &score, Reasons: rs,
	}
}

func document(id, docID string, typeID int) any {
	return signals.TreezorDocumentEvent{Webhook: signals.Webhook{EventID: id}, UserID: testUser, DocumentID: docID, DocumentTypeID: typeID}
}

// documentEmitted is a document.create Treezor emitted when it created the document (w.EmittedAt), whenever it is
// delivered: the listing shows the document from then on.
func documentEmitted(id, docID string, typeID int, w signals.Webhook) any {
	d := document(id, docID, typeID).(signals.TreezorDocumentEvent)
	w.EventID = id
	d.Webhook = w
	return d
}

func review(id string, kycReview int) any {
	return signals.TreezorKycReviewEvent{Webhook: signals.Webhook{EventID: id}, UserID: testUser, KycReview: kycReview}
}

// happyEvents is a complete validated live verification, in Treezor's order.
func happyEvents() []event {
	return []event{
		{2 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("wh-create")},
		{10 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("wh-update", 1)},
		{11 * time.Minute, signals.SignalTreezorDocumentCreate, document("wh-doc-1", "901", 9)},
		{11 * time.Minute, signals.SignalTreezorDocumentCreate, document("wh-doc-2", "902", 26)},
		{3 * time.Hour, signals.SignalTreezorKycReview, review("wh-review", signals.KycReviewValidated)},
	}
}

// run is one workflow execution in the test environment with mocked Treezor activities.
type run struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	method signals.Method
	// input overrides the default input (the method and the test user).
	input *signals.VerificationInput
	attrs map[string]string
	// upserts are the search attribute keys of each upsert, in order.
	upserts [][]string
	// calls counts the activities started by type, localCalls the local activities.
	calls      map[string]int
	localCalls map[string]int
	// documents are the documents Treezor holds for the user: those among the delivered events.
	documents []heldDocument
	// transfers are the payins Treezor holds: those among the delivered events, and any added without a webhook.
	transfers []heldTransfer
	// transfersUnreadable makes every read of the wallet's transfers fail, as while Treezor is down.
	transfersUnreadable bool
	// yousignReads overrides what reading a Yousign verification answers, by verification ID.
	yousignReads map[string]string
	// reviewState is the user's kycReview at Treezor: the last decision a delivered user.kycreview announced.
	reviewState int
	// solarisFinal and yousignFinal are the final results delivered webhooks announced, which the providers' GETs
	// show from then on (Yousign's by verification ID).
	solarisFinal string
	yousignFinal map[string]signals.YousignVerificationEvent
}

// heldDocument is a document Treezor holds, with its creation time (what createdDateFrom filters on).
type heldDocument struct {
	signals.Document
	created time.Time
}

// heldTransfer is a payin Treezor holds, with its creation time.
type heldTransfer struct {
	signals.TreezorPayinEvent
	created time.Time
}

func newRun(t *testing.T) *run {
	t.Helper()
	return newRunWithMetrics(t, nil)
}

// newRunWithMetrics is newRun recording the workflow's metrics into m (nil: none).
func newRunWithMetrics(t *testing.T, m client.MetricsHandler) *run {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	if m != nil {
		suite.SetMetricsHandler(m)
	}
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	worker.RegisterWorkflows(env)
	env.RegisterActivity(&activities.Treezor{})
	env.RegisterActivity(&activities.Solaris{})
	env.RegisterActivity(&activities.Yousign{})
	r := &run{t: t, env: env, method: signals.MethodTreezorLiveness, attrs: map[string]string{}, calls: map[string]int{}, localCalls: map[string]int{}}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		r.calls[info.ActivityType.Name]++
	})
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		r.localCalls[info.ActivityType.Name]++
	})
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(a mock.Arguments) {
		sa := a.Get(0).(temporal.SearchAttributes)
		var keys []string
		for _, key := range signals.SearchAttributes {
			if v, ok := sa.GetKeyword(key); ok {
				r.attrs[key.GetName()] = v
				keys = append(keys, key.GetName())
			}
		}
		r.upserts = append(r.upserts, keys)
	})
	return r
}

// treezorOK mocks every Treezor activity as succeeding, with the review still pending when read back.
func (r *run) treezorOK() *run {
	r.env.OnActivity(tz.Initiate, mock.Anything, mock.Anything).Return(activities.Identification{ID: testRef, URL: testURL}, nil).Maybe()
	r.env.OnActivity(tz.RetrieveLivenessDocuments, mock.Anything, testUser).Return(nil).Maybe()
	r.env.OnActivity(tz.RequestKYCReview, mock.Anything, mock.Anything).Return(activities.UserKYC{KycReview: signals.KycReviewPending}, nil).Maybe()
	// Treezor's API shows the review the user.kycreview webhooks announced so far (pending before), as the
	// workflow reads it to confirm a webhook's decision.
	r.env.OnActivity(tz.GetUserKYC, mock.Anything, testUser).Return(
		func(context.Context, string) (activities.UserKYC, error) {
			return activities.UserKYC{KycReview: cmp.Or(r.reviewState, signals.KycReviewPending)}, nil
		}).Maybe()
	r.env.OnActivity(tz.ListValidatedTransfers, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.TreezorTransfersRequest) ([]signals.TreezorPayinEvent, error) {
			if r.transfersUnreadable {
				return nil, errors.New("treezor: list payins: 503 Service Unavailable")
			}
			var out []signals.TreezorPayinEvent
			for _, p := range r.transfers {
				if !p.created.After(r.env.Now()) && !p.created.Before(req.Since) && p.IsValidatedSEPATransfer(req.WalletID) {
					ev := p.TreezorPayinEvent
					ev.Webhook = signals.Webhook{EmittedAt: p.created}
					out = append(out, ev)
				}
			}
			return out, nil
		}).Maybe()
	return r.listDocuments()
}

// listDocuments mocks GET /v1/documents: Treezor holds the documents among the delivered events, from their
// creation on (a listing never shows a document Treezor has yet to create).
func (r *run) listDocuments() *run {
	r.env.OnActivity(tz.ListDocuments, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.TreezorDocumentsRequest) ([]signals.Document, error) {
			var out []signals.Document
			for _, d := range r.documents {
				if !d.created.Before(req.Since) && !d.created.After(r.env.Now()) {
					out = append(out, d.Document)
				}
			}
			return out, nil
		}).Maybe()
	return r
}

// deliver signals the events at their times. The documents among them are also what Treezor holds for the user
// (GET /v1/documents, mocked by treezorOK). As the sandbox does, a QES or video conference whose events hold a
// successful finalized result and no document gets one document.create right after it (seed 002: documents are
// "automatically created once the qes.finalized webhook is received").
func (r *run) deliver(events []event) *run {
	start := r.env.Now()
	created := func(e event, d signals.TreezorDocumentEvent) time.Time {
		if !d.EmittedAt.IsZero() {
			return d.EmittedAt
		}
		return start.Add(e.at)
	}
	hasDocument := false
	for _, e := range events {
		if d, ok := e.payload.(signals.TreezorDocumentEvent); ok && !created(e, d).Before(start) {
			hasDocument = true
		}
	}
	for _, e := range events {
		ev, ok := e.payload.(signals.TreezorIdentEvent)
		if !hasDocument && ok && isFinalizedEvent(e.name) &&
			(ev.Result == signals.TreezorResultSuccess || ev.Result == signals.TreezorResultSuccessDataChange) {
			events = append(slices.Clone(events), event{e.at, signals.SignalTreezorDocumentCreate, document("auto-doc", "auto-1", 9)})
			break
		}
	}
	for _, e := range events {
		if kr, ok := e.payload.(signals.TreezorKycReviewEvent); ok && kr.Decided() {
			r.env.RegisterDelayedCallback(func() { r.reviewState = kr.KycReview }, e.at)
		}
		if ev, ok := e.payload.(signals.SolarisIdentificationEvent); ok && ev.IdentificationID == testIdent && slices.Contains([]string{signals.SolarisStatusSuccessful,
			signals.SolarisStatusFailed, signals.SolarisStatusExpired}, ev.Status) {
			r.env.RegisterDelayedCallback(func() { r.solarisFinal = ev.Status }, e.at)
		}
		if ev, ok := e.payload.(signals.YousignVerificationEvent); ok && (ev.Status == signals.YousignStatusVerified || ev.Status == signals.YousignStatusFailed) {
			r.env.RegisterDelayedCallback(func() {
				if r.yousignFinal == nil {
					r.yousignFinal = map[string]signals.YousignVerificationEvent{}
				}
				r.yousignFinal[ev.VerificationID] = ev
			}, e.at)
		}
		if p, ok := e.payload.(signals.TreezorPayinEvent); ok {
			created := start.Add(e.at)
			if !p.EmittedAt.IsZero() {
				created = p.EmittedAt // a redelivery of an older payin's webhook
			}
			r.transfers = append(r.transfers, heldTransfer{p, created})
		}
		if d, ok := e.payload.(signals.TreezorDocumentEvent); ok {
			r.documents = append(r.documents, heldDocument{signals.Document{ID: d.DocumentID, TypeID: d.DocumentTypeID}, created(e, d)})
		}
		r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(e.name, e.payload) }, e.at)
	}
	return r
}

func isFinalizedEvent(name string) bool {
	return name == signals.TreezorQESEvents.Finalized || name == signals.TreezorVideoConferenceEvents.Finalized
}

func (r *run) execute() signals.Outcome {
	r.t.Helper()
	in := signals.VerificationInput{Method: r.method, SubjectID: testUser}
	if r.input != nil {
		in = *r.input
	}
	r.env.ExecuteWorkflow(r.method.WorkflowType(), in)
	require.True(r.t, r.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(r.t, r.env.GetWorkflowError())
	var o signals.Outcome
	require.NoError(r.t, r.env.GetWorkflowResult(&o))
	require.Equal(r.t, string(o.Status), r.attrs["KycOutcome"], "KycOutcome search attribute")
	require.Equal(r.t, string(signals.StepCompleted), r.attrs["KycStep"], "KycStep search attribute")
	require.NotEmpty(r.t, o.UserMessage, "every outcome carries a user-safe message")
	return o
}

func TestTreezorLivenessOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		events      []event
		reconciled  *activities.UserKYC
		wantStatus  signals.OutcomeStatus
		wantCause   string
		wantReasons []string
		wantElapsed time.Duration
	}{
		{
			name:        "validated and approved",
			events:      happyEvents(),
			wantStatus:  signals.OutcomeApproved,
			wantElapsed: 3 * time.Hour,
		},
		{
			name: "score 0 refused with reasons",
			events: []event{
				{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{5 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 0, "2101", "1320")},
			},
			wantStatus:  signals.OutcomeRefused,
			wantReasons: []string{"2101", "1320"},
			wantElapsed: 5 * time.Minute,
		},
		{
			name: "score -1 failed with reasons",
			events: []event{
				{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{5 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", -1, "1201")},
			},
			wantStatus:  signals.OutcomeFailed,
			wantCause:   signals.CauseVerificationFailed,
			wantReasons: []string{"1201"},
			wantElapsed: 5 * time.Minute,
		},
		{
			name:        "URL expires after 15 minutes (and the 2-minute grace) without a webhook",
			wantStatus:  signals.OutcomeExpired,
			wantElapsed: 15*time.Minute + grace,
		},
		{
			// The user began just before the link expired; Treezor's webhook is still on its way.
			name: "a webhook just after the 15 minutes, within the grace, counts",
			events: []event{
				{15*time.Minute + time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{20 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
				{21 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "doc-1", signals.DocumentTypeLivenessResult)},
				{30 * time.Minute, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
			},
			wantStatus:  signals.OutcomeApproved,
			wantElapsed: 30 * time.Minute,
		},
		{
			name: "a webhook after the grace is too late",
			events: []event{
				{15*time.Minute + grace + time.Second, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
			},
			wantStatus:  signals.OutcomeExpired,
			wantElapsed: 15*time.Minute + grace,
		},
		{
			name: "processing never ends within 24 hours",
			events: []event{
				{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
			},
			wantStatus:  signals.OutcomeReviewTimeout,
			wantElapsed: time.Minute + 24*time.Hour + overdueLimit, // overdue, then the hard limit
		},
		{
			name:        "review refused",
			events:      append(happyEvents()[:4], event{time.Hour, signals.SignalTreezorKycReview, review("r", signals.KycReviewRefused)}),
			wantStatus:  signals.OutcomeRefused,
			wantElapsed: time.Hour,
		},
		{
			name:        "review timeout, reconciled as validated",
			events:      happyEvents()[:4],
			reconciled:  &activities.UserKYC{KycReview: signals.KycReviewValidated},
			wantStatus:  signals.OutcomeApproved,
			wantElapsed: 11*time.Minute + 24*time.Hour,
		},
		{
			name:        "review timeout, still pending when reconciled",
			events:      happyEvents()[:4],
			wantStatus:  signals.OutcomeReviewTimeout,
			wantElapsed: 11*time.Minute + 24*time.Hour + overdueLimit,
		},
		{
			name: "intermediate review values keep waiting",
			events: append(happyEvents()[:4],
				event{time.Hour, signals.SignalTreezorKycReview, review("r1", signals.KycReviewOpen)},
				event{2 * time.Hour, signals.SignalTreezorKycReview, review("r2", signals.KycReviewReviewPending)},
				event{5 * time.Hour, signals.SignalTreezorKycReview, review("r3", signals.KycReviewValidated)},
			),
			wantStatus:  signals.OutcomeApproved,
			wantElapsed: 5 * time.Hour,
		},
		{
			name: "update before create, documents before the retrieval, all out of order",
			events: []event{
				{time.Minute, signals.SignalTreezorDocumentCreate, document("d", "902", 34)},
				{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
				{3 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{4 * time.Minute, signals.SignalTreezorKycReview, review("r", signals.KycReviewValidated)},
			},
			wantStatus:  signals.OutcomeApproved,
			wantElapsed: 4 * time.Minute,
		},
		{
			name: "a review decided before this verification asked is stale",
			events: []event{
				{time.Minute, signals.SignalTreezorKycReview, review("old", signals.KycReviewRefused)},
				{2 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{3 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
				{4 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "902", 26)},
				{time.Hour, signals.SignalTreezorKycReview, review("new", signals.KycReviewValidated)},
			},
			wantStatus:  signals.OutcomeApproved,
			wantElapsed: time.Hour,
		},
		{
			name: "duplicate deliveries are ignored",
			events: []event{
				{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
				{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
				{3 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "902", 26)},
				{3 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "902", 26)},
				{4 * time.Minute, signals.SignalTreezorKycReview, review("r", signals.KycReviewValidated)},
				{4 * time.Minute, signals.SignalTreezorKycReview, review("r", signals.KycReviewValidated)},
			},
			wantStatus:  signals.OutcomeApproved,
			wantElapsed: 4 * time.Minute,
		},
		{
			name: "documents without the synthesis document time out",
			events: []event{
				{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
				{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
				{3 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "901", 9)},
			},
			wantStatus:  signals.OutcomeReviewTimeout,
			wantElapsed: 2*time.Minute + 24*time.Hour + overdueLimit,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t)
			if tc.reconciled != nil {
				r.env.OnActivity(tz.GetUserKYC, mock.Anything, testUser).Return(*tc.reconciled, nil).Once()
			}
			r.treezorOK().deliver(tc.events)
			start := r.env.Now()
			o := r.execute()

			require.Equal(t, tc.wantStatus, o.Status, "outcome (detail: %s)", o.Detail)
			require.Equal(t, tc.wantCause, o.Cause)
			require.Equal(t, signals.MethodTreezorLiveness, o.Method)
			require.Equal(t, testRef, o.ProviderReference)
			require.Equal(t, tc.wantElapsed, o.CompletedAt.Sub(start), "when the outcome was decided")
			var codes []string
			for _, rs := range o.Reasons {
				codes = append(codes, rs.Code)
				require.True(t, rs.Known, "reason %s is in the catalogue", rs.Code)
			}
			require.Equal(t, tc.wantReasons, codes)
			require.Equal(t, signals.WorkflowTreezorLiveness, signals.MethodTreezorLiveness.WorkflowType())
			require.Equal(t, string(signals.MethodTreezorLiveness), r.attrs["KycMethod"])
			require.Equal(t, "treezor", r.attrs["KycProvider"])
			require.Equal(t, testRef, r.attrs["KycProviderReference"])
		})
	}
}

func TestTreezorLivenessApprovedCarriesDocumentsOnce(t *testing.T) {
	r := newRun(t).treezorOK()
	events := happyEvents()
	// Redelivered document with a new webhook ID: the document ID still deduplicates it.
	events = append(events, event{11 * time.Minute, signals.SignalTreezorDocumentCreate, document("wh-doc-2-again", "902", 26)})
	o := r.deliver(events).execute()
	require.Equal(t, signals.OutcomeApproved, o.Status)
	require.Equal(t, []signals.Document{{ID: "901", TypeID: 9}, {ID: "902", TypeID: 26}}, o.Documents)
	require.Equal(t, 1, r.calls["RequestKYCReview"], "one review request")
	require.Equal(t, 1, r.calls["RetrieveLivenessDocuments"])
}

func TestTreezorLivenessIdentificationURLUpdate(t *testing.T) {
	r := newRun(t).treezorOK()
	var got signals.Identification
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(signals.UpdateIdentificationURL, "start-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("update rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); got = v.(signals.Identification) },
		}, signals.URLRequest{Method: signals.MethodTreezorLiveness})
	}, 0)
	var mismatch error
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(signals.UpdateIdentificationURL, "start-2", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { mismatch = err },
			OnAccept:   func() { t.Error("an update for another method was accepted") },
			OnComplete: func(any, error) {},
		}, signals.URLRequest{Method: signals.MethodTreezorQES})
	}, time.Second)
	var during, after signals.Status
	r.env.RegisterDelayedCallback(func() { during = r.queryStatus() }, time.Minute)
	r.env.RegisterDelayedCallback(func() { after = r.queryStatus() }, 16*time.Minute)
	start := r.env.Now()
	r.deliver([]event{{5 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")}})
	o := r.execute()

	require.Equal(t, testURL, got.URL)
	require.Equal(t, 15*time.Minute, got.ExpiresAt.Sub(start), "the URL is valid 15 minutes")
	require.Equal(t, signals.OutcomeReviewTimeout, o.Status)
	require.Error(t, mismatch)
	require.Contains(t, mismatch.Error(), "already running")

	require.Equal(t, signals.StepAwaitingUser, during.Step)
	require.Equal(t, testURL, during.IdentificationURL, "URL visible while valid")
	require.NotNil(t, during.Deadline)
	require.Equal(t, signals.StepProviderProcessing, after.Step)
	require.Empty(t, after.IdentificationURL, "URL hidden once the user has used it")
}

func TestTreezorLivenessStaleEventsNeverMoveBackwards(t *testing.T) {
	r := newRun(t).treezorOK()
	var afterLateCreate, afterLateUpdate signals.Status
	r.env.RegisterDelayedCallback(func() { afterLateCreate = r.queryStatus() }, 31*time.Minute)
	r.env.RegisterDelayedCallback(func() { afterLateUpdate = r.queryStatus() }, 41*time.Minute)
	o := r.deliver([]event{
		{10 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 1)},
		{20 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "902", 26)},
		// Late deliveries of older events: a create (the user's session), and another score.
		{30 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
		{40 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u-retry", -1, "1901")},
		{time.Hour, signals.SignalTreezorKycReview, review("r", signals.KycReviewValidated)},
	}).execute()
	require.Equal(t, signals.StepKYCReview, afterLateCreate.Step)
	require.Equal(t, signals.StepKYCReview, afterLateUpdate.Step)
	require.Empty(t, afterLateUpdate.Reasons, "a second score does not replace the first")
	require.Equal(t, signals.OutcomeApproved, o.Status)
}

func TestTreezorLivenessCountsDuplicates(t *testing.T) {
	r := newRun(t).treezorOK()
	var st signals.Status
	r.env.RegisterDelayedCallback(func() { st = r.queryStatus() }, 3*time.Minute+30*time.Second)
	r.deliver([]event{
		{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
		{2 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
		{3 * time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
		{4 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", 0, "2101")},
	}).execute()
	require.Equal(t, signals.WebhookCounts{Received: 3, Duplicates: 2}, st.Webhooks)
}

func (r *run) queryStatus() signals.Status {
	r.t.Helper()
	v, err := r.env.QueryWorkflow(signals.QueryStatus)
	require.NoError(r.t, err)
	var s signals.Status
	require.NoError(r.t, v.Get(&s))
	return s
}

func TestTreezorLivenessCancel(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(env *testsuite.TestWorkflowEnvironment)
	}{
		{"cancel signal", func(env *testsuite.TestWorkflowEnvironment) {
			env.SignalWorkflow(signals.SignalCancel, signals.CancelRequest{Reason: "user closed the account"})
		}},
		{"Temporal cancellation", func(env *testsuite.TestWorkflowEnvironment) { env.CancelWorkflow() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t).treezorOK()
			r.env.RegisterDelayedCallback(func() { tc.cancel(r.env) }, 3*time.Minute)
			start := r.env.Now()
			o := r.execute()
			require.Equal(t, signals.OutcomeCancelled, o.Status)
			require.Equal(t, 3*time.Minute, o.CompletedAt.Sub(start))
			// The user may still be in the session until its URL's bound (15 minutes plus the 2-minute grace).
			require.NotNil(t, o.SessionOpenUntil)
			require.Equal(t, 17*time.Minute, o.SessionOpenUntil.Sub(start))
		})
	}
}

// TestTreezorLivenessSessionOpenUntil: an outcome says until when the user's session may still complete only
// while it may (seed 001: a new POST kycliveness replaces the previous session).
func TestTreezorLivenessSessionOpenUntil(t *testing.T) {
	tests := []struct {
		name     string
		events   []event
		cancelAt time.Duration
		wantOpen bool
	}{
		{name: "cancelled while the user may be in the session", cancelAt: 14 * time.Minute, wantOpen: true},
		// Seed 001: "Please don't call the /v1/users/{userId}/kycliveness endpoint for a given user before the
		// previous live verification is completed": the user finished, Treezor is still processing.
		{name: "cancelled while Treezor processes the session", events: happyEvents()[:1], cancelAt: 5 * time.Minute, wantOpen: true},
		{name: "cancelled during the KYC review", events: happyEvents()[:4], cancelAt: 2 * time.Hour},
		{name: "expired"},
		{name: "approved", events: happyEvents()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t).treezorOK().deliver(tt.events)
			if tt.cancelAt > 0 {
				r.env.RegisterDelayedCallback(func() {
					r.env.SignalWorkflow(signals.SignalCancel, signals.CancelRequest{Reason: "test"})
				}, tt.cancelAt)
			}
			o := r.execute()
			require.Equal(t, tt.wantOpen, o.SessionOpenUntil != nil, "outcome %s: %+v", o.Status, o.SessionOpenUntil)
		})
	}
}

func TestTreezorLivenessUserDataIncomplete(t *testing.T) {
	r := newRun(t)
	r.env.OnActivity(tz.Initiate, mock.Anything, mock.Anything).Return(activities.Identification{},
		temporal.NewNonRetryableApplicationError("treezor: the user must have firstname, lastname and birthday set",
			providerhttp.ErrTypeUserDataIncomplete, nil))
	var updateErr error
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(signals.UpdateIdentificationURL, "start", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { updateErr = err }, OnAccept: func() {},
			OnComplete: func(_ any, err error) { updateErr = err },
		}, signals.URLRequest{Method: signals.MethodTreezorLiveness})
	}, 0)
	o := r.execute()

	require.Equal(t, signals.OutcomeFailed, o.Status)
	require.Equal(t, signals.CauseUserDataIncomplete, o.Cause)
	require.Contains(t, o.Detail, "firstname, lastname and birthday")
	require.Equal(t, 1, r.calls["Initiate"], "a 428 is not retried")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(updateErr, &appErr), "update error %v", updateErr)
	require.Equal(t, signals.CauseUserDataIncomplete, appErr.Type())
}

func TestTreezorLivenessRetriesProviderOutage(t *testing.T) {
	r := newRun(t)
	outage := temporal.NewApplicationError("treezor: initiate liveness: HTTP 503", providerhttp.ErrTypeUnavailable)
	r.env.OnActivity(tz.Initiate, mock.Anything, mock.Anything).Return(activities.Identification{}, outage).Twice()
	r.treezorOK().deliver(happyEvents())
	o := r.execute()
	require.Equal(t, signals.OutcomeApproved, o.Status)
	require.Equal(t, 3, r.calls["Initiate"], "two 5xx, then success")
}

func TestTreezorLivenessProviderDownForGood(t *testing.T) {
	r := newRun(t)
	outage := temporal.NewApplicationError("treezor: initiate liveness: HTTP 503", providerhttp.ErrTypeUnavailable)
	r.env.OnActivity(tz.Initiate, mock.Anything, mock.Anything).Return(activities.Identification{}, outage)
	o := r.execute()
	require.Equal(t, signals.OutcomeFailed, o.Status)
	require.Equal(t, signals.CauseProviderUnavailable, o.Cause)
	require.True(t, o.UserMayRetry)
	require.Equal(t, 6, r.calls["Initiate"], "bounded by the retry policy")
}

func TestTreezorLivenessRejectsInvalidInput(t *testing.T) {
	for _, in := range []signals.VerificationInput{
		{Method: signals.MethodTreezorLiveness},
		{Method: "treezor-lifeness", SubjectID: testUser},
		{Method: signals.MethodTreezorLiveness, SubjectID: "a/b"},
		// Not Treezor's form of a userId (a leading zero, an e-mail address): refused by runs from version 6.
		{Method: signals.MethodTreezorLiveness, SubjectID: "0042"},
		{Method: signals.MethodTreezorLiveness, SubjectID: "alice@example.com"},
	} {
		t.Run(fmt.Sprintf("%+v", in), func(t *testing.T) {
			r := newRun(t)
			r.env.ExecuteWorkflow(signals.WorkflowTreezorLiveness, in)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(r.env.GetWorkflowError(), &appErr))
			require.Equal(t, workflows.ErrTypeInvalidInput, appErr.Type())
		})
	}
}
