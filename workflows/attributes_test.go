package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/signals"
)

// TestOneUpsertPerStepChange (decision-integrity version 9): a verification the starter started with its initial
// search attributes upserts once per step change and no more: the provider reference goes with the URL's step,
// the outcome with the last one. Each upsert is a billable action and a visibility write.
func TestOneUpsertPerStepChange(t *testing.T) {
	tests := []struct {
		name         string
		startedWith  bool
		wantUpserts  int
		wantFirstSet []string
	}{
		// Started by the starter, with them, it upserts nothing before its first step change: the testsuite does
		// not put a start's search attributes in the workflow's info, so TestIntegrationTreezorLiveness checks that
		// against a real server (requireOneUpsertPerStepChange).
		{"started without them (the temporal CLI): one upsert sets them", false, 6,
			[]string{"KycMethod", "KycProvider", "KycStep"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t).treezorOK()
			if tc.startedWith {
				r.env.SetStartWorkflowOptions(client.StartWorkflowOptions{TypedSearchAttributes: signals.InitialSearchAttributes(signals.MethodTreezorLiveness)})
			}
			o := r.deliver(happyEvents()).execute()
			require.Equal(t, signals.OutcomeApproved, o.Status)
			require.Len(t, r.upserts, tc.wantUpserts, "%v", r.upserts)
			require.ElementsMatch(t, tc.wantFirstSet, r.upserts[0])
			require.ElementsMatch(t, []string{"KycStep", "KycOutcome"}, r.upserts[len(r.upserts)-1], "the last step and the outcome together")
		})
	}
}
