package starter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/signals"
)

// Kind is what went wrong, in terms a caller can act on. Every error this package returns is an *Error carrying
// one Kind, and every Kind is itself an error, so both of these work:
//
//	if errors.Is(err, starter.ErrUserDataIncomplete) { ... }
//
//	var e *starter.Error
//	if errors.As(err, &e) && e.Kind == starter.ErrInvalidRequest { log(e.Field) }
//
// The string value is stable: the CLI prints it in its JSON errors.
type Kind string

// The kinds of error.
const (
	// ErrInvalidRequest: the request is malformed; Error.Field names the input field (JSON name) at fault.
	ErrInvalidRequest Kind = "invalid_request"
	// ErrUserDataIncomplete: the provider refused to open a session because the user's data is incomplete
	// (Treezor HTTP 428: firstname, lastname and birthday for a live verification; firstname, lastname, email,
	// country and phone for QES and video conference). Complete it, then start again.
	ErrUserDataIncomplete Kind = "user_data_incomplete"
	// ErrProviderUnavailable: the provider could not be reached or kept failing (5xx, 429, timeouts) until kycflow's
	// retries ran out. The verification has ended; a new Start later may succeed.
	ErrProviderUnavailable Kind = "provider_unavailable"
	// ErrProviderRejected: the provider refused to open a session with an answer no retry changes (an unknown
	// user, a feature not enabled on the account, credentials it rejects, a provider not configured on the
	// worker). The verification has ended; starting again fails the same way until the subject or the
	// configuration is fixed, so do not retry: the error's message names the provider's answer.
	ErrProviderRejected Kind = "provider_rejected"
	// ErrActionRejected: the verification refused an operator's action (Act); the message says why (a stale
	// expectedStep, an approval that needs a second operator, an action that does not apply at this step). Nothing
	// was recorded.
	ErrActionRejected Kind = "action_rejected"
	// ErrSessionOpen: the subject's previous Treezor live verification ended (cancelled, closed) while they could
	// still be in its session, and Treezor asks not to request a new one before the previous is completed (a new
	// one replaces it). Error.RetryAfter says when a new Start will be accepted.
	ErrSessionOpen Kind = "session_open"
	// ErrMethodMismatch: a verification of another method is running for the subject; cancel it or wait for it.
	ErrMethodMismatch Kind = "method_mismatch"
	// ErrNotFound: no verification has this workflow ID.
	ErrNotFound Kind = "not_found"
	// ErrClosed: the verification has already ended (Cancel came too late, or the run ended before it issued a
	// URL, for example because it was cancelled while initiating). Wait returns its outcome.
	ErrClosed Kind = "closed"
	// ErrNoURL: the verification is running but has no URL to hand out: the user has done their part and the
	// provider or the KYC review is deciding.
	ErrNoURL Kind = "no_url"
	// ErrNoOutcome: the verification's workflow ended without an outcome (terminated, timed out, or failed in
	// the workflow); an operator should look at it in the Temporal UI.
	ErrNoOutcome Kind = "no_outcome"
	// ErrTemporalUnavailable: the Temporal frontend did not answer (gRPC Unavailable, or a server-side
	// DeadlineExceeded). Nothing may have happened; retrying the same call is safe.
	ErrTemporalUnavailable Kind = "temporal_unavailable"
	// ErrTimeout: the caller's context deadline passed first, for example while the provider was still issuing
	// the URL. Retrying Start is safe: it joins the same verification.
	ErrTimeout Kind = "timeout"
	// ErrCanceled: the caller's context was cancelled.
	ErrCanceled Kind = "canceled"
	// ErrUnexpected: anything else (a namespace that does not exist, a permission problem, a bug).
	ErrUnexpected Kind = "unexpected"
)

var kindText = map[Kind]string{
	ErrInvalidRequest:      "invalid verification request",
	ErrUserDataIncomplete:  "the user's data at the provider is incomplete",
	ErrProviderUnavailable: "the provider is unavailable; try again later",
	ErrProviderRejected:    "the provider refused to open an identification session; retrying will not help",
	ErrActionRejected:      "the verification refused the operator action",
	ErrSessionOpen:         "the user's previous live verification session may still complete; start a new one after it expires",
	ErrMethodMismatch:      "a verification of another method is running for this subject",
	ErrNotFound:            "verification not found",
	ErrClosed:              "the verification has already ended",
	ErrNoURL:               "the verification has no identification URL to hand out",
	ErrNoOutcome:           "the verification ended without an outcome",
	ErrTemporalUnavailable: "Temporal is unavailable",
	ErrTimeout:             "timed out",
	ErrCanceled:            "canceled",
	ErrUnexpected:          "unexpected error",
}

// Error describes the kind of error.
func (k Kind) Error() string {
	if t, ok := kindText[k]; ok {
		return t
	}
	return string(k)
}

