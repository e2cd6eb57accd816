package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestPeerLiveness: the hand-written peer plays the live verification's happy path (the same three provider
// calls and six webhooks as kycflow's, a duplicate ignored) and its 15-minute deadline.
func TestPeerLiveness(t *testing.T) {
	tests := []struct {
		name   string
		events []PeerEvent
		want   string
	}{
		{"approved", []PeerEvent{{Event: peerLivenessCreate, EventID: "1"}, {Event: peerLivenessUpdate, Score: 1, EventID: "2"},
			{Event: peerLivenessUpdate, Score: 1, EventID: "2"}, {Event: peerDocument, EventID: "3"}, {Event: peerDocument, EventID: "4"},
			{Event: peerReview, KycReview: 1, EventID: "5"}, {Event: peerReview, KycReview: 2, EventID: "6"}}, "approved"},
		{"the link expires after 15 minutes", []PeerEvent{{Event: peerLivenessCreate, EventID: "1"}}, "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(PeerLiveness, workflow.RegisterOptions{Name: PeerWorkflow})
			acts := &PeerActivities{}
			env.RegisterActivity(acts)
			env.OnActivity(acts.Initiate, mock.Anything, "42").Return("https://liveness.example.test/session", nil)
			env.OnActivity(acts.RetrieveDocuments, mock.Anything, "42").Return(nil)
			env.OnActivity(acts.RequestReview, mock.Anything, "42").Return(nil)
			for i, ev := range tc.events {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(PeerSignal, ev) }, time.Duration(i+1)*time.Minute)
			}
			start := env.Now()
			env.ExecuteWorkflow(PeerWorkflow, "42")
			require.NoError(t, env.GetWorkflowError())
			var got string
			require.NoError(t, env.GetWorkflowResult(&got))
			require.Equal(t, tc.want, got)
			if tc.want == "expired" {
				require.Equal(t, 15*time.Minute, env.Now().Sub(start).Round(time.Minute))
			}
		})
	}
}

// TestPeerWebhooksCheckTheSignature: the hand-written handler refuses an unsigned or forged webhook before it
// reaches Temporal.
func TestPeerWebhooksCheckTheSignature(t *testing.T) {
	h := &PeerWebhooks{} // no client: a request that got past the check would panic
	for _, sig := range []string{"", "00", "zz"} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", nil)
		req.Header.Set("X-Signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(context.Background()))
		require.Equal(t, http.StatusUnauthorized, rec.Code)
	}
}
