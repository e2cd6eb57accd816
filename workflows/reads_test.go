package workflows_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/signals"
)

// TestGatheringReadsRunAsLocalActivities: a read the flow goes on from in the same workflow task (the documents
// listed before Treezor's review, the wallet's transfers when the SEPA step begins) runs as a local activity.
// Each as a regular activity cost the engine an activity task and a workflow task more per verification (issue
// 18's benchmark). A read the run may conclude on (a decision's confirmation, an overdue read, the read at a
// bound) stays a regular activity, and so do calls that change the provider's state. A read whose local attempt
// fails is retried as a regular activity, unless the failure is permanent.
func TestGatheringReadsRunAsLocalActivities(t *testing.T) {
	tests := []struct {
		name       string
		run        func(r *run) signals.Outcome
		wantStatus signals.OutcomeStatus
		wantCalls  []string // the regular activities
		wantReads  []string // the local ones
	}{
		{
			name: "Treezor live verification",
			run: func(r *run) signals.Outcome {
				return r.treezorOK().deliver(happyEvents()).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"GetUserKYC", "Initiate", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"ListDocuments"},
		},
		{
			name: "with a SEPA transfer: the read when the step begins",
			run: func(r *run) signals.Outcome {
				r.input = &signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: testUser,
					SEPAValidation: &signals.SEPAValidation{WalletID: "777"}}
				// The transfer comes after the documents: the step begins with a read that finds none yet.
				return r.treezorOK().deliver(append(happyEvents(), event{2 * time.Hour, signals.SignalTreezorPayinUpdate,
					payin("pu", "777", signals.PayinStatusValidated, signals.PaymentMethodSEPACreditTransfer)})).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"GetUserKYC", "Initiate", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"ListDocuments", "ListValidatedTransfers"},
		},
		{
			name: "a listing that fails locally is retried as an activity",
			run: func(r *run) signals.Outcome {
				r.env.OnActivity(tz.ListDocuments, mock.Anything, mock.Anything).Return(nil, errors.New("treezor: list documents: 503 Service Unavailable")).Once()
				return r.treezorOK().deliver(happyEvents()).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"GetUserKYC", "Initiate", "ListDocuments", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"ListDocuments"},
		},
		{
			name: "a listing that fails for good is not retried",
			run: func(r *run) signals.Outcome {
				// The listing is an aid: without it the review goes by the webhooks.
				r.env.OnActivity(tz.ListDocuments, mock.Anything, mock.Anything).Return(nil,
					temporal.NewNonRetryableApplicationError("treezor: list documents: 404 Not Found", "provider_rejected", nil)).Once()
				return r.treezorOK().deliver(happyEvents()).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"GetUserKYC", "Initiate", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"ListDocuments"},
		},
		{
			name: "an overdue listing may conclude the run: an activity",
			run: func(r *run) signals.Outcome {
				events := happyEvents()
				events[3].at = 30 * time.Hour // the synthesis document's webhook comes past the review bound
				events[4].at = 31 * time.Hour
				return r.treezorOK().deliver(events).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"GetUserKYC", "Initiate", "ListDocuments", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"ListDocuments"},
		},
		{
			name: "Solaris: its reads decide",
			run: func(r *run) signals.Outcome {
				return r.solarisOK(signals.SolarisStatusSuccessful, "").deliver([]event{
					{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusSuccessful)},
				}).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"CreateIdentification", "GetIdentification", "RequestIdentification"},
			wantReads:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t)
			o := tt.run(r)
			require.Equal(t, tt.wantStatus, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tt.wantCalls, slices.Sorted(maps.Keys(r.calls)), "regular activities")
			require.Equal(t, tt.wantReads, slices.Sorted(maps.Keys(r.localCalls)), "local activities")
		})
	}
}
