// Package relay is kycflow's webhook relay: a stateless HTTP service that receives the webhooks of Treezor,
// Solaris and Yousign, verifies their signatures over the bytes as received, decodes them into the payloads of
// package signals, and signals the verification workflow they concern.
//
// The relay acknowledges a webhook only once Temporal has accepted the signal, so that the provider retries
// whatever could not be delivered:
//
//	401  bad or missing signature (fail-closed: a provider without a secret accepts nothing); Treezor gets 500
//	     instead, as its guide asks, so that it retries an event signed with a secret the relay does not know yet
//	400  malformed body, with a short reason as {"error":"..."}
//	413  body above the size limit
//	503  Temporal unreachable or too slow: the provider retries, nothing is lost
//	200  signalled, or verified but wanted by no running workflow (logged and counted, never retried)
//
// Nothing personal is logged or used as a metric label: log lines carry the provider, the event type, the result,
// the workflow ID and the provider's event ID only.
package relay

import (
	"context"
	"errors"
	"fmt"

	"github.com/kycflow/kycflow/signals"
)

// Signaler is what the relay needs from Temporal. TemporalSignaler implements it over a Temporal client; tests
// use fakes.
type Signaler interface {
	// Signal delivers a signal to a workflow; an empty runID means the workflow's latest run. It returns an error
	// wrapping ErrClosed when the run has already closed, and ErrNotFound when the workflow does not exist.
	Signal(ctx context.Context, workflowID, runID, signal string, payload any) error
	// FindByAlias returns the run whose reference alias (signals.AliasWorkflowID) names providerReference, with a
	// strongly consistent read, or an error wrapping ErrNotFound when no alias exists (yet, or ever: a verification
	// started before aliases, or whose alias could not be started). The run may have closed since.
	FindByAlias(ctx context.Context, provider signals.Provider, providerReference string) (workflowID, runID string, err error)
	// FindRunning returns the running workflow whose KycProviderReference search attribute equals
	// providerReference, or an error wrapping ErrNotFound when no running workflow has it (yet: visibility is
	// eventually consistent).
	FindRunning(ctx context.Context, providerReference string) (workflowID, runID string, err error)
	// ClosedWithReference reports whether a closed workflow carries the provider reference: an event for it is
	// late, not early, and retrying it helps nobody.
	ClosedWithReference(ctx context.Context, providerReference string) (bool, error)
	// CheckHealth reports whether Temporal answers.
	CheckHealth(ctx context.Context) error
}

// ErrNotFound means no running workflow wants the event: the workflow does not exist, has closed, or no running
// workflow carries the provider reference. Any other Signaler error means Temporal could not be asked.
var ErrNotFound = errors.New("no running workflow")

// ErrClosed is the ErrNotFound of a workflow that exists but has already closed: the verification was decided, so
// the event is late (a provider's redelivery, a reconciliation already read it), not early.
var ErrClosed = fmt.Errorf("the verification has already closed: %w", ErrNotFound)

// ErrAmbiguous means more than one running workflow carries the same provider reference. The relay signals none
// of them and treats the event like one nobody wants.
var ErrAmbiguous = errors.New("several running workflows carry the provider reference")
