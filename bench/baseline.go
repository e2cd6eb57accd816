// Package bench measures kycflow against the bare Temporal engine on the same machine, in the same run, so that
// the machine's noise cancels out of the ratios. `make bench` runs it through cmd/kycflow-bench.
package bench

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// BaselineTaskQueue keeps the bare workflows away from kycflow's worker.
const BaselineTaskQueue = "kycflow-bench-baseline"

// Names of the bare workflow's messages.
const (
	BaselineWorkflow = "BenchBaseline"
	BaselineUpdate   = "url"
	BaselineSignal   = "event"
)

// The bare workflow's signals match what a Treezor live verification receives from the sandbox: kycliveness.create
// and .update, then two document.create (the identity card and the synthesis document) after retrieving the
// documents, then two user.kycreview (review open, then the decision) after requesting the review. The benchmark
// reads both histories and reports their shapes side by side, so a drift shows in the table.
const (
	baselineSignalsBefore = 2
	baselineSignalsMiddle = 2
	baselineSignalsAfter  = 2
)

// BaselineSignals is how many signals a bare flow takes, as many as a live verification's happy path.
const BaselineSignals = baselineSignalsBefore + baselineSignalsMiddle + baselineSignalsAfter

var baselineActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
}

// Baseline is the bare workflow: no-op activities where kycflow calls a provider, plain signal counts where
// kycflow records webhooks (each group after the activity that causes it), an update that returns once the first
// activity ran, as kycflow's URL update does.
//
// With park set it stops after the update, waiting on a 14-day timer like a verification whose user has not come
// yet: the time-to-URL measure compares kycflow's parked verifications with these.
func Baseline(ctx workflow.Context, park bool) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, baselineActivityOptions)
	ready := false
	if err := workflow.SetUpdateHandler(ctx, BaselineUpdate, func(ctx workflow.Context) (string, error) {
		err := workflow.Await(ctx, func() bool { return ready })
		return "https://example.test/session", err
	}); err != nil {
		return "", err
	}
	received := 0
	ch := workflow.GetSignalChannel(ctx, BaselineSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for ch.Receive(ctx, nil) {
			received++
		}
	})
	var acts *BaselineActivities
	if park {
		if err := workflow.ExecuteActivity(ctx, acts.Step, 0).Get(ctx, nil); err != nil {
			return "", err
		}
		ready = true
		return "parked", workflow.Sleep(ctx, 14*24*time.Hour)
	}
	steps := []int{baselineSignalsBefore, baselineSignalsMiddle, baselineSignalsAfter}
	want := 0
	for _, n := range steps {
		want += n
		if err := workflow.ExecuteActivity(ctx, acts.Step, n).Get(ctx, nil); err != nil {
			return "", err
		}
		ready = true
		if err := workflow.Await(ctx, func() bool { return received >= want }); err != nil {
			return "", err
		}
	}
	return "done", workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// BaselineActivities plays the provider for the bare workflow. Each step is a no-op activity after which the
// provider's webhooks for it arrive, sent directly with the Temporal client, as the sandbox sends kycflow's after
// each API call (documents after PUT kycliveness, the review after PUT Kycreview).
type BaselineActivities struct {
	// Signal delivers one event to the workflow; nil leaves the signals to the test that drives the workflow.
	Signal func(ctx context.Context, workflowID string) error
}

// Step returns at once and sends n signals in the background, like a provider answering an API call and sending
// its webhooks afterwards.
func (a *BaselineActivities) Step(ctx context.Context, n int) error {
	if a.Signal == nil {
		return nil
	}
	id := activity.GetInfo(ctx).WorkflowExecution.ID
	go func() {
		for range n {
			if err := a.Signal(context.Background(), id); err != nil {
				return
			}
		}
	}()
	return nil
}
