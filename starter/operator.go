package starter

import (
	"context"
	"errors"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/signals"
)

// Act sends an operator's action (extend, recheck, close, approve) to a running verification, as the
// operator_action update. The workflow validates it first: a refused action is ErrActionRejected, whose message
// says why, and never enters the history. An approval takes two different operators: the first call's result is
// Pending, the second ends the verification approved.
// Errors: ErrInvalidRequest (no operator, before anything is sent), ErrActionRejected, ErrNotFound, ErrClosed,
// ErrTimeout, ErrTemporalUnavailable.
func (s *Starter) Act(ctx context.Context, v Verification, a signals.OperatorAction) (signals.OperatorActionResult, error) {
	if strings.TrimSpace(a.Operator) == "" {
		return signals.OperatorActionResult{}, invalid("act", "operator", errors.New("operator: say who acts; the name is recorded with the decision"))
	}
	h, err := s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   v.WorkflowID,
		RunID:        v.RunID,
		UpdateName:   signals.UpdateOperatorAction,
		Args:         []any{a},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res signals.OperatorActionResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err == nil {
		return res, nil
	}
	e := classify(ctx, "act", v.WorkflowID, err)
	if e.Kind == ErrNotFound {
		// The frontend answers NotFound for an update to a run that has already closed as well.
		desc, derr := s.Client.DescribeWorkflow(ctx, v.WorkflowID, v.RunID)
		if derr == nil && desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			e.Kind = ErrClosed
		}
	}
	return signals.OperatorActionResult{}, e
}
