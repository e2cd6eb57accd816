package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// actionResult is what one operator action came to: rejected by the validator, or accepted with a result.
type actionResult struct {
	rejected error
	result   signals.OperatorActionResult
	err      error
}

// act sends an operator action at a point of the run.
func (r *run) act(at time.Duration, id string, a signals.OperatorAction, got *actionResult) {
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(signals.UpdateOperatorAction, id, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { got.rejected = err },
			OnAccept: func() {},
			OnComplete: func(res any, err error) {
				got.err = err
				if res != nil {
					got.result = res.(signals.OperatorActionResult)
				}
			},
		}, a)
	}, at)
}

// requireActions checks the operator actions an outcome records (times compared as instants).
func requireActions(t *testing.T, o signals.Outcome, want ...signals.Decision) {
	t.Helper()
	require.Len(t, o.OperatorActions, len(want), "operator actions in the outcome: %+v", o.OperatorActions)
	for i, w := range want {
		got := o.OperatorActions[i]
		require.True(t, w.At.Equal(got.At), "action %d at %s, want %s", i, got.At, w.At)
		got.At = w.At
		require.Equal(t, w, got)
	}
}

// overdueReview is a live verification whose KYC review never decides: overdue from bound on.
func overdueReview(r *run) time.Duration {
	r.treezorOK().deliver(happyEvents()[:4])
	return 11*time.Minute + day
}

func TestOperatorCloseAnOverdueVerification(t *testing.T) {
	r := newRun(t)
	bound := overdueReview(r)
	var got actionResult
	r.act(bound+2*day, "close-1", signals.OperatorAction{Action: signals.ActionClose, Operator: "ops-alice",
		Reason: "Treezor support confirmed the file is lost", ExpectedStep: signals.StepOverdue,
		CloseAs: signals.OutcomeRefused, ReasonCode: "PROVIDER_LOST_FILE"}, &got)
	start := r.env.Now()
	o := r.execute()
	require.NoError(t, got.rejected)
	require.NoError(t, got.err)
	require.Equal(t, signals.OutcomeRefused, o.Status)
	require.Equal(t, bound+2*day, o.CompletedAt.Sub(start), "the operator's decision ends it at once")
	require.NotNil(t, o.DecidedBy)
	require.Equal(t, "ops-alice", o.DecidedBy.Operator)
	require.Equal(t, "PROVIDER_LOST_FILE", o.DecidedBy.ReasonCode)
	require.Equal(t, signals.ActionClose, o.DecidedBy.Action)
}

func TestOperatorExtendAndRecheck(t *testing.T) {
	t.Run("extend moves the hard limit", func(t *testing.T) {
		r := newRun(t)
		bound := overdueReview(r)
		var got, past actionResult
		start := r.env.Now()
		r.act(bound+time.Hour, "extend-1", signals.OperatorAction{Action: signals.ActionExtend, Operator: "ops-bob",
			NewDeadline: start.Add(bound + 30*day)}, &got)
		r.act(bound+2*time.Hour, "extend-past", signals.OperatorAction{Action: signals.ActionExtend, Operator: "ops-bob",
			NewDeadline: start.Add(bound + time.Hour)}, &past)
		o := r.execute()
		require.NoError(t, got.rejected)
		require.ErrorContains(t, past.rejected, "newDeadline must be in the future")
		require.Equal(t, signals.OutcomeReviewTimeout, o.Status)
		require.Equal(t, bound+30*day, o.CompletedAt.Sub(start), "review_timeout at the new limit")
		requireActions(t, o, signals.Decision{Action: signals.ActionExtend, Operator: "ops-bob", At: start.Add(bound + time.Hour)})
	})
	t.Run("recheck reads the provider now", func(t *testing.T) {
		r := newRun(t)
		r.method = signals.MethodSolarisIDnow
		r.env.OnActivity(sol.CreateIdentification, mock.Anything, mock.Anything).
			Return(activities.SolarisIdentification{ID: testIdent, Status: signals.SolarisStatusCreated}, nil)
		r.env.OnActivity(sol.RequestIdentification, mock.Anything, mock.Anything).
			Return(activities.SolarisIdentification{ID: testIdent, URL: testIDnowURL, Status: signals.SolarisStatusPending}, nil)
		start := r.env.Now()
		var reads []time.Duration
		r.env.OnActivity(sol.GetIdentification, mock.Anything, mock.Anything).Return(
			func(context.Context, activities.SolarisIdentRequest) (activities.SolarisIdentification, error) {
				reads = append(reads, r.env.Now().Sub(start))
				status := signals.SolarisStatusPendingSuccessful
				if len(reads) >= 2 { // the operator's read finds the decision, and it stays
					status = signals.SolarisStatusSuccessful
				}
				return activities.SolarisIdentification{ID: testIdent, Status: status}, nil
			})
		r.deliver([]event{{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingSuccessful)}})
		bound := time.Hour + day
		var got actionResult
		r.act(bound+30*time.Minute, "recheck-1", signals.OperatorAction{Action: signals.ActionRecheck, Operator: "ops-bob", Reason: "asked by support"}, &got)
		o := r.execute()
		require.NoError(t, got.rejected)
		requireActions(t, o, signals.Decision{Action: signals.ActionRecheck, Operator: "ops-bob", Reason: "asked by support", At: start.Add(bound + 30*time.Minute)})
		require.Nil(t, o.DecidedBy, "the provider decided, not the operator")
		require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
		require.Equal(t, []time.Duration{bound, bound + 30*time.Minute, bound + 30*time.Minute}, reads,
			"a read at the bound, the operator's read 30 minutes later (before the schedule's first, at 1 hour), then the documents")
	})
}

