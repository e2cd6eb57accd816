package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

func score(n int) *int { return &n }

// webhook is a signal as the relay would send it.
type webhook struct {
	name    string
	payload any
}

// TestIntegrationTreezorLiveness drives live verifications through a real dev server and worker with real
// signals, and checks the outcome and the search attributes an operator filters on.
func TestIntegrationTreezorLiveness(t *testing.T) {
	s := testenv.Start(t)
	tests := []struct {
		name    string
		subject string
		events  []webhook
		// reviewEvents are sent once the workflow has requested the KYC review, as Treezor would.
		reviewEvents []webhook
		want         signals.OutcomeStatus
		// wantCalls are the Treezor API calls made for the user, in order.
		wantCalls []string
	}{
		{
			name:    "validated then approved",
			subject: "100001",
			events: []webhook{
				{signals.SignalTreezorKycLivenessCreate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "c1"}, KycStatus: "processing"}},
				{signals.SignalTreezorKycLivenessUpdate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "u1"}, KycStatus: "processed", Score: score(1)}},
				{signals.SignalTreezorDocumentCreate, signals.TreezorDocumentEvent{Webhook: signals.Webhook{EventID: "d1"}, DocumentID: "77", DocumentTypeID: 34}},
			},
			reviewEvents: []webhook{
				{signals.SignalTreezorKycReview, signals.TreezorKycReviewEvent{Webhook: signals.Webhook{EventID: "r1"}, KycReview: signals.KycReviewValidated}},
				// A redelivery after the decision changes nothing.
				{signals.SignalTreezorKycReview, signals.TreezorKycReviewEvent{Webhook: signals.Webhook{EventID: "r1"}, KycReview: signals.KycReviewValidated}},
			},
			want: signals.OutcomeApproved,
			wantCalls: []string{
				"POST /v1/users/100001/kycliveness", "PUT /v1/users/100001/kycliveness", "PUT /v1/users/100001/Kycreview",
				"GET /v1/users/100001", // the decision confirmed by reading the user
			},
		},
		{
			name:    "refused with score 0",
			subject: "100002",
			events: []webhook{
				{signals.SignalTreezorKycLivenessCreate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "c2"}, KycStatus: "processing"}},
				{signals.SignalTreezorKycLivenessUpdate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "u2"}, KycStatus: "processed", Score: score(0),
					Reasons: []signals.ProviderReason{{Code: "2101", Message: "expired document"}}}},
			},
			want:      signals.OutcomeRefused,
			wantCalls: []string{"POST /v1/users/100002/kycliveness"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			in := signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: tc.subject}
			v, ident, err := s.Starter.Start(ctx, in)
			require.NoError(t, err)
			require.Equal(t, "https://id.example.test/idv-"+tc.subject, ident.URL)
			require.Equal(t, signals.WorkflowID(signals.ProviderTreezor, tc.subject), v.WorkflowID)

			again, identAgain, err := s.Starter.Start(ctx, in)
			require.NoError(t, err)
			require.Equal(t, v.RunID, again.RunID, "a repeated start joins the running verification")
			require.Equal(t, ident.URL, identAgain.URL)

			st, err := s.Starter.Status(ctx, v)
			require.NoError(t, err)
			require.Equal(t, signals.StepAwaitingUser, st.Step)
			requireAttr(t, s, v, signals.AttrStep.GetName(), string(signals.StepAwaitingUser))

			for _, e := range tc.events {
				s.SignalTreezor(t, tc.subject, e.name, e.payload)
			}
			if len(tc.reviewEvents) > 0 {
				require.Eventually(t, func() bool {
					st, err := s.Starter.Status(ctx, v)
					return err == nil && st.Step == signals.StepKYCReview
				}, 30*time.Second, 50*time.Millisecond, "the workflow requests the KYC review")
			}
			for _, e := range tc.reviewEvents {
				s.SignalTreezor(t, tc.subject, e.name, e.payload)
			}
			o, err := s.Starter.Wait(ctx, v)
			require.NoError(t, err)
			require.Equal(t, tc.want, o.Status, "outcome detail: %s", o.Detail)
			require.Equal(t, "idv-"+tc.subject, o.ProviderReference)
			require.Equal(t, tc.wantCalls, s.Treezor.CallsFor(tc.subject), "one provider session, one review request")

			requireAttr(t, s, v, signals.AttrOutcome.GetName(), string(tc.want))
			requireAttr(t, s, v, signals.AttrStep.GetName(), string(signals.StepCompleted))
			requireAttr(t, s, v, signals.AttrMethod.GetName(), string(signals.MethodTreezorLiveness))
			requireAttr(t, s, v, signals.AttrProviderReference.GetName(), "idv-"+tc.subject)

			// Operators filter by these in the UI; visibility is eventually consistent.
			query := fmt.Sprintf("KycOutcome = '%s' AND KycMethod = '%s' AND WorkflowId = '%s'", tc.want, signals.MethodTreezorLiveness, v.WorkflowID)
			require.Eventually(t, func() bool {
				resp, err := s.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
				return err == nil && resp.GetCount() == 1
			}, 15*time.Second, 200*time.Millisecond, "visibility query %s", query)

			requireNoPendingTimers(t, s, v)
			requireOneUpsertPerStepChange(t, s, v)
			recordHistory(t, s, v, "treezor-liveness-"+string(tc.want))
		})
	}
}

