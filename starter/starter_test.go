package starter_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// requireKind checks that err is a *starter.Error of the kind, reachable both ways a caller branches.
func requireKind(t *testing.T, err error, kind starter.Kind) *starter.Error {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind, "got %v", err)
	var e *starter.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, kind, e.Kind)
	return e
}

// cancelAtEnd leaves no verification running once the test is over.
func cancelAtEnd(t *testing.T, s *testenv.Stack, v starter.Verification) {
	t.Cleanup(func() {
		err := s.Starter.Cancel(context.Background(), v, "test over")
		if err != nil && !errors.Is(err, starter.ErrClosed) {
			t.Errorf("cancel %s: %v", v.WorkflowID, err)
		}
	})
}

func requireExecutionStatus(t *testing.T, s *testenv.Stack, v starter.Verification, want enumspb.WorkflowExecutionStatus) {
	t.Helper()
	desc, err := s.Client.DescribeWorkflowExecution(context.Background(), v.WorkflowID, v.RunID)
	require.NoError(t, err)
	require.Equal(t, want, desc.GetWorkflowExecutionInfo().GetStatus())
}

// TestStartReturnsURLOnce starts each method, starts it again, and checks that the second start joined the first:
// same run, same URL, one provider session.
func TestStartReturnsURLOnce(t *testing.T) {
	s := testenv.Start(t)
	treezorCalls := func(s *testenv.Stack, subject string) []string { return s.Treezor.CallsFor(subject) }
	tests := []struct {
		input signals.VerificationInput
		// urlPrefix is the start of the fake provider's URL for the subject (Yousign numbers its verifications).
		urlPrefix string
		// providerCalls lists the calls the provider's fake saw for the subject, where it records them; wantCalls
		// is what it should have seen.
		providerCalls func(s *testenv.Stack, subject string) []string
		wantCalls     []string
	}{
		{
			input:     signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "610001"},
			urlPrefix: "https://id.example.test/idv-610001", providerCalls: treezorCalls,
			wantCalls: []string{"POST /v1/users/610001/kycliveness"},
		},
		{
			input:     signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: "610002", RedirectURL: "https://app.example.test/done"},
			urlPrefix: "https://go.idnow.example.test/idn-610002", providerCalls: treezorCalls,
			wantCalls: []string{"POST /v1/users/610002/qes"},
		},
		{
			input:     signals.VerificationInput{Method: signals.MethodTreezorVideoConference, SubjectID: "610003"},
			urlPrefix: "https://go.idnow.example.test/idn-610003", providerCalls: treezorCalls,
			wantCalls: []string{"POST /v1/users/610003/videoconference"},
		},
		{
			input:     signals.VerificationInput{Method: signals.MethodSolarisIDnow, SubjectID: "610004per", Language: "DE"},
			urlPrefix: "https://go.test.idnow.example/app/kycflow/identifications/idt-610004per",
		},
		{
			input: signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "610005", RedirectURL: "https://app.example.test/done",
				Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}},
			urlPrefix: "https://id.ubble.example/ver-",
		},
	}
	for _, tc := range tests {
		t.Run(string(tc.input.Method), func(t *testing.T) {
			ctx := testContext(t)
			v, ident, err := s.Starter.Start(ctx, tc.input)
			require.NoError(t, err)
			cancelAtEnd(t, s, v)
			require.True(t, strings.HasPrefix(ident.URL, tc.urlPrefix), "URL %s", ident.URL)
			require.Equal(t, signals.WorkflowID(tc.input.Method.Provider(), tc.input.SubjectID), v.WorkflowID)
			require.Equal(t, v.WorkflowID, ident.WorkflowID)
			require.NotEmpty(t, v.RunID)
			require.WithinDuration(t, time.Now().Add(time.Duration(signals.Deadlines{}.WithDefaults(tc.input.Method).URLValidity)),
				ident.ExpiresAt, time.Minute)

			again, identAgain, err := s.Starter.Start(ctx, tc.input)
			require.NoError(t, err)
			require.Equal(t, v, again, "a second start joins the running verification")
			require.Equal(t, ident, identAgain)
			if tc.providerCalls != nil {
				require.Equal(t, tc.wantCalls, tc.providerCalls(s, tc.input.SubjectID), "one provider session")
			}

			st, err := s.Starter.Status(ctx, starter.Verification{WorkflowID: v.WorkflowID})
			require.NoError(t, err, "a handle rebuilt from the workflow ID alone")
			require.Equal(t, tc.input.Method, st.Method)
			require.Equal(t, signals.StepAwaitingUser, st.Step)
			require.Equal(t, ident.URL, st.IdentificationURL)
		})
	}
}