// TestOperatorApprovalNeedsFourEyes: a Yousign verification (the integrator decides its KYC) is approved by an
// operator only once a second, different operator confirms.
func TestOperatorApprovalNeedsFourEyes(t *testing.T) {
	r := newRun(t)
	r.yousignOK(signals.YousignStatusPending)
	var first, self, second actionResult
	approve := func(op string) signals.OperatorAction {
		return signals.OperatorAction{Action: signals.ActionApprove, Operator: op, Reason: "documents checked by hand"}
	}
	r.act(time.Minute, "approve-1", approve("ops-alice"), &first)
	r.act(2*time.Minute, "approve-2", approve("  OPS-Alice "), &self) // the same person, written otherwise
	r.act(3*time.Minute, "approve-3", approve("ops-bob"), &second)
	start := r.env.Now()
	o := r.executeYousign(2)
	require.NoError(t, first.rejected)
	require.Equal(t, "a second operator must confirm the approval", first.result.Pending)
	require.ErrorContains(t, self.rejected, "needs a second operator")
	require.NoError(t, second.rejected)
	require.Equal(t, signals.OutcomeApproved, o.Status)
	require.Equal(t, 3*time.Minute, o.CompletedAt.Sub(start))
	require.Equal(t, "ops-alice", o.DecidedBy.Operator)
	require.Equal(t, "ops-bob", o.DecidedBy.ConfirmedBy)
	var who []string
	for _, a := range o.OperatorActions {
		who = append(who, a.Action+" by "+a.Operator)
	}
	require.Equal(t, []string{"approve by ops-alice", "approve by ops-bob"}, who, "the refused self-confirmation is not recorded")
}

// TestOperatorActionsTheValidatorRefuses: each refused request is rejected before it enters the history and
// changes nothing (the verification then ends as the provider decides).
func TestOperatorActionsTheValidatorRefuses(t *testing.T) {
	tests := []struct {
		name   string
		action signals.OperatorAction
		want   string
	}{
		{"no operator", signals.OperatorAction{Action: signals.ActionClose, CloseAs: signals.OutcomeRefused, ReasonCode: "X"}, "say who acts"},
		{"approve where the partner bank decides", signals.OperatorAction{Action: signals.ActionApprove, Operator: "ops-alice"}, "cannot approve"},
		{"stale expected step", signals.OperatorAction{Action: signals.ActionClose, Operator: "ops-alice", ExpectedStep: signals.StepOverdue,
			CloseAs: signals.OutcomeRefused, ReasonCode: "X"}, "not overdue"},
		{"extend before overdue", signals.OperatorAction{Action: signals.ActionExtend, Operator: "ops-alice", NewDeadline: time.Now().Add(1000 * time.Hour)}, "only an overdue"},
		{"recheck before overdue", signals.OperatorAction{Action: signals.ActionRecheck, Operator: "ops-alice"}, "only an overdue"},
		{"close as approved", signals.OperatorAction{Action: signals.ActionClose, Operator: "ops-alice", CloseAs: signals.OutcomeApproved, ReasonCode: "X"}, "closeAs"},
		{"close without a reason code", signals.OperatorAction{Action: signals.ActionClose, Operator: "ops-alice", CloseAs: signals.OutcomeRefused}, "reasonCode"},
		{"unknown action", signals.OperatorAction{Action: "delete", Operator: "ops-alice"}, "not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t)
			r.treezorOK().deliver(happyEvents())
			var got actionResult
			r.act(5*time.Minute, "a-1", tt.action, &got) // awaiting the session's processing
			o := r.execute()
			require.ErrorContains(t, got.rejected, tt.want)
			require.Equal(t, signals.OutcomeApproved, o.Status, "the refused action changed nothing")
			require.Nil(t, o.DecidedBy)
		})
	}
}
