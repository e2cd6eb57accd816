package workflows

import "go.temporal.io/sdk/workflow"

// readProvider runs one read of the provider's state (a GET: Treezor's user or document list, a Solaris
// identification, a Yousign verification) and decodes its result into result.
//
// With changes.localReads the read is a local activity: the worker that runs the workflow task makes the call
// and records its result as a marker in the task's completion. A read changes nothing at the provider, so
// running it again after a crash (the workflow task is retried and the read with it) is harmless, and it needs
// none of what a task queue gives (routing, rate limits, hours of retries). As a regular activity each read cost
// the engine an activity task and a workflow task (six history events, their database writes and dispatches);
// calls that change the provider's state stay regular activities, recorded once scheduled.
//
// opts keeps each call site's bounds: its attempt timeout, retry policy and ScheduleToCloseTimeout. A local
// retry whose backoff exceeds the workflow task timeout waits on a timer, so a provider outage does not hold a
// workflow task open.
func (v *verification) readProvider(ctx workflow.Context, opts workflow.ActivityOptions, summary string, activity, arg, result any) error {
	if v.changes.localReads {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout:    opts.StartToCloseTimeout,
			ScheduleToCloseTimeout: opts.ScheduleToCloseTimeout,
			RetryPolicy:            opts.RetryPolicy,
			Summary:                summary,
		})
		return workflow.ExecuteLocalActivity(lctx, activity, arg).Get(lctx, result)
	}
	actx := workflow.WithActivityOptions(ctx, withSummary(opts, summary))
	return workflow.ExecuteActivity(actx, activity, arg).Get(actx, result)
}