func TestStartUserDataIncomplete(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "428601"})
	e := requireKind(t, err, starter.ErrUserDataIncomplete)
	require.Equal(t, signals.CauseUserDataIncomplete, e.Cause)
	require.Equal(t, "kyc/treezor/428601", e.WorkflowID)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "the workflow's error stays reachable")
	require.Equal(t, signals.CauseUserDataIncomplete, appErr.Type())

	require.Equal(t, "kyc/treezor/428601", v.WorkflowID)
	requireExecutionStatus(t, s, v, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeFailed, o.Status)
	require.Equal(t, signals.CauseUserDataIncomplete, o.Cause)
	require.Equal(t, []string{"POST /v1/users/428601/kycliveness"}, s.Treezor.CallsFor("428601"))

	// Once the user has completed their data, the backend starts again: a new attempt, not the old failure.
	again, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "428601"})
	requireKind(t, err, starter.ErrUserDataIncomplete)
	require.NotEqual(t, v.RunID, again.RunID)
	require.Len(t, s.Treezor.CallsFor("428601"), 2)
}

// TestStartProviderRejected: Treezor answers 404 for a user it does not know. That answer does not change with
// time, so it is ErrProviderRejected, not ErrProviderUnavailable (which a backend retries later), and the outcome
// tells the user to contact support instead of trying again later.
func TestStartProviderRejected(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "404601"})
	e := requireKind(t, err, starter.ErrProviderRejected)
	require.NotErrorIs(t, err, starter.ErrProviderUnavailable)
	require.Equal(t, signals.CauseProviderRejected, e.Cause)
	require.Contains(t, err.Error(), "retrying will not help")
	require.Contains(t, err.Error(), "HTTP 404", "the provider's answer is named")
	require.Equal(t, []string{"POST /v1/users/404601/kycliveness"}, s.Treezor.CallsFor("404601"), "a 404 is not retried")

	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeFailed, o.Status)
	require.Equal(t, signals.CauseProviderRejected, o.Cause)
	require.False(t, o.UserMayRetry)
	require.NotContains(t, o.UserMessage, "try again", "a user may not retry: %q", o.UserMessage)
	require.Contains(t, o.UserMessage, "contact support")
}

// TestStartProviderUnavailable: Treezor answers 503 to every attempt until the initiation's retries run out. That
// may pass, so it is ErrProviderUnavailable, and the outcome says the user may try again later.
func TestStartProviderUnavailable(t *testing.T) {
	t.Parallel() // the retries take about 20 s of real time
	s := testenv.Start(t)
	ctx := testContext(t)
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "503601"})
	e := requireKind(t, err, starter.ErrProviderUnavailable)
	require.NotErrorIs(t, err, starter.ErrProviderRejected)
	require.Equal(t, signals.CauseProviderUnavailable, e.Cause)
	require.Contains(t, err.Error(), "try again later")
	require.Greater(t, len(s.Treezor.CallsFor("503601")), 1, "a 503 is retried")

	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeFailed, o.Status)
	require.Equal(t, signals.CauseProviderUnavailable, o.Cause)
	require.True(t, o.UserMayRetry)
	require.Contains(t, o.UserMessage, "try again later")
}

// TestStartIdempotencyKey retries a start under the same key after its verification closed (the server answers
// with the first result) and starts a new attempt under a new key.
func TestStartIdempotencyKey(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	in := signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: "615001"}
	v, ident, err := s.Starter.Start(ctx, in, starter.IdempotencyKey("signup-request-1"))
	require.NoError(t, err)
	require.NoError(t, s.Starter.Cancel(ctx, v, "test"))
	_, err = s.Starter.Wait(ctx, v)
	require.NoError(t, err)

	retried, identRetried, err := s.Starter.Start(ctx, in, starter.IdempotencyKey("signup-request-1"))
	require.NoError(t, err)
	require.Equal(t, v, retried, "the retried request gets the first answer")
	require.Equal(t, ident, identRetried)
	require.Len(t, s.Treezor.CallsFor("615001"), 1)

	next, _, err := s.Starter.Start(ctx, in, starter.IdempotencyKey("signup-request-2"))
	require.NoError(t, err)
	cancelAtEnd(t, s, next)
	require.NotEqual(t, v.RunID, next.RunID, "a new key is a new attempt")
	joined, _, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	require.Equal(t, next, joined)
	require.Len(t, s.Treezor.CallsFor("615001"), 2)
}

