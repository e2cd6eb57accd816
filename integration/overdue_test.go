package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/signals"
)

// TestIntegrationOverdueReviewClosedByAnOperator: Treezor's KYC review does not decide within its bound (1 s
// here), so the verification goes overdue and reads the user from Treezor; an operator asks for another read, then
// closes it. Its history, recorded for the replay tests, holds the overdue and operator-action branches.
func TestIntegrationOverdueReviewClosedByAnOperator(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const user = "230001"
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: user,
		Deadlines: signals.Deadlines{Review: signals.Duration(time.Second)}})
	require.NoError(t, err)
	e := signals.TreezorQESEvents
	s.SignalTreezor(t, user, e.Processing, signals.TreezorIdentEvent{Webhook: signals.Webhook{EventID: "p"}, Result: signals.TreezorResultReviewPending})
	s.SignalTreezor(t, user, e.Finalized, signals.TreezorIdentEvent{Webhook: signals.Webhook{EventID: "f"}, Result: signals.TreezorResultSuccess})
	// The document Treezor creates after qes.finalized (seed 002), which the review waits for.
	s.SignalTreezor(t, user, signals.SignalTreezorDocumentCreate, signals.TreezorDocumentEvent{Webhook: signals.Webhook{EventID: "d"},
		DocumentID: "doc-" + user, DocumentTypeID: 9})

	var st signals.Status
	// With a 1-second bound, a loaded machine may see the documents' wait go overdue first: wait for the review's.
	require.Eventually(t, func() bool {
		st, err = s.Starter.Status(ctx, v)
		return err == nil && st.Step == signals.StepOverdue && st.Overdue != nil && st.Overdue.WaitingFor == "Treezor KYC review (user.kycreview)"
	}, 30*time.Second, 50*time.Millisecond, "the KYC review goes overdue")
	require.NotNil(t, st.Overdue.NextCheck, "Treezor's user can be read")
	requireAttr(t, s, v, signals.AttrStep.GetName(), string(signals.StepOverdue))

	reads := func() int {
		n := 0
		for _, c := range s.Treezor.CallsFor(user) {
			if c == "GET /v1/users/"+user {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return reads() > 0 }, 15*time.Second, 20*time.Millisecond,
		"the overdue review reads the user at once")
	before := reads()
	_, err = s.Starter.Act(ctx, v, signals.OperatorAction{Action: signals.ActionRecheck, Operator: "ops-alice"})
	require.NoError(t, err)
	// With a 1-second bound the schedule reads every fraction of a second too: this shows the action accepted and
	// the reads going on; the testsuite shows that a recheck reads at once.
	require.Eventually(t, func() bool { return reads() > before }, 15*time.Second, 50*time.Millisecond, "the user is read again")

	_, err = s.Starter.Act(ctx, v, signals.OperatorAction{Action: signals.ActionClose, Operator: "ops-alice", Reason: "escalated to Treezor",
		ExpectedStep: signals.StepOverdue, CloseAs: signals.OutcomeRefused, ReasonCode: "REVIEW_NOT_DECIDED"})
	require.NoError(t, err)
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeRefused, o.Status)
	require.Equal(t, "REVIEW_NOT_DECIDED", o.DecidedBy.ReasonCode)
	requireNoPendingTimers(t, s, v)
	recordHistory(t, s, v, "treezor-qes-overdue-closed")
}