// TestIntegrationTreezorTransferMadeBefore: a live verification with Treezor's SEPA validation step, whose
// transfer reached the wallet before the verification started (its payin webhooks had no run to reach). The
// workflow reads the wallet's validated transfers and goes on to the KYC review without waiting for a webhook.
func TestIntegrationTreezorTransferMadeBefore(t *testing.T) {
	s := testenv.Start(t)
	const subject, wallet = "100005", "9100005"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.Treezor.AddValidatedTransfer(wallet, "5001", time.Now().Add(-time.Hour))
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: subject,
		SEPAValidation: &signals.SEPAValidation{WalletID: wallet}})
	require.NoError(t, err)
	for _, e := range []webhook{
		{signals.SignalTreezorKycLivenessCreate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "c3"}, KycStatus: "processing"}},
		{signals.SignalTreezorKycLivenessUpdate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "u3"}, KycStatus: "processed", Score: score(1)}},
		{signals.SignalTreezorDocumentCreate, signals.TreezorDocumentEvent{Webhook: signals.Webhook{EventID: "d3"}, DocumentID: "78", DocumentTypeID: 34}},
	} {
		s.SignalTreezor(t, subject, e.name, e.payload)
	}
	require.Eventually(t, func() bool {
		st, err := s.Starter.Status(ctx, v)
		return err == nil && st.Step == signals.StepKYCReview
	}, 30*time.Second, 50*time.Millisecond, "the workflow requests the KYC review without a payin webhook")
	s.SignalTreezor(t, subject, signals.SignalTreezorKycReview, signals.TreezorKycReviewEvent{Webhook: signals.Webhook{EventID: "r3"}, KycReview: signals.KycReviewValidated})
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	requireNoPendingTimers(t, s, v)
	recordHistory(t, s, v, "treezor-liveness-transfer-before-approved")
}

