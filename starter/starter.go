// Package starter is the signup backend's side of kycflow: start a verification and get its identification URL
// in one round trip, read its status, cancel it, and wait for its outcome, all through the Temporal client.
package starter

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/signals"
)

// Starter starts and follows verifications.
type Starter struct {
	Client client.Client
}

// Verification identifies a started verification.
type Verification struct {
	WorkflowID string
	RunID      string
}

// Start starts the verification, or joins the one already running for the same subject at the same provider,
// and returns its identification URL. It is one Update-with-Start call: USE_EXISTING makes a retried call return
// the same run and URL instead of opening a second provider session.
func (s *Starter) Start(ctx context.Context, in signals.VerificationInput) (Verification, signals.Identification, error) {
	if err := in.Validate(); err != nil {
		return Verification{}, signals.Identification{}, fmt.Errorf("invalid verification request: %w", err)
	}
	id := signals.WorkflowID(in.Method.Provider(), in.SubjectID)
	op := s.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                signals.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A closed verification does not block a new attempt.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         fmt.Sprintf("%s verification", in.Method),
	}, in.Method.WorkflowType(), in)
	h, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   signals.UpdateIdentificationURL,
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{signals.URLRequest{Method: in.Method}},
		},
	})
	if err != nil {
		return Verification{}, signals.Identification{}, fmt.Errorf("start %s verification %s: %w", in.Method, id, err)
	}
	var ident signals.Identification
	if err := h.Get(ctx, &ident); err != nil {
		return Verification{WorkflowID: id, RunID: h.RunID()}, signals.Identification{},
			fmt.Errorf("identification URL of %s: %w", id, err)
	}
	return Verification{WorkflowID: id, RunID: h.RunID()}, ident, nil
}

// Status queries the verification's current step, deadlines, user-safe reasons and, while valid, its URL.
func (s *Starter) Status(ctx context.Context, v Verification) (signals.Status, error) {
	resp, err := s.Client.QueryWorkflow(ctx, v.WorkflowID, v.RunID, signals.QueryStatus)
	if err != nil {
		return signals.Status{}, fmt.Errorf("status of %s: %w", v.WorkflowID, err)
	}
	var st signals.Status
	if err := resp.Get(&st); err != nil {
		return signals.Status{}, fmt.Errorf("decode status of %s: %w", v.WorkflowID, err)
	}
	return st, nil
}

// Cancel asks the verification to stop; it ends with outcome "cancelled".
func (s *Starter) Cancel(ctx context.Context, v Verification, reason string) error {
	err := s.Client.SignalWorkflow(ctx, v.WorkflowID, v.RunID, signals.SignalCancel, signals.CancelRequest{Reason: reason})
	if err != nil {
		return fmt.Errorf("cancel %s: %w", v.WorkflowID, err)
	}
	return nil
}

// Wait blocks until the verification ends and returns its outcome.
func (s *Starter) Wait(ctx context.Context, v Verification) (signals.Outcome, error) {
	var o signals.Outcome
	if err := s.Client.GetWorkflow(ctx, v.WorkflowID, v.RunID).Get(ctx, &o); err != nil {
		return signals.Outcome{}, fmt.Errorf("outcome of %s: %w", v.WorkflowID, err)
	}
	return o, nil
}