// TestIntegrationOverdueReviewExtendedThenDecided: Treezor's KYC review passes its bound (1 s here), an operator
// extends the overdue limit, and Treezor's decision then comes: it decides the verification exactly as if on time.
// Its history, recorded for the replay tests, holds the overdue wait, an extension and a late decision.
func TestIntegrationOverdueReviewExtendedThenDecided(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const user = "230002"
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: user,
		Deadlines: signals.Deadlines{Review: signals.Duration(time.Second)}})
	require.NoError(t, err)
	e := signals.TreezorQESEvents
	s.SignalTreezor(t, user, e.Finalized, signals.TreezorIdentEvent{Webhook: signals.Webhook{EventID: "f"}, Result: signals.TreezorResultSuccess})
	s.SignalTreezor(t, user, signals.SignalTreezorDocumentCreate, signals.TreezorDocumentEvent{Webhook: signals.Webhook{EventID: "d"},
		DocumentID: "doc-" + user, DocumentTypeID: 9})
	require.Eventually(t, func() bool {
		st, err := s.Starter.Status(ctx, v)
		return err == nil && st.Step == signals.StepOverdue && st.Overdue != nil && st.Overdue.WaitingFor == "Treezor KYC review (user.kycreview)"
	}, 30*time.Second, 50*time.Millisecond, "the KYC review goes overdue")

	limit := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	_, err = s.Starter.Act(ctx, v, signals.OperatorAction{Action: signals.ActionExtend, Operator: "ops-alice",
		Reason: "Treezor support says the review is under way", ExpectedStep: signals.StepOverdue, NewDeadline: limit})
	require.NoError(t, err)
	st, err := s.Starter.Status(ctx, v)
	require.NoError(t, err)
	require.True(t, st.Overdue.Limit.Equal(limit), "the new limit %s shows (got %s)", limit, st.Overdue.Limit)

	s.Treezor.SetKycReview(user, signals.KycReviewValidated) // Treezor's API shows the decision it announces
	s.SignalTreezor(t, user, signals.SignalTreezorKycReview, signals.TreezorKycReviewEvent{Webhook: signals.Webhook{EventID: "kr"},
		KycReview: signals.KycReviewValidated})
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	require.Nil(t, o.DecidedBy, "Treezor decided, not the operator")
	require.Len(t, o.OperatorActions, 1)
	require.Equal(t, signals.ActionExtend, o.OperatorActions[0].Action)
	requireNoPendingTimers(t, s, v)
	recordHistory(t, s, v, "treezor-qes-overdue-extended-approved")
}

// TestIntegrationYousignApprovedByFourEyes: the user never finishes a Yousign verification (the integrator makes
// the KYC decision there), and two different operators approve it; the same operator confirming is refused. Its
// history, recorded for the replay tests, holds the four-eyes approval.
func TestIntegrationYousignApprovedByFourEyes(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "backend-user-4eyes",
		RedirectURL: "https://app.example/done", Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}}
	v, _, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	approve := func(operator string) signals.OperatorAction {
		return signals.OperatorAction{Action: signals.ActionApprove, Operator: operator, Reason: "identity checked on a video call"}
	}
	res, err := s.Starter.Act(ctx, v, approve("ops-alice"))
	require.NoError(t, err)
	require.NotEmpty(t, res.Pending, "the first approval waits for a second operator")
	_, err = s.Starter.Act(ctx, v, approve("OPS-alice"))
	require.ErrorContains(t, err, "needs a second operator")
	_, err = s.Starter.Act(ctx, v, approve("ops-bob"))
	require.NoError(t, err)

	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeApproved, o.Status)
	require.Equal(t, "ops-alice", o.DecidedBy.Operator)
	require.Equal(t, "ops-bob", o.DecidedBy.ConfirmedBy)
	require.Len(t, o.OperatorActions, 2)
	// The validator refused the self-confirmation before it entered the history: two updates accepted, by the two
	// operators, and nothing else.
	var accepted []string
	iter := s.Client.GetWorkflowHistory(ctx, v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetAcceptedRequest().GetInput().GetName() == signals.UpdateOperatorAction {
			var action signals.OperatorAction
			require.NoError(t, payloadcodec.DataConverter(testenv.PayloadCodec()).FromPayload(a.GetAcceptedRequest().GetInput().GetArgs().GetPayloads()[0], &action))
			accepted = append(accepted, action.Operator)
		}
	}
	require.Equal(t, []string{"ops-alice", "ops-bob"}, accepted, "only accepted actions are in the history")
	requireNoPendingTimers(t, s, v)
	recordHistory(t, s, v, "yousign-video-four-eyes-approved")
}
