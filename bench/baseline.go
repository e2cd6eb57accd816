// Package bench measures kycflow against the bare Temporal engine on the same machine, in the same run, so that
// the machine's noise cancels out of the ratios. `make bench` runs it through cmd/kycflow-bench.
package bench

import (
	"context"
	"time"

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
// documents, then user.kycreview after requesting the review.
const (
	baselineSignalsBefore = 2
	baselineSignalsMiddle = 2
	baselineSignalsAfter  = 1
)

// BaselineSignals is how many signals a bare flow takes, as many as a live verification's happy path.
const BaselineSignals = baselineSignalsBefore + baselineSignalsMiddle + baselineSignalsAfter

var baselineActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
}

// Baseline is the bare workflow: no-op activities where kycflow calls a provider, plain signal counts where
// kycflow records webhooks, an update that returns once the first activity ran, as kycflow's URL update does.
func Baseline(ctx workflow.Context) (string, error) {
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
	steps := []int{baselineSignalsBefore, baselineSignalsBefore + baselineSignalsMiddle, BaselineSignals}
	for _, want := range steps {
		if err := workflow.ExecuteActivity(ctx, Noop).Get(ctx, nil); err != nil {
			return "", err
		}
		ready = true
		if err := workflow.Await(ctx, func() bool { return received >= want }); err != nil {
			return "", err
		}
	}
	return "done", workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// BaselineWaiting is a bare workflow parked on a 14-day timer, like a verification waiting on its IDnow link.
func BaselineWaiting(ctx workflow.Context) error {
	return workflow.Sleep(ctx, 14*24*time.Hour)
}

// Noop is the bare workflow's activity.
func Noop(context.Context) error { return nil }
