package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/signals"
)

// ErrTypeOperatorActionRejected is the error type of an operator action the validator refused; the message says
// why. A refused action never enters the history.
const ErrTypeOperatorActionRejected = "OperatorActionRejected"

func rejectAction(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeOperatorActionRejected, nil)
}

// validateOperatorAction accepts an action only when it makes sense now, so that a mistaken or stale request
// leaves no trace in the history and changes nothing.
func (v *verification) validateOperatorAction(ctx workflow.Context, a signals.OperatorAction) error {
	switch {
	case strings.TrimSpace(a.Operator) == "":
		return rejectAction("operator: say who acts; the name is recorded with the decision")
	case !v.changes.cancelInterrupts:
		// Its waits cannot be interrupted: an accepted decision could be dropped.
		return rejectAction("this verification was started by an earlier kycflow, which takes no operator actions; cancel it instead")
	case v.outcome != nil || v.operatorOutcome != nil:
		return rejectAction("the verification has already ended")
	case v.cancelRequested:
		return rejectAction("the verification is being cancelled")
	case a.ExpectedStep != "" && a.ExpectedStep != v.step:
		return rejectAction("expectedStep: the verification is at step %s, not %s; look again before acting", v.step, a.ExpectedStep)
	}
	switch a.Action {
	case signals.ActionExtend:
		if v.step != signals.StepOverdue || v.overdue == nil {
			return rejectAction("extend: only an overdue verification's limit can be moved (step is %s)", v.step)
		}
		if !a.NewDeadline.After(workflow.Now(ctx)) {
			return rejectAction("extend: newDeadline must be in the future")
		}
	case signals.ActionRecheck:
		if v.step != signals.StepOverdue || v.overdue == nil || !v.overdueCanRead {
			return rejectAction("recheck: only an overdue verification whose provider offers a read can be read now")
		}
	case signals.ActionClose:
		if a.CloseAs != signals.OutcomeRefused && a.CloseAs != signals.OutcomeCancelled {
			return rejectAction("close: closeAs must be %s or %s", signals.OutcomeRefused, signals.OutcomeCancelled)
		}
		if strings.TrimSpace(a.ReasonCode) == "" {
			return rejectAction("close: reasonCode is required")
		}
	case signals.ActionApprove:
		// Treezor's and Solaris' KYC decision belongs to their partner bank's review; only where the integrator
		// decides (Yousign's video identification) may its operators approve.
		if v.input.Method != signals.MethodYousignVideo {
			return rejectAction("approve: %s is decided by the provider's review; an operator cannot approve it", v.input.Method)
		}
		if p := v.currentApproval(); p != nil && sameOperator(p.Operator, a.Operator) {
			return rejectAction("approve: the approval needs a second operator; %s recorded it already", a.Operator)
		}
	default:
		return rejectAction("action: %q is not one of extend, recheck, close, approve", a.Action)
	}
	return nil
}

// operatorAction carries out a validated action. The update's input, kept in the history, records who asked and
// why; a decision also goes into the outcome's DecidedBy.
func (v *verification) operatorAction(ctx workflow.Context, a signals.OperatorAction) (signals.OperatorActionResult, error) {
	d := signals.Decision{Action: a.Action, Operator: a.Operator, Reason: a.Reason, ReasonCode: a.ReasonCode, At: workflow.Now(ctx)}
	v.operatorActions = append(v.operatorActions, d)
	// The operator's name stays out of the log (it may be personal); the history and the outcome keep it.
	v.logger.Info("Operator action", "action", a.Action)
	v.metrics.operatorAction(a.Action)
	switch a.Action {
	case signals.ActionExtend:
		v.overdue.Limit = a.NewDeadline
		v.stepDeadline = a.NewDeadline
		// Kept for the same bound: a wait that re-enters it (the documents' wait, after each new document) keeps
		// the operator's limit.
		v.extension = &overdueExtension{bound: v.overdue.Since, limit: a.NewDeadline}
	case signals.ActionRecheck:
		v.recheckRequested = true
	case signals.ActionClose:
		v.decide(signals.Outcome{Status: a.CloseAs, Detail: "closed by an operator (" + a.ReasonCode + ")",
			UserMayRetry: a.CloseAs == signals.OutcomeCancelled, DecidedBy: &d})
	case signals.ActionApprove:
		if v.currentApproval() == nil {
			v.pendingApproval, v.approvalRef = &d, v.providerRef
			return signals.OperatorActionResult{Step: v.step, Pending: "a second operator must confirm the approval"}, nil
		}
		first := *v.pendingApproval
		first.ConfirmedBy = a.Operator
		v.decide(signals.Outcome{Status: signals.OutcomeApproved, Detail: "approved by two operators", DecidedBy: &first})
	}
	return signals.OperatorActionResult{Step: v.step}, nil
}

// currentApproval is the first operator's approval awaiting confirmation, if it was given for the provider session
// the verification follows now: a confirmation never approves a later attempt the first operator did not see.
func (v *verification) currentApproval() *signals.Decision {
	if v.pendingApproval == nil || v.approvalRef != v.providerRef {
		return nil
	}
	return v.pendingApproval
}

// sameOperator compares operator names as people write them: case and surrounding spaces do not make a second
// operator.
func sameOperator(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// decide ends the verification with an operator's outcome: the flow's waits return, and a provider call in flight
// is cancelled rather than waited for.
func (v *verification) decide(o signals.Outcome) {
	v.operatorOutcome = &o
	if v.cancelFlow != nil {
		v.cancelFlow()
	}
}
