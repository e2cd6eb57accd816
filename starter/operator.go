package starter

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/signals"
)

// actAttempts bounds how often Act sends an action whose workflow task failed: a task that fails every time (a
// workflow bug) is reported, not retried for ever.
const actAttempts = 5

// sleep waits d, or less if ctx ends first; it reports whether the wait was whole.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

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
	opts := client.UpdateWorkflowOptions{
		WorkflowID:   v.WorkflowID,
		RunID:        v.RunID,
		UpdateID:     uuid.NewString(), // one action: the same ID on every attempt
		UpdateName:   signals.UpdateOperatorAction,
		Args:         []any{a},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	var (
		res signals.OperatorActionResult
		err error
	)
	// The server aborts an update whose workflow task failed (WorkflowNotReady), and nothing of it was applied.
	// A close that ends the run fails its task when another event reached the run meanwhile (a provider read's
	// result, a webhook: the server refuses a completion with new events), so the action is sent again, a few
	// times, as one.
	for attempt := 0; ; attempt++ {
		var h client.WorkflowUpdateHandle
		if h, err = s.Client.UpdateWorkflow(ctx, opts); err == nil {
			err = h.Get(ctx, &res)
		}
		var notReady *serviceerror.WorkflowNotReady
		if err == nil || !errors.As(err, &notReady) || attempt == actAttempts-1 || !sleep(ctx, time.Duration(50<<attempt)*time.Millisecond) {
			break
		}
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
