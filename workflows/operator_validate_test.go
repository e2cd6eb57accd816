package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

// TestValidatorRefusesWhenTheVerificationIsEnding covers the refusals a test environment cannot reach through an
// update: the test environment delivers none to a closed workflow, and a cancel or an operator's close ends the
// run in the task that records it. Against a real server a closed run refuses updates itself (starter TestAct:
// ErrClosed). The validator runs before the action enters the history, so a refused one leaves no trace there.
func TestValidatorRefusesWhenTheVerificationIsEnding(t *testing.T) {
	closeAction := signals.OperatorAction{Action: signals.ActionClose, Operator: "ops-alice", CloseAs: signals.OutcomeRefused, ReasonCode: "X"}
	tests := []struct {
		name  string
		state func(v *verification)
		want  string
	}{
		{"the outcome is set", func(v *verification) { v.outcome = &signals.Outcome{Status: signals.OutcomeApproved} }, "already ended"},
		{"another operator's close is accepted", func(v *verification) { v.operatorOutcome = &signals.Outcome{Status: signals.OutcomeCancelled} }, "already ended"},
		{"the backend asked to cancel", func(v *verification) { v.cancelRequested = true }, "being cancelled"},
		{"started by an earlier kycflow", func(v *verification) { v.changes.cancelInterrupts = false }, "earlier kycflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &verification{input: signals.VerificationInput{Method: signals.MethodTreezorQES}, step: signals.StepAwaitingUser,
				changes: changes{cancelInterrupts: true}}
			require.NoError(t, v.validateOperatorAction(nil, closeAction), "accepted before the change")
			tt.state(v)
			require.ErrorContains(t, v.validateOperatorAction(nil, closeAction), tt.want)
		})
	}
}
