package starter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/signals"
)

// StartOption tunes a Start.
type StartOption func(*startOptions)

type startOptions struct {
	idempotencyKey string
}

// IdempotencyKey names the backend's attempt (its verification request's ID, an HTTP Idempotency-Key). The
// update ID is then derived from the workflow ID, the method and the key, and the server answers a retried call
// with the first call's result, even after the verification has closed. A new attempt needs a new key.
func IdempotencyKey(key string) StartOption {
	return func(o *startOptions) { o.idempotencyKey = key }
}

// updateID derives the ID of an identification_url update from its parts; hashed, so any key fits.
func updateID(workflowID string, m signals.Method, key string) string {
	sum := sha256.Sum256([]byte(workflowID + "\x00" + string(m) + "\x00" + key))
	return signals.UpdateIdentificationURL + "/" + string(m) + "/" + hex.EncodeToString(sum[:12])
}

// Start starts the verification, or joins the one already running for the same subject at the same provider,
// and returns its identification URL: one Update-with-Start call. USE_EXISTING makes a repeated call return the
// running verification and its URL instead of opening a second provider session; once a verification has
// closed, a new start begins a new attempt (ALLOW_DUPLICATE). A start that joins a running verification keeps
// that verification's options (redirect URL, deadlines); the new request's are not applied.
//
// Each call sends its own update ID unless IdempotencyKey names the attempt. The ID is deliberately not derived
// from the workflow ID and method alone: the server answers an update ID that the closed current run completed
// with that run's result instead of starting a new run, so such an ID would pin every later attempt to the first
// one's URL or failure (a Treezor 428 even after the user completed their data).
//
// Errors: ErrInvalidRequest (before anything is sent), ErrUserDataIncomplete, ErrProviderUnavailable (retry
// later), ErrProviderRejected (do not retry), ErrMethodMismatch, ErrClosed, ErrTimeout, ErrTemporalUnavailable.
// The returned handle names the verification whenever the call reached Temporal, so that a failed start's
// outcome can still be read with Wait.
func (s *Starter) Start(ctx context.Context, in signals.VerificationInput, opts ...StartOption) (Verification, signals.Identification, error) {
	if err := validate("start", in); err != nil {
		return Verification{}, signals.Identification{}, err
	}
	var o startOptions
	for _, opt := range opts {
		opt(&o)
	}
	id := ""
	if o.idempotencyKey != "" {
		id = updateID(signals.WorkflowID(in.Method.Provider(), in.SubjectID), in.Method, o.idempotencyKey)
	}
	return s.start(ctx, "start", in, id)
}

// start sends the Update-with-Start; an empty updateID lets the SDK pick a fresh one (kept across its retries).
func (s *Starter) start(ctx context.Context, op string, in signals.VerificationInput, updateID string) (Verification, signals.Identification, error) {
	v := Verification{WorkflowID: signals.WorkflowID(in.Method.Provider(), in.SubjectID)}
	if in.Method == signals.MethodTreezorLiveness {
		if err := s.previousSessionDone(ctx, op, v.WorkflowID); err != nil {
			return v, signals.Identification{}, err
		}
	}
	startOp := s.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       v.WorkflowID,
		TaskQueue:                signals.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A closed verification does not block a new attempt.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         fmt.Sprintf("%s verification", in.Method),
		// Set with the start: the workflow then has nothing to upsert before its first step change.
		TypedSearchAttributes: signals.InitialSearchAttributes(in.Method),
	}, in.Method.WorkflowType(), in)
	h, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: startOp,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     updateID,
			UpdateName:   signals.UpdateIdentificationURL,
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{signals.URLRequest{Method: in.Method}},
		},
	})
	if err != nil {
		return v, signals.Identification{}, classify(ctx, op, v.WorkflowID, err)
	}
	v.RunID = h.RunID()
	var ident signals.Identification
	if err := h.Get(ctx, &ident); err != nil {
		return v, signals.Identification{}, classify(ctx, op, v.WorkflowID, err)
	}
	return v, ident, nil
}

// previousSessionDone refuses a new Treezor live verification while the subject's previous one may still complete.
// Seed 001: "Please don't call the /v1/users/{userId}/kycliveness endpoint for a given user before the previous
// live verification is completed. When this situation occurs: The newer request replaces the previous one." A run
// that ended while its user could still be in the session (a cancel, an operator's close) says until when in its
// outcome (SessionOpenUntil). A running verification is no obstacle: the Update-with-Start joins it.
func (s *Starter) previousSessionDone(ctx context.Context, op, workflowID string) error {
	desc, err := s.Client.DescribeWorkflow(ctx, workflowID, "")
	if err != nil {
		if e := classify(ctx, op, workflowID, err); e.Kind != ErrNotFound {
			return e
		}
		return nil
	}
	if desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		return nil
	}
	var previous signals.Outcome
	if err := s.Client.GetWorkflow(ctx, workflowID, desc.WorkflowExecution.RunID).Get(ctx, &previous); err != nil {
		return classify(ctx, op, workflowID, err)
	}
	if until := previous.SessionOpenUntil; until != nil && time.Now().Before(*until) {
		return &Error{Kind: ErrSessionOpen, Op: op, WorkflowID: workflowID, RetryAfter: *until,
			Err: fmt.Errorf("the previous live verification (run %s, %s) may be completed until %s",
				desc.WorkflowExecution.RunID, previous.Status, until.UTC().Format(time.RFC3339))}
	}
	return nil
}