// Error is the error every operation of this package returns.
type Error struct {
	Kind Kind
	// Op is the operation: start, renew, status, cancel, wait, list, dial.
	Op string
	// WorkflowID is the verification concerned, when there is one.
	WorkflowID string
	// Field is the input field at fault (JSON name: "subjectId", "yousign", "deadlines.review"); ErrInvalidRequest
	// only.
	Field string
	// Cause is the failure type the workflow reported (a signals.Cause* value, or one of the workflows' error
	// types: MethodMismatch, InvalidInput, ...), when it reported one.
	Cause string
	// RetryAfter is when the call may succeed; ErrSessionOpen only.
	RetryAfter time.Time
	// Err is the underlying error: a *temporal.ApplicationError, a serviceerror, a context error, a validation error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.WorkflowID != "" {
		b.WriteString(" " + e.WorkflowID)
	}
	b.WriteString(": " + e.Kind.Error())
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(e.Err, &appErr):
		// Its message, without the "(type: ..., retryable: false)" that Error adds: Kind and Cause say that.
		b.WriteString(": " + appErr.Message())
	case e.Err != nil:
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the Kind (for errors.Is) and the underlying error (for errors.As on Temporal's error types).
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// invalid is an ErrInvalidRequest about one field.
func invalid(op, field string, err error) *Error {
	return &Error{Kind: ErrInvalidRequest, Op: op, Field: field, Err: err}
}

// Validate checks a request before anything is sent, with the same rules the workflow applies. The error is an
// *Error of kind ErrInvalidRequest whose Field names the offending input field.
func Validate(in signals.VerificationInput) error {
	return validate("validate", in)
}

func validate(op string, in signals.VerificationInput) error {
	if err := in.ValidateForStart(); err != nil {
		return invalid(op, validationField(err), err)
	}
	// The workflow cannot read a clock to validate its input; the age of a proof of address is checked here (and
	// again by the activity that sends it).
	if p := in.ProofOfAddress; p != nil {
		if err := p.CheckAge(time.Now()); err != nil {
			return invalid(op, "proofOfAddress", fmt.Errorf("proofOfAddress: %w", err))
		}
	}
	return nil
}

// validationField reads the field name signals.VerificationInput.Validate puts before the first colon
// ("subjectId: subject ID is empty").
func validationField(err error) string {
	field, _, ok := strings.Cut(err.Error(), ":")
	if !ok || strings.ContainsAny(field, " \"") {
		return ""
	}
	return field
}

// classify turns an error from the Temporal client into an *Error. ctx is the caller's context: its deadline
// tells a timeout of the caller from a frontend that does not answer.
func classify(ctx context.Context, op, workflowID string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	e = &Error{Kind: ErrUnexpected, Op: op, WorkflowID: workflowID, Err: err}
	var (
		unavailable   *serviceerror.Unavailable
		deadline      *serviceerror.DeadlineExceeded
		canceled      *serviceerror.Canceled
		updateTimeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
		notFound      *serviceerror.NotFound
		nsNotFound    *serviceerror.NamespaceNotFound
		execErr       *temporal.WorkflowExecutionError
		appErr        *temporal.ApplicationError
	)
	// The frontend reports a long poll it cut short for the caller's deadline as Unavailable "context deadline
	// exceeded"; any other Unavailable means it could not be reached (a refused connection, retried until the
	// caller's deadline, is an outage, not a slow provider).
	unreachable := errors.As(err, &unavailable) && !strings.Contains(unavailable.Message, "deadline exceeded")
	// A deadline cut the call short: the caller's, or the frontend's own.
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline) || errors.As(err, &updateTimeout) ||
		errors.As(err, &unavailable)
	switch {
	case errors.As(err, &execErr):
		// Wait: the workflow ended without returning an Outcome.
		e.Kind = ErrNoOutcome
		if errors.As(err, &appErr) {
			e.Cause = appErr.Type()
		}
	case errors.As(err, &appErr):
		// The workflow's answer (a failed or rejected update) stands even if the deadline passed meanwhile.
		e.Cause = appErr.Type()
		e.Kind = kindOfFailure(appErr.Type())
	case errors.As(err, &notFound):
		e.Kind = ErrNotFound
	case errors.As(err, &nsNotFound):
		// A server that has just restarted answers this for a moment before its namespace registry is loaded
		// (seen in `make chaos`): retry. A namespace that does not exist stays unavailable, and says so.
		e.Kind = ErrTemporalUnavailable
		e.Err = fmt.Errorf("%w (a server that has just restarted says so for a moment; otherwise check TEMPORAL_NAMESPACE)", err)
	case unreachable:
		e.Kind = ErrTemporalUnavailable
	case timedOut && callerDeadlineReached(ctx):
		e.Kind = ErrTimeout
	case errors.Is(err, context.Canceled) || errors.As(err, &canceled) || errors.Is(ctx.Err(), context.Canceled):
		e.Kind = ErrCanceled
	case timedOut:
		// The frontend gave up on its own while the caller still had time.
		e.Kind = ErrTemporalUnavailable
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.Kind = ErrTimeout
	}
	return e
}

// callerDeadlineReached reports whether the caller's deadline has passed or is about to: the frontend, which
// receives the deadline with the call, may give up a moment before the client's context notices.
func callerDeadlineReached(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < time.Second
}

// kindOfFailure maps the error type of a failed identification_url update (the workflow's failure cause or one of
// its ErrType constants) to a Kind.
func kindOfFailure(typ string) Kind {
	switch typ {
	case signals.CauseUserDataIncomplete:
		return ErrUserDataIncomplete
	case signals.CauseProviderUnavailable:
		return ErrProviderUnavailable
	case signals.CauseProviderRejected:
		return ErrProviderRejected
	case errTypeMethodMismatch:
		return ErrMethodMismatch
	case errTypeInvalidInput:
		return ErrInvalidRequest
	case errTypeOperatorActionRejected:
		return ErrActionRejected
	case errTypeNoURL:
		return ErrNoURL
	}
	// The run ended before it issued a URL without a provider failure: cancelled while initiating.
	return ErrClosed
}

// The workflows' error types (workflows.ErrType*), repeated here so that a backend importing this package does
// not link the worker's workflows and provider clients; a test keeps them equal.
const (
	errTypeInvalidInput           = "InvalidInput"
	errTypeMethodMismatch         = "MethodMismatch"
	errTypeOperatorActionRejected = "OperatorActionRejected"
	errTypeNoURL                  = "NoURL"
)
