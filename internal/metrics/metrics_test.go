package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/metrics"
	"github.com/kycflow/kycflow/workflows"
)

// TestWorkflowMetricsExported records kycflow's metrics with the tags the SDK's workflow handler carries and
// reads them back from /metrics: declared help, method values as the code spells them, decision-time buckets
// up to weeks.
func TestWorkflowMetricsExported(t *testing.T) {
	e, err := metrics.New(func(err error) { t.Errorf("metric dropped: %v", err) })
	require.NoError(t, err)
	defer e.Close()
	h := e.Handler.WithTags(map[string]string{"namespace": "default", "client_name": "temporal_go", "worker_type": "WorkflowWorker",
		"workflow_type": "TreezorQESVerification", "activity_type": "none", "task_queue": "kycflow"}).
		WithTags(map[string]string{"method": "treezor-qes"})
	h.Counter(workflows.MetricStarted).Inc(1)
	h.WithTags(map[string]string{"outcome": "approved"}).Counter(workflows.MetricFinished).Inc(1)
	h.WithTags(map[string]string{"outcome": "approved"}).Timer(workflows.MetricDecisionTime).Record(30 * time.Hour)

	var page string
	require.Eventually(t, func() bool { // tally hands its values over every second
		rec := httptest.NewRecorder()
		e.HTTP.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		page = string(b)
		return strings.Contains(page, workflows.MetricDecisionTime+"_count")
	}, 5*time.Second, 100*time.Millisecond)
	for _, want := range []string{
		"# HELP kycflow_verifications_started_total Verifications started, by method.",
		`kycflow_verifications_started_total{activity_type="none",client_name="temporal_go",method="treezor-qes",`,
		`kycflow_verifications_finished_total{activity_type="none",client_name="temporal_go",method="treezor-qes",namespace="default",outcome="approved"`,
		`kycflow_decision_seconds_bucket{activity_type="none",client_name="temporal_go",method="treezor-qes",namespace="default",outcome="approved",task_queue="kycflow",worker_type="WorkflowWorker",workflow_type="TreezorQESVerification",le="172800"} 1`,
	} {
		require.Contains(t, page, want)
	}
}
