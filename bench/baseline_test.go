package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func TestBaselineHasTheShapeOfALiveVerification(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Baseline, workflow.RegisterOptions{Name: BaselineWorkflow})
	env.RegisterActivity(&BaselineActivities{})
	activities := 0
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { activities++ })
	var url string
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflowNoRejection(BaselineUpdate, "u", t)
	}, 0)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(BaselineUpdate, "u2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Error(err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); url = v.(string) },
		})
	}, time.Millisecond)
	for i := range BaselineSignals {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(BaselineSignal, nil) }, time.Duration(i+1)*time.Second)
	}
	env.ExecuteWorkflow(BaselineWorkflow, false)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, activities, "initiate, retrieve documents, request review")
	require.Equal(t, "https://example.test/session", url)
}