func TestStartMethodMismatch(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "620001"})
	require.NoError(t, err)
	cancelAtEnd(t, s, v)

	qes := signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: "620001"}
	_, _, err = s.Starter.Start(ctx, qes)
	e := requireKind(t, err, starter.ErrMethodMismatch)
	require.Contains(t, e.Error(), "treezor-liveness verification is already running")
	_, _, err = s.Starter.Renew(ctx, qes)
	requireKind(t, err, starter.ErrMethodMismatch)

	require.Equal(t, []string{"POST /v1/users/620001/kycliveness"}, s.Treezor.CallsFor("620001"), "no QES session opened")
	st, err := s.Starter.Status(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.StepAwaitingUser, st.Step, "the running verification is untouched")
}

func TestStatusCancelWait(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	v, ident, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: "630001"})
	require.NoError(t, err)

	st, err := s.Starter.Status(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.StepAwaitingUser, st.Step)
	require.Equal(t, ident.URL, st.IdentificationURL)
	require.NotNil(t, st.URLExpiresAt)
	require.NotNil(t, st.Deadline, "the step's wait ends at the URL's expiry")
	require.Nil(t, st.Outcome)

	// The user leaves once: the status explains it in user-safe words and keeps the URL, which stays valid.
	s.SignalTreezor(t, "630001", signals.TreezorQESEvents.Aborted, signals.TreezorIdentEvent{Webhook: signals.Webhook{EventID: "a1"},
		Result: signals.TreezorResultAborted, Reason: &signals.ProviderReason{Code: "3011", Message: "USER_CANCELLATION_IDENTIFY_LATER"}})
	require.Eventually(t, func() bool {
		st, err = s.Starter.Status(ctx, v)
		return err == nil && st.UserMessage != ""
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, ident.URL, st.IdentificationURL)
	require.Equal(t, 1, st.Webhooks.Received)

	require.NoError(t, s.Starter.Cancel(ctx, v, "user closed the account"))
	o, err := s.Starter.Wait(ctx, starter.Verification{WorkflowID: v.WorkflowID})
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeCancelled, o.Status)
	require.Equal(t, signals.MethodTreezorQES, o.Method)
	require.NotEmpty(t, o.UserMessage)

	st, err = s.Starter.Status(ctx, v)
	require.NoError(t, err, "a closed verification still answers")
	require.Equal(t, signals.StepCompleted, st.Step)
	require.Empty(t, st.IdentificationURL)
	require.Equal(t, signals.OutcomeCancelled, st.Outcome.Status)

	err = s.Starter.Cancel(ctx, v, "again")
	requireKind(t, err, starter.ErrClosed)
}

func TestNotFound(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	v := starter.VerificationFor(signals.ProviderTreezor, "640404")
	_, err := s.Starter.Status(ctx, v)
	requireKind(t, err, starter.ErrNotFound)
	requireKind(t, s.Starter.Cancel(ctx, v, ""), starter.ErrNotFound)
	_, err = s.Starter.Wait(ctx, v)
	requireKind(t, err, starter.ErrNotFound)
}

// TestTimeoutWaitingForURL joins a verification that no worker serves (it was started on another task queue),
// so the URL never comes and the caller's deadline passes.
func TestTimeoutWaitingForURL(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	in := signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "650001"}
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: signals.WorkflowID(signals.ProviderTreezor, in.SubjectID), TaskQueue: "kycflow-no-worker",
	}, signals.WorkflowTreezorLiveness, in)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, _, err := s.Starter.Start(short, in)
	e := requireKind(t, err, starter.ErrTimeout)
	require.Equal(t, run.GetID(), e.WorkflowID)
	require.Equal(t, run.GetID(), v.WorkflowID)
	require.Empty(t, s.Treezor.CallsFor(in.SubjectID))

	require.NoError(t, s.Client.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "test over"))
	_, err = s.Starter.Wait(ctx, starter.Verification{WorkflowID: run.GetID(), RunID: run.GetRunID()})
	requireKind(t, err, starter.ErrNoOutcome)
}

func TestTemporalUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the client's retries")
	}
	ctx := testContext(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	_, err = starter.Dial(ctx, client.Options{HostPort: addr})
	requireKind(t, err, starter.ErrTemporalUnavailable)

	// A client whose frontend went away after it connected.
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	require.NoError(t, err)
	defer c.Close()
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, _, err = (&starter.Starter{Client: c}).Start(short, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "660001"})
	requireKind(t, err, starter.ErrTemporalUnavailable)
}

// TestRenew hands out the running verification's URL, refuses once the user has done their part, and starts a
// new attempt once the verification has closed.
func TestRenew(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	// A short URL validity: the cancelled run's session must have expired before a new attempt opens one.
	in := signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "670001",
		Deadlines: signals.Deadlines{URLValidity: signals.Duration(3 * time.Second), Grace: signals.Duration(time.Millisecond)}}

	v, ident, err := s.Starter.Renew(ctx, in)
	require.NoError(t, err, "with no verification yet, renew starts one")
	same, identSame, err := s.Starter.Renew(ctx, in)
	require.NoError(t, err)
	require.Equal(t, v, same)
	require.Equal(t, ident.URL, identSame.URL)
	require.Equal(t, ident.ExpiresAt.Unix(), identSame.ExpiresAt.Unix())
	require.Len(t, s.Treezor.CallsFor(in.SubjectID), 1, "the running session's URL, not a new session")

	require.NoError(t, s.Starter.Cancel(ctx, v, "the user asked for a new link"))
	cancelled, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	// The user may still be in the cancelled run's session, which a new POST kycliveness would replace (seed 001):
	// no new attempt until its URL's bound.
	_, _, err = s.Starter.Renew(ctx, in)
	requireKind(t, err, starter.ErrSessionOpen)
	require.NotNil(t, cancelled.SessionOpenUntil)
	time.Sleep(time.Until(*cancelled.SessionOpenUntil) + 100*time.Millisecond)
	renewed, identRenewed, err := s.Starter.Renew(ctx, in)
	require.NoError(t, err)
	require.Equal(t, v.WorkflowID, renewed.WorkflowID)
	require.NotEqual(t, v.RunID, renewed.RunID, "a new attempt")
	require.Equal(t, ident.URL, identRenewed.URL, "the fake issues one URL per user")
	require.Equal(t, []string{"POST /v1/users/670001/kycliveness", "POST /v1/users/670001/kycliveness"}, s.Treezor.CallsFor(in.SubjectID))
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeCancelled, o.Status, "the old handle still names the old run")

	// The user went through the session: the provider is deciding, there is no URL to hand out.
	s.SignalTreezor(t, in.SubjectID, signals.SignalTreezorKycLivenessCreate, signals.TreezorLivenessEvent{
		Webhook: signals.Webhook{EventID: "c1"}, KycStatus: signals.LivenessStatusProcessing})
	require.Eventually(t, func() bool {
		st, err := s.Starter.Status(ctx, renewed)
		return err == nil && st.Step == signals.StepProviderProcessing
	}, 10*time.Second, 50*time.Millisecond)
	_, _, err = s.Starter.Renew(ctx, in)
	requireKind(t, err, starter.ErrNoURL)
	require.NoError(t, s.Starter.Cancel(ctx, renewed, "test over"))
}

