package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/kycflow/kycflow/signals"
)

// TemporalSignaler is the Signaler over a Temporal client.
type TemporalSignaler struct {
	Client client.Client
	// DataConverter decodes the aliases' memos; it must be the client's (payloadcodec.DataConverter with the
	// namespace's keys). Nil is the SDK's default.
	DataConverter converter.DataConverter
}

var _ Signaler = (*TemporalSignaler)(nil)

// Signal sends the signal. A closed run becomes ErrClosed, an unknown workflow ErrNotFound.
func (t *TemporalSignaler) Signal(ctx context.Context, workflowID, runID, signal string, payload any) error {
	err := t.Client.SignalWorkflow(ctx, workflowID, runID, signal, payload)
	if err == nil {
		return nil
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		// Temporal answers NotFound both for an unknown workflow and for a closed one; a person reading the
		// relay's log needs to know which (a wrong user ID, or a decision already taken).
		if _, derr := t.Client.DescribeWorkflowExecution(ctx, workflowID, runID); derr == nil {
			return fmt.Errorf("signal %s to %s: %w", signal, workflowID, ErrClosed)
		}
		return fmt.Errorf("signal %s to %s: %w (%v)", signal, workflowID, ErrNotFound, err)
	}
	return fmt.Errorf("signal %s to %s: %w", signal, workflowID, err)
}

// FindByAlias reads the reference's alias workflow with DescribeWorkflowExecution (strongly consistent, not rate
// limited like visibility) and returns the run its memo names.
func (t *TemporalSignaler) FindByAlias(ctx context.Context, provider signals.Provider, providerReference string) (string, string, error) {
	alias := signals.AliasWorkflowID(provider, providerReference)
	resp, err := t.Client.DescribeWorkflowExecution(ctx, alias, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return "", "", fmt.Errorf("alias %s: %w", alias, ErrNotFound)
	case err != nil:
		return "", "", fmt.Errorf("read alias %s: %w", alias, err)
	}
	memo := resp.GetWorkflowExecutionInfo().GetMemo().GetFields()[signals.AliasMemoKey]
	if memo == nil {
		return "", "", fmt.Errorf("alias %s names no verification: %w", alias, ErrNotFound)
	}
	dc := t.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var target signals.AliasTarget
	if err := dc.FromPayload(memo, &target); err != nil || target.WorkflowID == "" {
		// A relay without the namespace's payload key: say so, and fall back to visibility.
		return "", "", fmt.Errorf("alias %s: its memo cannot be read (is KYCFLOW_PAYLOAD_KEY the worker's?): %v: %w", alias, err, ErrNotFound)
	}
	return target.WorkflowID, target.RunID, nil
}

// FindRunning asks visibility for the running workflow that carries the reference.
func (t *TemporalSignaler) FindRunning(ctx context.Context, providerReference string) (string, string, error) {
	resp, err := t.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:    RunningByReferenceQuery(providerReference),
		PageSize: 2,
	})
	if err != nil {
		return "", "", fmt.Errorf("find the workflow of provider reference %s: %w", providerReference, err)
	}
	execs := resp.GetExecutions()
	switch len(execs) {
	case 0:
		return "", "", fmt.Errorf("provider reference %s: %w", providerReference, ErrNotFound)
	case 1:
		e := execs[0].GetExecution()
		return e.GetWorkflowId(), e.GetRunId(), nil
	}
	return "", "", fmt.Errorf("provider reference %s: %w (%s, %s, ...)", providerReference, ErrAmbiguous,
		execs[0].GetExecution().GetWorkflowId(), execs[1].GetExecution().GetWorkflowId())
}

// ClosedWithReference asks visibility whether any workflow, closed ones included, carries the reference. The relay
// asks only once a lookup for a running one has given up, so it costs a visibility request on that path alone.
func (t *TemporalSignaler) ClosedWithReference(ctx context.Context, providerReference string) (bool, error) {
	resp, err := t.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:    ByReferenceQuery(providerReference),
		PageSize: 1,
	})
	if err != nil {
		return false, fmt.Errorf("find a closed workflow of provider reference %s: %w", providerReference, err)
	}
	return len(resp.GetExecutions()) > 0, nil
}

// CheckHealth calls Temporal's health check.
func (t *TemporalSignaler) CheckHealth(ctx context.Context) error {
	_, err := t.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// queryQuoteEscaper escapes backslashes and single quotes inside a single-quoted visibility query string.
var queryQuoteEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// RunningByReferenceQuery is the visibility query for the running workflow whose KycProviderReference is ref.
// The relay only passes references that ValidReference accepts; quotes and backslashes are escaped all the same.
func RunningByReferenceQuery(ref string) string {
	return ByReferenceQuery(ref) + " AND ExecutionStatus = 'Running'"
}

// ByReferenceQuery is the visibility query for every workflow, open or closed, whose KycProviderReference is ref.
func ByReferenceQuery(ref string) string {
	return fmt.Sprintf("%s = '%s'", signals.AttrProviderReference.GetName(), queryQuoteEscaper.Replace(ref))
}

// ValidReference reports whether a provider's identification or verification ID is safe to look up: 1 to 128
// characters among letters, digits and . _ : - (Solaris and Yousign IDs are hex strings and UUIDs).
func ValidReference(ref string) bool {
	if ref == "" || len(ref) > 128 {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}
