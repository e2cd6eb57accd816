package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/signals"
)

// Aliases starts the reference aliases of package signals (see signals.AliasWorkflowID): the relay's way to route
// a webhook that names only a provider reference without a visibility query. A nil *Aliases starts none, and the
// relay falls back to visibility.
type Aliases struct {
	Client client.Client
}

// publish starts the alias of ref for the verification running the calling activity. It is best effort: a failure
// is logged and the activity goes on, since failing it would make the workflow retry the provider call and open a
// second provider session, and the relay still finds the verification through visibility.
func (a *Aliases) publish(ctx context.Context, p signals.Provider, ref string) {
	if a == nil || a.Client == nil || ref == "" {
		return
	}
	info := activity.GetInfo(ctx)
	_, err := a.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:         signals.AliasWorkflowID(p, ref),
		TaskQueue:  info.TaskQueue,
		StartDelay: signals.AliasLife,
		Memo: map[string]any{signals.AliasMemoKey: signals.AliasTarget{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		}},
		// An activity retried after the provider gave the same reference finds the alias it started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, signals.AliasWorkflowType)
	if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		activity.GetLogger(ctx).Warn("Could not start the provider reference's alias; the relay will look the verification up in visibility",
			"provider", string(p), "error", fmt.Sprint(err))
	}
}