// TestIntegrationTreezorIdent runs one QES and one video conference verification: an abort, the user's return
// with the same URL, the provider's success, and the KYC review.
func TestIntegrationTreezorIdent(t *testing.T) {
	s := testenv.Start(t)
	tests := []struct {
		method  signals.Method
		subject string
		events  signals.TreezorIdentEvents
		path    string
	}{
		{signals.MethodTreezorQES, "200001", signals.TreezorQESEvents, "qes"},
		{signals.MethodTreezorVideoConference, "200002", signals.TreezorVideoConferenceEvents, "videoconference"},
	}
	for _, tc := range tests {
		t.Run(string(tc.method), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			v, ident, err := s.Starter.Start(ctx, signals.VerificationInput{Method: tc.method, SubjectID: tc.subject})
			require.NoError(t, err)
			require.Equal(t, "https://go.idnow.example.test/idn-"+tc.subject, ident.URL)

			s.SignalTreezor(t, tc.subject, tc.events.Aborted, signals.TreezorIdentEvent{Webhook: signals.Webhook{EventID: "a"},
				Result: signals.TreezorResultAborted, Reason: &signals.ProviderReason{Code: "3011", Message: "USER_CANCELLATION_IDENTIFY_LATER"}})
			s.SignalTreezor(t, tc.subject, tc.events.Created, signals.TreezorIdentEvent{Webhook: signals.Webhook{EventID: "c"}})
			s.SignalTreezor(t, tc.subject, tc.events.Finalized, signals.TreezorIdentEvent{Webhook: signals.Webhook{EventID: "f"}, Result: signals.TreezorResultSuccess})
			// Seed 002: the documents are "automatically created once the qes.finalized webhook is received"; the
			// review waits for them.
			require.Eventually(t, func() bool {
				st, err := s.Starter.Status(ctx, v)
				return err == nil && st.Step == signals.StepCollectingDocuments
			}, 30*time.Second, 50*time.Millisecond, "the workflow waits for the documents")
			s.SignalTreezor(t, tc.subject, signals.SignalTreezorDocumentCreate, signals.TreezorDocumentEvent{
				Webhook: signals.Webhook{EventID: "d"}, DocumentID: "doc-" + tc.subject, DocumentTypeID: 9})
			require.Eventually(t, func() bool {
				st, err := s.Starter.Status(ctx, v)
				return err == nil && st.Step == signals.StepKYCReview
			}, 30*time.Second, 50*time.Millisecond, "the workflow requests the KYC review")
			s.SignalTreezor(t, tc.subject, signals.SignalTreezorKycReview, signals.TreezorKycReviewEvent{Webhook: signals.Webhook{EventID: "r"}, KycReview: signals.KycReviewValidated})

			o, err := s.Starter.Wait(ctx, v)
			require.NoError(t, err)
			require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tc.method, o.Method)
			// The review's decision is confirmed by reading the user before it is applied.
			require.Equal(t, []string{"POST /v1/users/" + tc.subject + "/" + tc.path, "PUT /v1/users/" + tc.subject + "/Kycreview",
				"GET /v1/users/" + tc.subject}, s.Treezor.CallsFor(tc.subject))
			requireAttr(t, s, v, signals.AttrMethod.GetName(), string(tc.method))
			requireAttr(t, s, v, signals.AttrOutcome.GetName(), string(signals.OutcomeApproved))
			requireNoPendingTimers(t, s, v)
			recordHistory(t, s, v, string(tc.method)+"-approved")
		})
	}
}

func TestIntegrationTreezorUserDataIncomplete(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "428001"})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "typed error, got %v", err)
	require.Equal(t, signals.CauseUserDataIncomplete, appErr.Type())
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeFailed, o.Status)
	require.Equal(t, signals.CauseUserDataIncomplete, o.Cause)
	require.Equal(t, []string{"POST /v1/users/428001/kycliveness"}, s.Treezor.CallsFor("428001"), "a 428 is not retried")
}

func TestIntegrationTreezorCancel(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "100003"})
	require.NoError(t, err)
	require.NoError(t, s.Starter.Cancel(ctx, v, "integration test"))
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeCancelled, o.Status)
	requireAttr(t, s, v, signals.AttrOutcome.GetName(), string(signals.OutcomeCancelled))

	// The user may still be in the session the cancelled run opened, and a new POST kycliveness would replace it
	// (seed 001): the next start is refused until the URL's bound, and says when.
	require.NotNil(t, o.SessionOpenUntil, "a run cancelled while the user could be in the session says until when")
	_, _, err = s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "100003"})
	var e *starter.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, starter.ErrSessionOpen, e.Kind, "%v", err)
	require.Equal(t, o.SessionOpenUntil.UTC(), e.RetryAfter.UTC())
	require.Equal(t, []string{"POST /v1/users/100003/kycliveness"}, s.Treezor.CallsFor("100003"), "no second session was requested")
}