func TestList(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	liveness := signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "680001"}
	qes := signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: "680002"}

	// The first attempt's URL is short-lived: the next may open a session only once it has expired (seed 001).
	shortLived := liveness
	shortLived.Deadlines = signals.Deadlines{URLValidity: signals.Duration(time.Second), Grace: signals.Duration(time.Millisecond)}
	first, _, err := s.Starter.Start(ctx, shortLived)
	require.NoError(t, err)
	require.NoError(t, s.Starter.Cancel(ctx, first, "list test"))
	o, err := s.Starter.Wait(ctx, first)
	require.NoError(t, err)
	require.NotNil(t, o.SessionOpenUntil)
	time.Sleep(time.Until(*o.SessionOpenUntil) + 100*time.Millisecond)
	second, _, err := s.Starter.Start(ctx, liveness)
	require.NoError(t, err)
	require.NotEqual(t, first.RunID, second.RunID, "a start after the verification closed is a new attempt")
	cancelAtEnd(t, s, second)
	other, _, err := s.Starter.Start(ctx, qes)
	require.NoError(t, err)
	cancelAtEnd(t, s, other)

	list := func(r starter.ListRequest) []starter.Summary {
		var out []starter.Summary
		for v, err := range s.Starter.ListAll(ctx, r) {
			require.NoError(t, err)
			out = append(out, v)
		}
		return out
	}
	// Visibility is eventually consistent: wait until the last change shows.
	require.Eventually(t, func() bool {
		got := list(starter.ListRequest{Subject: "680001", Step: signals.StepAwaitingUser})
		return len(got) == 1 && got[0].RunID == second.RunID
	}, 15*time.Second, 100*time.Millisecond)

	runs := list(starter.ListRequest{Method: signals.MethodTreezorLiveness, Subject: "680001"})
	require.Len(t, runs, 2)
	open, closed := runs[0], runs[1]
	if open.RunID != second.RunID {
		open, closed = closed, open
	}
	require.Equal(t, second.RunID, open.RunID)
	require.Equal(t, "kyc/treezor/680001", open.WorkflowID)
	require.Equal(t, "680001", open.SubjectID)
	require.Equal(t, signals.MethodTreezorLiveness, open.Method)
	require.Equal(t, signals.StepAwaitingUser, open.Step)
	require.Empty(t, open.Outcome)
	require.Equal(t, "Running", open.ExecutionStatus)
	require.True(t, open.CloseTime.IsZero())
	require.WithinDuration(t, time.Now(), open.StartTime, time.Minute)

	require.Equal(t, first.RunID, closed.RunID)
	require.Equal(t, signals.StepCompleted, closed.Step)
	require.Equal(t, signals.OutcomeCancelled, closed.Outcome)
	require.Equal(t, "Completed", closed.ExecutionStatus)
	require.False(t, closed.CloseTime.Before(closed.StartTime))

	byOutcome := list(starter.ListRequest{Subject: "680001", Outcome: signals.OutcomeCancelled})
	require.Len(t, byOutcome, 1)
	require.Equal(t, first.RunID, byOutcome[0].RunID)
	running := list(starter.ListRequest{Subject: "680001", Running: true})
	require.Len(t, running, 1)
	require.Equal(t, second.RunID, running[0].RunID)

	require.Eventually(t, func() bool {
		got := list(starter.ListRequest{Method: signals.MethodTreezorQES, Step: signals.StepAwaitingUser, Subject: "680002"})
		return len(got) == 1 && got[0].RunID == other.RunID
	}, 15*time.Second, 100*time.Millisecond)
	require.Empty(t, list(starter.ListRequest{Method: signals.MethodTreezorVideoConference, Subject: "680002"}), "filtered by method")

	// Pages of one: the token leads from the first run to the second, then ends.
	page, err := s.Starter.List(ctx, starter.ListRequest{Subject: "680001", PageSize: 1})
	require.NoError(t, err)
	require.Len(t, page.Verifications, 1)
	require.NotEmpty(t, page.NextPageToken)
	page2, err := s.Starter.List(ctx, starter.ListRequest{Subject: "680001", PageSize: 1, PageToken: page.NextPageToken})
	require.NoError(t, err)
	require.Len(t, page2.Verifications, 1)
	require.NotEqual(t, page.Verifications[0].RunID, page2.Verifications[0].RunID)
	if len(page2.NextPageToken) > 0 {
		page3, err := s.Starter.List(ctx, starter.ListRequest{Subject: "680001", PageSize: 1, PageToken: page2.NextPageToken})
		require.NoError(t, err)
		require.Empty(t, page3.Verifications)
		require.Empty(t, page3.NextPageToken)
	}

	_, err = s.Starter.List(ctx, starter.ListRequest{Step: "awaiting"})
	e := requireKind(t, err, starter.ErrInvalidRequest)
	require.Equal(t, "step", e.Field)
}

// TestListQuotesSubject checks that a subject with quote characters, which ValidateSubject allows, reaches the
// visibility store as a literal rather than as query syntax.
func TestListQuotesSubject(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	for _, subject := range []string{`a'b`, `a\'b`, `x'OR(WorkflowId!='')OR'`} {
		if signals.ValidateSubject(subject) != nil {
			continue
		}
		page, err := s.Starter.List(ctx, starter.ListRequest{Subject: subject})
		require.NoError(t, err, subject)
		require.Empty(t, page.Verifications, subject)
	}
}

