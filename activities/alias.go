package activities

import (
	"context"
	"fmt"
	"time"

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
	// Retried for most of the activity's time: a Temporal or database restart of a few seconds must not leave a
	// reference without its alias (found in `make chaos`), and the provider call is not repeated for it.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(20 * time.Second)
	}
	deadline = deadline.Add(-3 * time.Second)
	var err error
	for pause := 200 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
		if err = a.start(ctx, info, p, ref); err == nil || temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			return
		}
		if time.Now().Add(pause).After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
	activity.GetLogger(ctx).Warn("Could not start the provider reference's alias; the relay will look the verification up in visibility",
		"provider", string(p), "error", fmt.Sprint(err))
}

func (a *Aliases) start(ctx context.Context, info activity.Info, p signals.Provider, ref string) error {
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
	return err
}
