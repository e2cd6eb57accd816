package starter

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

func TestListQuery(t *testing.T) {
	allTypes := "WorkflowType IN ('TreezorLivenessVerification', 'TreezorQESVerification', " +
		"'TreezorVideoConferenceVerification', 'SolarisIDnowVerification', 'YousignVideoVerification')"
	tests := []struct {
		name      string
		req       ListRequest
		want      string
		wantField string
	}{
		{"everything", ListRequest{}, allTypes, ""},
		{"by method", ListRequest{Method: signals.MethodTreezorQES}, "KycMethod = 'treezor-qes'", ""},
		{"by step and outcome", ListRequest{Step: signals.StepCompleted, Outcome: signals.OutcomeReviewTimeout},
			allTypes + " AND KycStep = 'completed' AND KycOutcome = 'review_timeout'", ""},
		{"running", ListRequest{Method: signals.MethodSolarisIDnow, Running: true},
			"KycMethod = 'solaris-idnow' AND ExecutionStatus = 'Running'", ""},
		{"subject at one provider", ListRequest{Method: signals.MethodYousignVideo, Subject: "u-1"},
			"KycMethod = 'yousign-video' AND WorkflowId IN ('kyc/yousign/u-1')", ""},
		{"subject at every provider", ListRequest{Subject: "42"},
			allTypes + " AND WorkflowId IN ('kyc/treezor/42', 'kyc/solaris/42', 'kyc/yousign/42')", ""},
		{"quotes in a subject stay a literal", ListRequest{Method: signals.MethodTreezorLiveness, Subject: `a'b\c`},
			`KycMethod = 'treezor-liveness' AND WorkflowId IN ('kyc/treezor/a\'b\\c')`, ""},
		{"unknown method", ListRequest{Method: "idnow"}, "", "method"},
		{"misspelt step", ListRequest{Step: "review"}, "", "step"},
		{"misspelt outcome", ListRequest{Outcome: "canceld"}, "", "outcome"},
		{"subject with a space", ListRequest{Subject: "1 OR 1=1"}, "", "subjectId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.req.Query()
			if tc.wantField != "" {
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, ErrInvalidRequest, e.Kind)
				require.Equal(t, tc.wantField, e.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