// Renew hands the user a URL that works now, where the method allows it:
//   - no verification yet, or the latest has closed (an expired link, a cancellation, an outcome that invites a
//     new attempt): it starts a new one, as Start does;
//   - the running verification has a valid URL (an IDnow link after an abort, a Yousign session the workflow
//     reopened after an inconclusive result): that URL;
//   - the running verification is opening a session: it waits for the session's URL;
//   - its URL has just expired and the run has not ended yet: it waits for the run to end, then starts anew;
//   - a Yousign verification whose URL is spent, or that waits for the user after an inconclusive result: the
//     workflow opens a new Yousign verification at once and hands out its URL.
//
// Whether a new attempt suits the previous outcome (approved, fraud_suspected) is the caller's decision: read it
// with Wait first. Errors: those of Start, and ErrNoURL when the user has done their part and the provider or the
// review is deciding.
func (s *Starter) Renew(ctx context.Context, in signals.VerificationInput) (Verification, signals.Identification, error) {
	if err := validate("renew", in); err != nil {
		return Verification{}, signals.Identification{}, err
	}
	v := Verification{WorkflowID: signals.WorkflowID(in.Method.Provider(), in.SubjectID)}
	desc, err := s.Client.DescribeWorkflow(ctx, v.WorkflowID, "")
	if err != nil {
		if e := classify(ctx, "renew", v.WorkflowID, err); e.Kind != ErrNotFound {
			return v, signals.Identification{}, e
		}
		return s.start(ctx, "renew", in, "")
	}
	v.RunID = desc.WorkflowExecution.RunID
	if desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return s.startAfter(ctx, in, v)
	}
	st, err := s.status(ctx, "renew", v)
	if err != nil {
		return v, signals.Identification{}, err
	}
	if st.Method != in.Method {
		return v, signals.Identification{}, &Error{Kind: ErrMethodMismatch, Op: "renew", WorkflowID: v.WorkflowID,
			Err: fmt.Errorf("a %s verification is running; cancel it or wait for it before starting %s", st.Method, in.Method)}
	}
	switch {
	case st.IdentificationURL != "" && (st.URLExpiresAt == nil || st.URLExpiresAt.After(time.Now())):
		ident := signals.Identification{URL: st.IdentificationURL, WorkflowID: v.WorkflowID}
		if st.URLExpiresAt != nil {
			ident.ExpiresAt = *st.URLExpiresAt
		}
		return v, ident, nil
	case in.Method == signals.MethodYousignVideo && st.Step == signals.StepAwaitingUser:
		// Its URL is spent (15 minutes; seed 004's IDVV_1121), or it waits for the user after an inconclusive
		// result: asking for the URL opens a new Yousign verification at once, in the same run (the workflow
		// refuses when no attempt is left). Not at provider_processing: Yousign may still send, or a read may still
		// confirm, the spent verification's result.
		return s.awaitURL(ctx, v, in.Method)
	case st.IdentificationURL != "" || st.Step == signals.StepAwaitingUser:
		// The URL has expired (the status query no longer shows it) and the run waits out the grace for a late
		// webhook before it ends "expired"; the new attempt follows it.
		if _, err := s.wait(ctx, "renew", v); err != nil {
			return v, signals.Identification{}, err
		}
		return s.startAfter(ctx, in, v)
	case st.Step == signals.StepInitiating:
		return s.awaitURL(ctx, v, in.Method)
	}
	return v, signals.Identification{}, &Error{Kind: ErrNoURL, Op: "renew", WorkflowID: v.WorkflowID,
		Err: fmt.Errorf("the verification is at step %s", st.Step)}
}

// startAfter starts the attempt that follows a closed run. The update ID names that run, so that concurrent or
// retried renewals after it share one new run and one update.
func (s *Starter) startAfter(ctx context.Context, in signals.VerificationInput, closed Verification) (Verification, signals.Identification, error) {
	return s.start(ctx, "renew", in, updateID(closed.WorkflowID, in.Method, "after "+closed.RunID))
}

func (s *Starter) awaitURL(ctx context.Context, v Verification, m signals.Method) (Verification, signals.Identification, error) {
	h, err := s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   v.WorkflowID,
		RunID:        v.RunID,
		UpdateName:   signals.UpdateIdentificationURL,
		WaitForStage: client.WorkflowUpdateStageCompleted,
		Args:         []any{signals.URLRequest{Method: m}},
	})
	if err != nil {
		return v, signals.Identification{}, classify(ctx, "renew", v.WorkflowID, err)
	}
	var ident signals.Identification
	if err := h.Get(ctx, &ident); err != nil {
		return v, signals.Identification{}, classify(ctx, "renew", v.WorkflowID, err)
	}
	return v, ident, nil
}
