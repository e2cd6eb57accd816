package workflows_test

import (
	"cmp"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

var sol *activities.Solaris

const (
	testIdent    = "9dfe0a1cidt"
	testIDnowURL = "https://go.test.idnow.example/app/kycflow/identifications/9dfe0a1cidt"
)

func solarisEvent(id, status string) signals.SolarisIdentificationEvent {
	return signals.SolarisIdentificationEvent{Webhook: signals.Webhook{EventID: id}, IdentificationID: testIdent, Status: status}
}

// solarisOK mocks Solaris: the identification is created and requested; reads answer with the given status,
// failure reason and documents.
func (r *run) solarisOK(readStatus, failureReason string) *run {
	r.method = signals.MethodSolarisIDnow
	r.env.OnActivity(sol.CreateIdentification, mock.Anything, mock.Anything).
		Return(activities.SolarisIdentification{ID: testIdent, Status: signals.SolarisStatusCreated}, nil).Maybe()
	r.env.OnActivity(sol.RequestIdentification, mock.Anything, mock.Anything).
		Return(activities.SolarisIdentification{ID: testIdent, URL: testIDnowURL, Status: signals.SolarisStatusPending}, nil).Maybe()
	// Solaris's API shows readStatus, or the final status a delivered webhook announced.
	r.env.OnActivity(sol.GetIdentification, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.SolarisIdentRequest) (activities.SolarisIdentification, error) {
			return activities.SolarisIdentification{
				ID: testIdent, Status: cmp.Or(r.solarisFinal, readStatus), FailureReason: failureReason,
				Documents: []signals.Document{{ID: "doc-1", Type: "PASSPORT"}},
			}, nil
		}).Maybe()
	return r
}

func TestSolarisIDnowOutcomes(t *testing.T) {
	tests := []struct {
		name          string
		events        []event
		readStatus    string
		failureReason string
		wantStatus    signals.OutcomeStatus
		wantElapsed   time.Duration
		wantDocuments bool
		wantReasons   []string
	}{
		{
			name: "successful", readStatus: signals.SolarisStatusSuccessful,
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPending)},
				{2 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusSuccessful)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 2 * time.Hour, wantDocuments: true,
		},
		{
			name: "failed: refused without disclosing why", readStatus: signals.SolarisStatusFailed, failureReason: "DATA_ID_EXPIRED",
			events: []event{
				{2 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusFailed)},
			},
			// The code is kept for operators: a known one the catalogue would show for an aborted session.
			wantStatus: signals.OutcomeRefused, wantElapsed: 2 * time.Hour, wantReasons: []string{"DATA_ID_EXPIRED"},
		},
		{
			name: "second-line review, then successful", readStatus: signals.SolarisStatusSuccessful,
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingSuccessful)},
				{10 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusSuccessful)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 10 * time.Hour, wantDocuments: true,
		},
		{
			name: "second-line review, then failed", readStatus: signals.SolarisStatusFailed,
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingFailed)},
				{10 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusFailed)},
			},
			wantStatus: signals.OutcomeRefused, wantElapsed: 10 * time.Hour,
		},
		{
			name: "second-line review lost its webhook: reconciled at 24 hours", readStatus: signals.SolarisStatusSuccessful,
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingSuccessful)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: time.Hour + day, wantDocuments: true,
		},
		{
			name: "second-line review still pending at 24 hours", readStatus: signals.SolarisStatusPendingSuccessful,
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingSuccessful)},
			},
			wantStatus: signals.OutcomeReviewTimeout, wantElapsed: time.Hour + day + overdueLimit,
		},
		{
			name: "14 days without a webhook", readStatus: signals.SolarisStatusPending,
			wantStatus: signals.OutcomeExpired, wantElapsed: 14*day + grace,
		},
		{
			name: "14 days after an abort", readStatus: signals.SolarisStatusAborted, failureReason: "USER_CANCELLATION",
			events: []event{
				{day, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusAborted)},
			},
			wantStatus: signals.OutcomeAborted, wantElapsed: 14*day + grace, wantReasons: []string{"USER_CANCELLATION"},
		},
		{
			name: "canceled, then the user comes back with the same link", readStatus: signals.SolarisStatusSuccessful,
			events: []event{
				{day, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusCanceled)},
				{3 * day, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusPending)},
				{3*day + time.Hour, signals.SignalSolarisIdentification, solarisEvent("e3", signals.SolarisStatusSuccessful)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 3*day + time.Hour, wantDocuments: true,
		},
		{
			name: "the review cancels, the user comes back with the same link", readStatus: signals.SolarisStatusSuccessful,
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingSuccessful)},
				{5 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusCanceled)},
				{2 * day, signals.SignalSolarisIdentification, solarisEvent("e3", signals.SolarisStatusPending)},
				{2*day + time.Hour, signals.SignalSolarisIdentification, solarisEvent("e4", signals.SolarisStatusSuccessful)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 2*day + time.Hour, wantDocuments: true,
		},
		{
			name: "the review cancels and the user never comes back", readStatus: signals.SolarisStatusCanceled, failureReason: "BAD_PHOTO_QUALITY",
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingFailed)},
				{5 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusCanceled)},
			},
			wantStatus: signals.OutcomeAborted, wantElapsed: 14*day + grace, wantReasons: []string{"BAD_PHOTO_QUALITY"},
		},
		{
			name: "lost webhook: successful found when the link expires", readStatus: signals.SolarisStatusSuccessful,
			wantStatus: signals.OutcomeApproved, wantElapsed: 14*day + grace, wantDocuments: true,
		},
		{
			name: "reordered and duplicated: a stale pending never moves back", readStatus: signals.SolarisStatusSuccessful,
			events: []event{
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusPendingSuccessful)},
				{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusPendingSuccessful)},
				{2 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPending)},
				{3 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e3", signals.SolarisStatusSuccessful)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 3 * time.Hour, wantDocuments: true,
		},
		{
			name: "Solaris expires the identification", readStatus: signals.SolarisStatusExpired,
			events: []event{
				{5 * day, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusExpired)},
			},
			wantStatus: signals.OutcomeExpired, wantElapsed: 5 * day,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t).solarisOK(tc.readStatus, tc.failureReason).deliver(tc.events)
			start := r.env.Now()
			o := r.execute()
			require.Equal(t, tc.wantStatus, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tc.wantElapsed, o.CompletedAt.Sub(start))
			require.Equal(t, testIdent, o.ProviderReference)
			require.Equal(t, testIdent, r.attrs["KycProviderReference"], "the relay finds the workflow by it")
			require.Equal(t, "solaris", r.attrs["KycProvider"])
			if tc.wantDocuments {
				require.Equal(t, []signals.Document{{ID: "doc-1", Type: "PASSPORT"}}, o.Documents)
			}
			var codes []string
			for _, rs := range o.Reasons {
				codes = append(codes, rs.Code)
			}
			require.Equal(t, tc.wantReasons, codes)
			if o.Status == signals.OutcomeRefused {
				// Seed 003: "No reason can be disclosed for the final failed status."
				require.Equal(t, "We could not verify your identity.", o.UserMessage, "no reason disclosed")
				require.False(t, o.UserMayRetry)
				for _, rs := range o.Reasons {
					require.False(t, rs.UserShowable, "reason %s is withheld from the user", rs.Code)
					require.Empty(t, rs.UserMessage)
					require.False(t, rs.UserMayRetry)
				}
			}
			require.NotContains(t, o.UserMessage, "TST-", "the IDnow reference never reaches the user")
		})
	}
}

