package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// localReadTimeout bounds the one attempt a gathering read makes as a local activity. A provider that answers
// reads in well under a second answers within it; one that does not is retried as a regular activity. It stays
// under 80% of the workflow task timeout (10 s), past which the worker heartbeats the open workflow task: three
// history events, and a billable action, each time.
const localReadTimeout = 5 * time.Second

// readProvider runs one read of the provider's state (a GET) and decodes its result into result.
//
// A gathering read (changes.localGatheringReads; every read at version 13) makes its first attempt as a local activity: the worker that runs the
// workflow task makes the call and records its result as a marker in the task's completion, where a regular
// activity costs the engine an activity task and a workflow task (six history events, their database writes and
// dispatches). A read changes nothing at the provider, so running it again is harmless.
//
// Gathering means the flow goes on waiting or calling after the read, in this workflow task: the documents
// listed before Treezor's review, the wallet's transfers read when the SEPA step begins. A read the run may
// conclude on (a decision's confirmation, an overdue read, the read at a bound) stays a regular activity. A local
// activity keeps its workflow task open for the length of the call, and a webhook that arrives meanwhile makes
// the server refuse a completion of the run in that task (new events: UnhandledCommand). The task then runs
// again, and with it the read and the outcome's metrics, which counted the verification twice (seen in the
// end-to-end test's metrics, with the sandbox's duplicate deliveries: version 13). A regular activity's result
// starts a task of its own, milliseconds long.
//
// A first attempt that fails, unless for good (a non-retryable error) or by cancellation, is retried as a
// regular activity with opts (its attempt timeout, heartbeats, retry policy and ScheduleToCloseTimeout). Local
// retries would hold the workflow task open, heartbeating it every 8 s while signals and the backend's cancel
// wait, and record a marker, a timer and a workflow task per retry; an activity's retries write no history.
func (v *verification) readProvider(ctx workflow.Context, gathering bool, opts workflow.ActivityOptions, summary string, activity, arg, result any) error {
	if v.changes.localReads || (gathering && v.changes.localGatheringReads) {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: localReadTimeout,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
			Summary:             summary,
		})
		err := workflow.ExecuteLocalActivity(lctx, activity, arg).Get(lctx, result)
		if err == nil || !retryable(err) {
			return err
		}
		v.logger.Info("A provider read failed as a local activity; retrying it as an activity", "read", summary, "error", err)
		summary += " (retried)"
	}
	actx := workflow.WithActivityOptions(ctx, withSummary(opts, summary))
	return workflow.ExecuteActivity(actx, activity, arg).Get(actx, result)
}

// retryable says whether a failed attempt is worth another: not when it was cancelled (the verification is
// stopping) nor when the activity said the failure is permanent (a 404, a 410).
func retryable(err error) bool {
	if temporal.IsCanceledError(err) {
		return false
	}
	var appErr *temporal.ApplicationError
	return !errors.As(err, &appErr) || !appErr.NonRetryable()
}
