package starter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/signals"
)

// abortingUpdater answers the first `aborts` operator_action updates as the server does when the update's
// workflow task failed (WorkflowNotReady), then accepts, recording each attempt's update ID. Only UpdateWorkflow
// is implemented: Act calls nothing else on this path.
type abortingUpdater struct {
	client.Client
	aborts int
	ids    []string
}

func (u *abortingUpdater) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	u.ids = append(u.ids, o.UpdateID)
	if len(u.ids) <= u.aborts {
		return nil, serviceerror.NewWorkflowNotReady("Unable to perform workflow execution update due to unexpected workflow task failure.")
	}
	return acceptedUpdate{o.UpdateID}, nil
}

type acceptedUpdate struct{ id string }

func (acceptedUpdate) WorkflowID() string { return "kyc/treezor/230001" }
func (acceptedUpdate) RunID() string      { return "run" }
func (a acceptedUpdate) UpdateID() string { return a.id }
func (acceptedUpdate) Get(_ context.Context, v any) error {
	*v.(*signals.OperatorActionResult) = signals.OperatorActionResult{}
	return nil
}

// TestActSendsAgainAnActionWhoseTaskFailed: an operator's close that ends the run fails its workflow task when a
// provider read's result reaches the run meanwhile (seen in TestIntegrationOverdueReviewClosedByAnOperator under
// load); the server then aborts the update, applied nowhere. Act sends it again under the same update ID, a
// bounded number of times.
func TestActSendsAgainAnActionWhoseTaskFailed(t *testing.T) {
	tests := []struct {
		name     string
		aborts   int
		wantErr  bool
		attempts int
	}{
		{"accepted at once", 0, false, 1},
		{"aborted twice, then accepted", 2, false, 3},
		{"aborted every time", 10, true, actAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &abortingUpdater{aborts: tt.aborts}
			s := &Starter{Client: u}
			_, err := s.Act(context.Background(), Verification{WorkflowID: "kyc/treezor/230001"},
				signals.OperatorAction{Action: signals.ActionClose, Operator: "ops-alice"})
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			require.Len(t, u.ids, tt.attempts)
			for _, id := range u.ids {
				require.Equal(t, u.ids[0], id, "one action, one update ID")
			}
			require.NotEmpty(t, u.ids[0])
		})
	}
}
