package e2e_test

import (
	"context"
	"fmt"
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
	// A run is counted once under its outcome. Its completing workflow task may have run more than once: when a
	// webhook arrives while it is in flight the server refuses the completion (WorkflowTaskFailed, cause
	// UnhandledCommand), and a task that outlives its timeout is run again (WorkflowTaskTimedOut). The worker then
	// runs the run's last steps again as new work, not as a replay, and counts again, possibly under another
	// outcome (the webhook that came may decide it). The history records each such attempt, so the check is exact
	// where the histories hold none and bounded by them where they do.
	reruns := map[string]int{} // by run ID; a closed run's history no longer changes
	rerunsOf := func(ex *workflowpb.WorkflowExecutionInfo) int {
		runID := ex.GetExecution().GetRunId()
		if n, ok := reruns[runID]; ok {
			return n
		}
		// The failed or timed-out attempts of the completing task: those after the task before it completed.
		n, pending := 0, 0
		iter := e.starter.Client.GetWorkflowHistory(ctx, ex.GetExecution().GetWorkflowId(), runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			switch {
			case ev.GetWorkflowTaskFailedEventAttributes().GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
				ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
				pending++
			case ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				n, pending = pending, 0
			}
		}
		reruns[runID] = n
		return n
	}
	var recounts map[string]float64 // by method: the most a method's count may exceed its closed runs
	closedRuns := func() map[string]float64 {
		want := map[string]float64{}
		recounts = map[string]float64{}
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
				want[method+"/"+outcome]++
				recounts[method] += float64(rerunsOf(ex))
			}
			if next = resp.GetNextPageToken(); len(next) == 0 {
				return want
			}
		}
	}
	// mismatch says how got differs from want beyond what the reruns explain ("" when it does not).
	mismatch := func(got, want map[string]float64) string {
		for k, n := range want {
			if got[k] < n {
				return fmt.Sprintf("%s counted %v times, %v closed runs have it", k, got[k], n)
			}
		}
		byMethod := func(m map[string]float64) map[string]float64 {
			out := map[string]float64{}
			for k, n := range m {
				method, _, _ := strings.Cut(k, "/")
				out[method] += n
			}
			return out
		}
		gotBy, wantBy := byMethod(got), byMethod(want)
		for method, n := range gotBy {
			if extra := n - wantBy[method]; extra > recounts[method] {
				return fmt.Sprintf("%s counted %v more than its closed runs; their histories hold %v reruns of a completing task", method, extra, recounts[method])
			}
		}
		return ""
	}
	var want, got map[string]float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		want = closedRuns()
		got = sumBy(scrape(t, e.stack.WorkerMetricsURL)[workflows.MetricFinished], "method", "outcome")
		if mismatch(got, want) == "" {
			break
		}
	}
	require.Empty(t, mismatch(got, want), "each closed verification counted once under its method and outcome, and again only for a rerun its history holds (got %v, want %v)", got, want)
	surplus := total(got) - total(want)
	t.Logf("finished verifications counted again after a rerun of their completing task: %v (the histories allow %v)", surplus, total(recounts))
	for _, r := range results {
		if r.Scenario.Rejected != "" || r.Outcome == nil {
			continue
		}
		require.Positive(t, want[string(r.Scenario.Method)+"/"+string(r.Outcome.Status)], "%s is among Temporal's closed runs", r.Name())
	}

	worker := scrape(t, e.stack.WorkerMetricsURL)
	started := sumBy(worker[workflows.MetricStarted], "method")
	finished := sumBy(worker[workflows.MetricFinished], "method")
	require.InDelta(t, total(started), total(finished), surplus, "every verification started was finished: none left open")
	entered, left := sumBy(worker[workflows.MetricStepEntered], "step"), sumBy(worker[workflows.MetricStepLeft], "step")
	for step, n := range entered {
		if step != string(signals.StepCompleted) {
			require.InDelta(t, n, left[step], surplus, "every verification that entered %s left it", step)
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
	require.NotEmpty(t, worker[census.Metric].GetMetric(), "the worker's census counts the verifications by step in Temporal's visibility")

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

func total(m map[string]float64) float64 {
	var n float64
	for _, v := range m {
		n += v
	}
	return n
}
