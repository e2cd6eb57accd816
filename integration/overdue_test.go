package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/testenv"
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