func TestSolarisIDnowStaleStatusNeverMovesBack(t *testing.T) {
	r := newRun(t).solarisOK(signals.SolarisStatusSuccessful, "")
	var st signals.Status
	r.env.RegisterDelayedCallback(func() { st = r.queryStatus() }, 150*time.Minute)
	r.deliver([]event{
		{time.Hour, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusPendingSuccessful)},
		{2 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPending)},
		{3 * time.Hour, signals.SignalSolarisIdentification, solarisEvent("e3", signals.SolarisStatusSuccessful)},
	}).execute()
	require.Equal(t, signals.SolarisStatusPendingSuccessful, st.ProviderStatus)
	require.Equal(t, signals.StepProviderProcessing, st.Step)
}

func TestSolarisIDnowWebhookForAnotherIdentificationIgnored(t *testing.T) {
	r := newRun(t).solarisOK(signals.SolarisStatusPending, "")
	other := solarisEvent("x", signals.SolarisStatusSuccessful)
	other.IdentificationID = "someone-elses-cidt"
	o := r.deliver([]event{{time.Hour, signals.SignalSolarisIdentification, other}}).execute()
	require.Equal(t, signals.OutcomeExpired, o.Status)
}

func TestSolarisIDnowURLFromTheRequest(t *testing.T) {
	r := newRun(t).solarisOK(signals.SolarisStatusPending, "")
	var st signals.Status
	r.env.RegisterDelayedCallback(func() { st = r.queryStatus() }, time.Hour)
	start := r.env.Now()
	r.execute()
	require.Equal(t, testIDnowURL, st.IdentificationURL)
	require.Equal(t, 14*day, st.URLExpiresAt.Sub(start))
	require.Equal(t, 1, r.calls["CreateIdentification"])
	require.Equal(t, 1, r.calls["RequestIdentification"])
}