// TestRenewYousignAfterInconclusive: the Yousign workflow opens a new session itself after an inconclusive
// result; Renew hands out that session's URL from the same run.
func TestRenewYousignAfterInconclusive(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	in := signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "671001", RedirectURL: "https://app.example.test/done",
		Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}}
	v, first, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	cancelAtEnd(t, s, v)
	firstRef := strings.TrimPrefix(first.URL, "https://id.ubble.example/")

	s.Signal(t, v.WorkflowID, signals.SignalYousignVerificationDone, signals.YousignVerificationEvent{
		Webhook: signals.Webhook{EventID: "y1"}, VerificationID: firstRef,
		Status: signals.YousignStatusInconclusive, StatusCodes: []string{"IDVV_1101"}})
	var renewed starter.Verification
	var second signals.Identification
	require.Eventually(t, func() bool {
		renewed, second, err = s.Starter.Renew(ctx, in)
		return err == nil && second.URL != first.URL
	}, 15*time.Second, 100*time.Millisecond, "the second session's URL")
	require.Equal(t, v, renewed, "the same run")
	require.True(t, second.ExpiresAt.After(time.Now()))
}

// TestAct sends operator actions through the library against a real server: a refused one (stale expected step)
// is ErrActionRejected and changes nothing, an accepted close ends the verification with the operator's decision,
// and an action on the closed verification is ErrClosed.
func TestAct(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: "720001"})
	require.NoError(t, err)
	cancelAtEnd(t, s, v)
	closeAs := func(operator string, expected signals.Step) signals.OperatorAction {
		return signals.OperatorAction{Action: signals.ActionClose, Operator: operator, ExpectedStep: expected,
			CloseAs: signals.OutcomeCancelled, ReasonCode: "DUPLICATE_SIGNUP", Reason: "the user signed up twice"}
	}

	_, err = s.Starter.Act(ctx, v, closeAs("", ""))
	require.Equal(t, "operator", requireKind(t, err, starter.ErrInvalidRequest).Field)
	_, err = s.Starter.Act(ctx, v, closeAs("ops-alice", signals.StepKYCReview))
	e := requireKind(t, err, starter.ErrActionRejected)
	require.Contains(t, e.Error(), "expectedStep")
	requireExecutionStatus(t, s, v, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)

	res, err := s.Starter.Act(ctx, v, closeAs("ops-alice", signals.StepAwaitingUser))
	require.NoError(t, err)
	require.Empty(t, res.Pending)
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeCancelled, o.Status)
	require.Equal(t, "ops-alice", o.DecidedBy.Operator)
	require.Equal(t, "DUPLICATE_SIGNUP", o.DecidedBy.ReasonCode)

	_, err = s.Starter.Act(ctx, v, closeAs("ops-bob", ""))
	requireKind(t, err, starter.ErrClosed)
}

// TestRenewWhileTheExpiredURLWaitsOutItsGrace: a live verification's URL has expired and the run waits out the
// grace for a late webhook (the status query no longer shows the URL). Renew waits for the run to end expired,
// then opens the next attempt, instead of answering that there is no URL.
func TestRenewWhileTheExpiredURLWaitsOutItsGrace(t *testing.T) {
	s := testenv.Start(t)
	ctx := testContext(t)
	in := signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "672001",
		Deadlines: signals.Deadlines{URLValidity: signals.Duration(2 * time.Second), Grace: signals.Duration(3 * time.Second)}}
	v, first, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	time.Sleep(time.Until(first.ExpiresAt) + 500*time.Millisecond)
	st, err := s.Starter.Status(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.StepAwaitingUser, st.Step, "within the grace")
	require.Empty(t, st.IdentificationURL, "an expired URL is not shown")

	renewed, ident, err := s.Starter.Renew(ctx, in)
	require.NoError(t, err)
	require.NotEqual(t, v.RunID, renewed.RunID, "the next attempt, once the expired run ended")
	require.True(t, ident.ExpiresAt.After(time.Now()))
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeExpired, o.Status)
	cancelAtEnd(t, s, renewed)
}