func TestIntegrationTreezorLivenessAfterTheSessionCannotComplete(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "100004",
		Deadlines: signals.Deadlines{URLValidity: signals.Duration(2 * time.Second), Grace: signals.Duration(time.Millisecond)}}
	v, _, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	require.NoError(t, s.Starter.Cancel(ctx, v, "integration test"))
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.NotNil(t, o.SessionOpenUntil)
	// Once the cancelled run's URL has expired, its session can no longer complete: a new one may be requested.
	time.Sleep(time.Until(*o.SessionOpenUntil) + 100*time.Millisecond)
	next, _, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	require.NotEqual(t, v.RunID, next.RunID)
	require.NoError(t, s.Starter.Cancel(ctx, next, "test over"))
	_, err = s.Starter.Wait(ctx, next)
	require.NoError(t, err)
	require.Len(t, s.Treezor.CallsFor("100004"), 2, "one session per run")
}

// requireNoPendingTimers checks that every timer the run started was fired or cancelled: a satisfied wait must
// not leave its 15-minute or 24-hour timer behind in the history and the UI.
func requireNoPendingTimers(t *testing.T, s *testenv.Stack, v starter.Verification) {
	t.Helper()
	open := map[int64]bool{}
	iter := s.Client.GetWorkflowHistory(context.Background(), v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	started := 0
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			open[e.GetEventId()] = true
			started++
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			delete(open, e.GetTimerFiredEventAttributes().GetStartedEventId())
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			delete(open, e.GetTimerCanceledEventAttributes().GetStartedEventId())
		}
	}
	require.NotZero(t, started, "the run waited on timers")
	require.Empty(t, open, "timers left pending (started event IDs)")
}

// requireOneUpsertPerStepChange (decision-integrity version 9): the starter set the method, provider and first
// step with the start, so the workflow never upserts them; every upsert is a step change, the provider reference
// goes with the URL's and the outcome with the last (the SDK's own TemporalChangeVersion upsert aside).
func requireOneUpsertPerStepChange(t *testing.T, s *testenv.Stack, v starter.Verification) {
	t.Helper()
	iter := s.Client.GetWorkflowHistory(context.Background(), v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var upserts [][]string
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		if e.GetEventType() != enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES {
			continue
		}
		var keys []string
		for k := range e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields() {
			if k != "TemporalChangeVersion" {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			upserts = append(upserts, keys)
		}
	}
	require.NotEmpty(t, upserts)
	for _, keys := range upserts {
		require.Contains(t, keys, signals.AttrStep.GetName(), "every upsert is a step change: %v", upserts)
		require.NotContains(t, keys, signals.AttrMethod.GetName(), "the method came with the start: %v", upserts)
	}
	require.ElementsMatch(t, []string{signals.AttrStep.GetName(), signals.AttrProviderReference.GetName()}, upserts[0])
	require.ElementsMatch(t, []string{signals.AttrStep.GetName(), signals.AttrOutcome.GetName()}, upserts[len(upserts)-1])
}

func requireAttr(t *testing.T, s *testenv.Stack, v starter.Verification, name, want string) {
	t.Helper()
	desc, err := s.Client.DescribeWorkflowExecution(context.Background(), v.WorkflowID, v.RunID)
	require.NoError(t, err)
	p, ok := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[name]
	require.True(t, ok, "search attribute %s is set", name)
	var got string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &got))
	require.Equal(t, want, got, "search attribute %s", name)
}

// recordHistory exports the run's history with the real CLI when KYCFLOW_RECORD_HISTORY names a folder, for the
// replay tests in workflows/ (`make history`).
func recordHistory(t *testing.T, s *testenv.Stack, v starter.Verification, name string) {
	recordHistoryFrom(t, s.Temporal.HostPort, v, name)
}

// recordHistoryFrom is recordHistory for a test that runs a dev server of its own.
func recordHistoryFrom(t *testing.T, hostPort string, v starter.Verification, name string) {
	dir := os.Getenv("KYCFLOW_RECORD_HISTORY")
	if dir == "" {
		return
	}
	bin := os.Getenv("KYCFLOW_TEMPORAL_BIN")
	out, err := exec.Command(bin, "workflow", "show", "--address", hostPort,
		"--workflow-id", v.WorkflowID, "--run-id", v.RunID, "--output", "json").Output()
	require.NoError(t, err)
	path := filepath.Join(dir, name+".json")
	require.NoError(t, os.WriteFile(path, out, 0o644))
	t.Logf("history written to %s", path)
}
