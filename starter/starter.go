// Package starter is the signup backend's side of kycflow: start a verification and get its identification URL
// in one round trip, hand the user a fresh URL, read a verification's status, cancel it, wait for its outcome,
// and list verifications, all through the Temporal client. The kycflow CLI (cmd/kycflow) is built on it.
//
// Every error is an *Error with a Kind that is itself an error: branch with errors.Is(err, starter.ErrNotFound)
// or errors.As(err, &e) for the details. The underlying Temporal error stays reachable with errors.As.
package starter

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/internal/temporalconn"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/signals"
)

// Starter starts and follows verifications.
type Starter struct {
	Client client.Client
}

// Dial connects to a Temporal frontend (client.Options.HostPort, Namespace). Close the Starter when done.
func Dial(ctx context.Context, opts client.Options) (*Starter, error) {
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		err = temporalconn.ExplainDialError(err, opts.ConnectionOptions.TLS != nil)
		return nil, classify(ctx, "dial", "", fmt.Errorf("%s: %w", opts.HostPort, err))
	}
	return &Starter{Client: c}, nil
}

// Close closes the Temporal client.
func (s *Starter) Close() { s.Client.Close() }

// Verification is a handle on a verification. The workflow ID alone is a complete handle (a backend that stored
// it, the CLI): with RunID empty, every call addresses the latest run for the ID. A handle returned by Start
// holds its run ID and keeps addressing that run after a later attempt started another.
type Verification struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId,omitempty"`
}

// VerificationFor is the handle of a subject's latest verification at a provider.
func VerificationFor(p signals.Provider, subject string) Verification {
	return Verification{WorkflowID: signals.WorkflowID(p, subject)}
}

// ParseVerification rebuilds a handle from a workflow ID, checking that it follows the kyc/<provider>/<subject>
// scheme; the error is an ErrInvalidRequest about the field "workflowId".
func ParseVerification(workflowID string) (Verification, error) {
	if _, _, err := splitWorkflowID(workflowID); err != nil {
		return Verification{}, invalid("parse", "workflowId", err)
	}
	return Verification{WorkflowID: workflowID}, nil
}

// providers are the providers in workflow IDs (signals lists the methods, not the providers).
var providers = []signals.Provider{signals.ProviderTreezor, signals.ProviderSolaris, signals.ProviderYousign}

func splitWorkflowID(id string) (signals.Provider, string, error) {
	rest, ok := strings.CutPrefix(id, "kyc/")
	provider, subject, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return "", "", fmt.Errorf("%q is not a verification workflow ID (kyc/<provider>/<subject>, e.g. %s)",
			id, signals.WorkflowID(signals.ProviderTreezor, "123456"))
	}
	p := signals.Provider(provider)
	if !slices.Contains(providers, p) {
		return "", "", fmt.Errorf("%q: unknown provider %q", id, provider)
	}
	if err := signals.ValidateSubject(subject); err != nil {
		return "", "", fmt.Errorf("%q: %w", id, err)
	}
	return p, subject, nil
}

// Status queries the verification's current step, deadlines, user-safe reasons and, while valid, its URL. A
// closed verification answers too (with its outcome), as long as a worker runs.
// Errors: ErrNotFound, ErrTimeout, ErrTemporalUnavailable.
func (s *Starter) Status(ctx context.Context, v Verification) (signals.Status, error) {
	return s.status(ctx, "status", v)
}

func (s *Starter) status(ctx context.Context, op string, v Verification) (signals.Status, error) {
	resp, err := s.Client.QueryWorkflow(ctx, v.WorkflowID, v.RunID, signals.QueryStatus)
	if err != nil {
		return signals.Status{}, classify(ctx, op, v.WorkflowID, err)
	}
	var st signals.Status
	if err := resp.Get(&st); err != nil {
		return signals.Status{}, &Error{Kind: ErrUnexpected, Op: op, WorkflowID: v.WorkflowID, Err: fmt.Errorf("decode status: %w", err)}
	}
	return st, nil
}

// Cancel asks the verification to stop; it ends with outcome "cancelled" (Wait returns it). The reason is for
// operators and is never shown to the user. Errors: ErrNotFound, ErrClosed (it ended first: read its outcome),
// ErrTimeout, ErrTemporalUnavailable.
func (s *Starter) Cancel(ctx context.Context, v Verification, reason string) error {
	err := s.Client.SignalWorkflow(ctx, v.WorkflowID, v.RunID, signals.SignalCancel, signals.CancelRequest{Reason: reason})
	if err == nil {
		return nil
	}
	e := classify(ctx, "cancel", v.WorkflowID, err)
	if e.Kind == ErrNotFound {
		// The frontend answers NotFound for a run that has already closed as well.
		desc, derr := s.Client.DescribeWorkflow(ctx, v.WorkflowID, v.RunID)
		if derr == nil && desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			e.Kind = ErrClosed
		}
	}
	return e
}

// Wait blocks until the verification ends and returns its outcome; bound it with ctx.
// Errors: ErrNotFound, ErrNoOutcome (terminated, timed out or failed workflow), ErrTimeout, ErrTemporalUnavailable.
func (s *Starter) Wait(ctx context.Context, v Verification) (signals.Outcome, error) {
	return s.wait(ctx, "wait", v)
}

func (s *Starter) wait(ctx context.Context, op string, v Verification) (signals.Outcome, error) {
	var o signals.Outcome
	if err := s.Client.GetWorkflow(ctx, v.WorkflowID, v.RunID).Get(ctx, &o); err != nil {
		return signals.Outcome{}, classify(ctx, op, v.WorkflowID, err)
	}
	return o, nil
}

// Environment variables OptionsFromEnv reads: the same the worker reads.
const (
	EnvTemporalAddress   = "TEMPORAL_ADDRESS"
	EnvTemporalNamespace = "TEMPORAL_NAMESPACE"
)

// OptionsFromEnv is the client configuration every kycflow process shares: the connection from the SDK's
// environment configuration, as the temporal CLI reads it (profile TEMPORAL_PROFILE of the TOML file
// TEMPORAL_CONFIG_FILE, overridden by TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default
// "default"), TEMPORAL_API_KEY, TEMPORAL_TLS_*...), TEMPORAL_GRPC_COMPRESSION (default none), and the payload key
// (KYCFLOW_PAYLOAD_KEY or KYCFLOW_PAYLOAD_KEY_FILE), without which a starter cannot read what an encrypting worker
// writes. Set a Logger before dialing; the SDK's default one logs to stdout.
func OptionsFromEnv(getenv func(string) string) (client.Options, error) {
	codec, err := payloadcodec.FromEnv(getenv)
	if err != nil {
		return client.Options{}, invalid("config", payloadcodec.EnvKey, err)
	}
	compression, err := temporalconn.Compression(getenv)
	if err != nil {
		return client.Options{}, invalid("config", temporalconn.EnvCompression, err)
	}
	conn, err := temporalconn.LoadConnection(getenv, os.Environ())
	if err != nil {
		return client.Options{}, invalid("config", "temporal", err)
	}
	return temporalconn.Settings{Connection: conn, Codec: codec, Compression: compression}.Options(nil), nil
}
