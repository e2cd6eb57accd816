package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/kycflow/kycflow/internal/census"
	"github.com/kycflow/kycflow/sandbox/matrix"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/workflows"
)

// requireMetricsMatch scrapes the worker's and the relay's /metrics after the scenario matrix and checks them
// against what happened: each closed verification counted once under its method and outcome (the counts of
// Temporal's visibility, which include every outcome the matrix produced), a decision time for each one that
// handed out a URL, nothing open, and the relay's signalled webhooks by provider.
func (e *env) requireMetricsMatch(ctx context.Context, t *testing.T, results []matrix.Result) {
	// What Temporal holds: every closed verification with its method and outcome. Visibility is eventually
	// consistent and tally reports every second, so both are read again until they agree (or the time is up and
	// the difference shows).
	//
	// A run is counted once, and once more for each completion the server turned down: a webhook that arrives while
	// the workflow task completing the run is in flight makes the server refuse the completion (UnhandledCommand),
	// and the worker runs the run's last steps again, as new work rather than a replay, which counts again. The
	// history records each such refusal (WorkflowTaskFailed, cause UnhandledCommand), so the expected count is
	// exact: recounts is how many the closed runs' histories hold.
	rejected := map[string]int{} // by run ID; a closed run's history no longer changes
	rejectedCompletions := func(ex *workflowpb.WorkflowExecutionInfo) int {
		runID := ex.GetExecution().GetRunId()
		if n, ok := rejected[runID]; ok {
			return n
		}
		n := 0
		iter := e.starter.Client.GetWorkflowHistory(ctx, ex.GetExecution().GetWorkflowId(), runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			if ev.GetWorkflowTaskFailedEventAttributes().GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
				n++
			}
		}
		rejected[runID] = n
		return n
	}
	var recounts float64
	closedRuns := func() map[string]float64 {
		want := map[string]float64{}
		recounts = 0
		var next []byte
		for {
			resp, err := e.starter.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query: "ExecutionStatus != 'Running' AND KycOutcome IS NOT NULL", NextPageToken: next, PageSize: 1000,
			})
			require.NoError(t, err)
			for _, ex := range resp.GetExecutions() {
				fields := ex.GetSearchAttributes().GetIndexedFields()
				var method, outcome string
				require.NoError(t, converter.GetDefaultDataConverter().FromPayload(fields[signals.AttrMethod.GetName()], &method))
				require.NoError(t, converter.GetDefaultDataConverter().FromPayload(fields[signals.AttrOutcome.GetName()], &outcome))
				n := float64(1 + rejectedCompletions(ex))
				want[method+"/"+outcome] += n
				recounts += n - 1
			}
			if next = resp.GetNextPageToken(); len(next) == 0 {
				return want
			}
		}
	}
	var want, got map[string]float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		want = closedRuns()
		got = sumBy(scrape(t, e.stack.WorkerMetricsURL)[workflows.MetricFinished], "method", "outcome")
		if equalCounts(got, want) {
			break
		}
	}
	require.Equal(t, want, got, "each closed verification counted once under its method and outcome, plus once per completion the server turned down")
	t.Logf("finished verifications counted again after a turned-down completion (UnhandledCommand in their history): %v", recounts)
	for _, r := range results {
		if r.Scenario.Rejected != "" || r.Outcome == nil {
			continue
		}
		require.Positive(t, want[string(r.Scenario.Method)+"/"+string(r.Outcome.Status)], "%s is among Temporal's closed runs", r.Name())
	}

	worker := scrape(t, e.stack.WorkerMetricsURL)
	started := sumBy(worker[workflows.MetricStarted], "method")
	finished := sumBy(worker[workflows.MetricFinished], "method")
	require.InDelta(t, total(started), total(finished), recounts, "every verification started was finished: none left open")
	entered, left := sumBy(worker[workflows.MetricStepEntered], "step"), sumBy(worker[workflows.MetricStepLeft], "step")
	for step, n := range entered {
		if step != string(signals.StepCompleted) {
			require.InDelta(t, n, left[step], recounts, "every verification that entered %s left it", step)
		}
	}
	require.Equal(t, total(finished), entered[string(signals.StepCompleted)], "each finish entered the completed step")
	webhooks := sumBy(worker[workflows.MetricWebhooks], "provider", "kind")
	for _, p := range []signals.Provider{signals.ProviderTreezor, signals.ProviderSolaris, signals.ProviderYousign} {
		require.Positive(t, webhooks[string(p)+"/"+workflows.WebhookKindReceived], "webhooks received from %s", p)
	}
	require.Positive(t, histogramCount(worker[workflows.MetricTimeToURL]), "time to URL recorded")
	require.Positive(t, histogramCount(worker[workflows.MetricDecisionTime]), "decision time recorded")
	require.Contains(t, worker, "temporal_workflow_completed_total", "the SDK's own metrics are exported too")
	require.Len(t, worker[census.Metric].GetMetric(), len(signals.Methods)*len(census.Steps),
		"the worker's census counts every method and step in Temporal's visibility")

	relay := scrape(t, e.stack.RelayAdminURL+"/metrics")
	signalled := map[string]float64{}
	for k, v := range sumBy(relay["kycflow_relay_requests_total"], "provider", "result") {
		if provider, result, _ := strings.Cut(k, "/"); result == "signalled" {
			signalled[provider] += v
		}
	}
	for _, p := range []signals.Provider{signals.ProviderTreezor, signals.ProviderSolaris, signals.ProviderYousign} {
		// The relay signals at least what the workflows took (a redelivery is signalled again and deduplicated
		// by Temporal, so it may count more).
		require.GreaterOrEqual(t, signalled[string(p)], webhooks[string(p)+"/"+workflows.WebhookKindReceived], "relay signalled from %s", p)
	}
	t.Logf("worker: finished %v; webhooks %v; relay signalled %v", got, webhooks, signalled)
}

// scrape reads a /metrics page into its families, by name.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// sumBy sums a counter family's samples by the values of labels, joined with "/".
func sumBy(f *dto.MetricFamily, labels ...string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		key := ""
		for i, name := range labels {
			if i > 0 {
				key += "/"
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == name {
					key += l.GetValue()
				}
			}
		}
		out[key] += m.GetCounter().GetValue()
	}
	return out
}

func histogramCount(f *dto.MetricFamily) uint64 {
	var n uint64
	for _, m := range f.GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

func equalCounts(a, b map[string]float64) bool {
	for k, v := range a {
		if v != 0 && b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func total(m map[string]float64) float64 {
	var n float64
	for _, v := range m {
		n += v
	}
	return n
}
