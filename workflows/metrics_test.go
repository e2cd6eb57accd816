package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uber-go/tally/v4"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/workflows"
)

// TestMetricsFollowTheVerification: a verification records that it started, each step it entered and left, the
// webhooks it took (a redelivery as a duplicate), the time to its URL and to its decision, and its outcome, once
// each, with the method and closed-list values as labels.
func TestMetricsFollowTheVerification(t *testing.T) {
	scope := tally.NewTestScope("", nil)
	r := newRunWithMetrics(t, sdktally.NewMetricsHandler(scope)).treezorOK()
	events := happyEvents()
	dup := events[0]
	dup.at += time.Second // the same event again: its ID is a duplicate
	o := r.deliver(append(events, dup)).execute()
	require.Equal(t, signals.OutcomeApproved, o.Status)
	st := r.queryStatus()

	snap := scope.Snapshot()
	counter := func(name string, tags map[string]string) int64 {
		var n int64
		for _, c := range snap.Counters() {
			if c.Name() == name && matches(c.Tags(), tags) {
				n += c.Value()
			}
		}
		return n
	}
	method := map[string]string{"method": string(signals.MethodTreezorLiveness)}
	require.EqualValues(t, 1, counter(workflows.MetricStarted, method))
	require.EqualValues(t, 1, counter(workflows.MetricFinished, map[string]string{"method": "treezor-liveness", "outcome": "approved"}))
	for _, step := range []signals.Step{signals.StepInitiating, signals.StepAwaitingUser, signals.StepProviderProcessing, signals.StepKYCReview} {
		tags := map[string]string{"method": "treezor-liveness", "step": string(step)}
		require.EqualValues(t, 1, counter(workflows.MetricStepEntered, tags), "entered %s", step)
		require.EqualValues(t, 1, counter(workflows.MetricStepLeft, tags), "left %s", step)
	}
	require.EqualValues(t, 1, counter(workflows.MetricStepEntered, map[string]string{"step": "completed"}))
	// The user finished once, though the verification then went through three provider-side steps.
	require.EqualValues(t, 1, counter(workflows.MetricUserFinished, method))
	require.Zero(t, counter(workflows.MetricStepLeft, map[string]string{"step": "completed"}))
	require.EqualValues(t, st.Webhooks.Received, counter(workflows.MetricWebhooks, map[string]string{"provider": "treezor", "kind": "received"}))
	require.EqualValues(t, 1, counter(workflows.MetricWebhooks, map[string]string{"provider": "treezor", "kind": "duplicate"}))
	var timers []string
	for _, h := range snap.Timers() {
		if matches(h.Tags(), method) {
			timers = append(timers, h.Name())
			require.Len(t, h.Values(), 1, h.Name())
		}
	}
	require.ElementsMatch(t, []string{workflows.MetricTimeToURL, workflows.MetricDecisionTime}, timers)
}

func matches(tags, want map[string]string) bool {
	for k, v := range want {
		if tags[k] != v {
			return false
		}
	}
	return true
}
