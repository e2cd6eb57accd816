package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// metricsPage is an excerpt of the dev server's /metrics, one sample of each kind ReadEngineWork reads or skips.
const metricsPage = `# HELP persistence_requests persistence_requests counter
# TYPE persistence_requests counter
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 40
persistence_requests{namespace="system",operation="UpdateWorkflowExecution",service_name="history"} 2
persistence_requests{namespace="default",operation="GetCurrentExecution",service_name="frontend"} 8
persistence_latency_count{namespace="default",operation="GetCurrentExecution",service_name="frontend"} 8
task_attempt_count{namespace="default",operation="VisibilityTaskUpsertExecution",service_name="history",task_type="VisibilityTaskUpsertExecution"} 6
task_attempt_count{namespace="default",operation="TransferActiveTaskActivity",service_name="history",task_type="TransferActiveTaskActivity"} 12
task_attempt_count{namespace="temporal_system",operation="VisibilityTaskStartExecution",service_name="history",task_type="VisibilityTaskStartExecution"} 3
`

func TestReadEngineWork(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, metricsPage)
	}))
	t.Cleanup(srv.Close)

	w, err := ReadEngineWork(t.Context(), srv.Client(), srv.URL)
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"UpdateWorkflowExecution": 42, "GetCurrentExecution": 8}, w.DBCalls)
	require.Equal(t, map[string]float64{"VisibilityTaskUpsertExecution": 6, "TransferActiveTaskActivity": 12}, w.Tasks,
		"the system namespace's tasks are not a flow's")

	per := w.Sub(EngineWork{DBCalls: map[string]float64{"UpdateWorkflowExecution": 2}}).PerFlow(2)
	require.Equal(t, 24.0, Total(per.DBCalls))
	require.Equal(t, 3.0, per.VisibilityWrites())
}

func TestReadEngineWorkReportsHTTPErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	_, err := ReadEngineWork(t.Context(), srv.Client(), srv.URL)
	require.ErrorContains(t, err, "HTTP 404")
}
