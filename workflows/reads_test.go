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

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// TestProviderReadsRunAsLocalActivities: a read of the provider's state (the documents listed before Treezor's
// review, the user read that confirms its decision, the Solaris identification and Yousign verification reads
// that confirm theirs) runs as a local activity; calls that change the provider's state stay regular activities.
// Each read as a regular activity cost the engine an activity task and a workflow task more per verification
// (issue 18's benchmark: 55 history events against the hand-written peer's 37). A read whose local attempt fails
// is retried as a regular activity, unless the failure is permanent.
func TestProviderReadsRunAsLocalActivities(t *testing.T) {
	tests := []struct {
		name       string
		run        func(r *run) signals.Outcome
		wantStatus signals.OutcomeStatus
		wantCalls  []string // the regular activities
		wantReads  []string // the local ones
	}{
		{
			name: "a read that fails locally is retried as an activity",
			run: func(r *run) signals.Outcome {
				r.env.OnActivity(tz.GetUserKYC, mock.Anything, testUser).Return(activities.UserKYC{}, errors.New("treezor: get user: 503 Service Unavailable")).Once()
				return r.treezorOK().deliver(happyEvents()).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"GetUserKYC", "Initiate", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"GetUserKYC", "ListDocuments"},
		},
		{
			name: "a read that fails for good is not retried",
			run: func(r *run) signals.Outcome {
				// The listing is an aid: without it the review goes by the webhooks.
				r.env.OnActivity(tz.ListDocuments, mock.Anything, mock.Anything).Return(nil,
					temporal.NewNonRetryableApplicationError("treezor: list documents: 404 Not Found", "provider_rejected", nil)).Once()
				return r.treezorOK().deliver(happyEvents()).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"Initiate", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"GetUserKYC", "ListDocuments"},
		},
		{
			name: "Treezor live verification",
			run: func(r *run) signals.Outcome {
				return r.treezorOK().deliver(happyEvents()).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"Initiate", "RequestKYCReview", "RetrieveLivenessDocuments"},
			wantReads:  []string{"GetUserKYC", "ListDocuments"},
		},
		{
			name: "Solaris IDnow",
			run: func(r *run) signals.Outcome {
				return r.solarisOK(signals.SolarisStatusSuccessful, "").deliver([]event{
					{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusSuccessful)},
				}).execute()
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"CreateIdentification", "RequestIdentification"},
			wantReads:  []string{"GetIdentification"},
		},
		{
			name: "Yousign video",
			run: func(r *run) signals.Outcome {
				return r.yousignOK(signals.YousignStatusVerified).deliver([]event{
					{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusVerified)},
				}).executeYousign(0)
			},
			wantStatus: signals.OutcomeApproved,
			wantCalls:  []string{"CreateVerification"},
			wantReads:  []string{"GetVerification"},
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
