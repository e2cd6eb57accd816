package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// TestLateDecisionsCount: every wait for a provider decision has a 24-hour bound, and Treezor says its review "may
// take up to 48h or more (working days only)". Past the bound the verification goes overdue and keeps listening:
// a decision an hour or three days late decides it exactly as if on time; only one after the hard limit (14 days
// past the bound) comes too late, and the verification ends review_timeout at the limit.
func TestLateDecisionsCount(t *testing.T) {
	const (
		created  = time.Hour // the user's session, for the IDnow methods
		reviewAt = day       // where a wait's bound falls, from the step's start
	)
	type waitCase struct {
		name   string
		method signals.Method
		// events are the webhooks up to and including the late decision, which comes at bound+late.
		events func(late time.Duration) []event
		// bound is when the awaited decision's bound passes, from the start.
		bound  time.Duration
		setup  func(r *run)
		decide signals.OutcomeStatus
	}
	livenessDone := []event{
		{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
		{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", signals.LivenessScoreValidated)},
		{3 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "doc-1", signals.DocumentTypeLivenessResult)},
	}
	cases := []waitCase{
		{
			name: "live verification processing", method: signals.MethodTreezorLiveness, bound: time.Minute + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				at := time.Minute + reviewAt + late
				return []event{
					{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
					{at, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", signals.LivenessScoreValidated)},
					{at + time.Minute, signals.SignalTreezorDocumentCreate, document("d", "doc-1", signals.DocumentTypeLivenessResult)},
					{at + 2*time.Minute, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
				}
			},
			decide: signals.OutcomeApproved,
		},
		{
			name: "Treezor KYC review", method: signals.MethodTreezorLiveness, bound: 3*time.Minute + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				return append(livenessDone[:3:3], event{3*time.Minute + reviewAt + late, signals.SignalTreezorKycReview, review("kr", signals.KycReviewRefused)})
			},
			decide: signals.OutcomeRefused,
		},
		{
			// Seed 001: request the KYC review "once you've received all the document.create webhooks".
			name: "liveness documents", method: signals.MethodTreezorLiveness, bound: 2*time.Minute + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				at := 2*time.Minute + reviewAt + late
				return []event{
					{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
					{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", signals.LivenessScoreValidated)},
					{at, signals.SignalTreezorDocumentCreate, document("d", "doc-1", signals.DocumentTypeLivenessResult)},
					{at + time.Minute, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
				}
			},
			decide: signals.OutcomeApproved,
		},
		{
			// Seed 002: documents "are automatically created once the qes.finalized webhook is received".
			name: "QES documents", method: signals.MethodTreezorQES, bound: created + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				at := created + reviewAt + late
				e := signals.TreezorQESEvents
				return []event{
					{created, e.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
					{at, signals.SignalTreezorDocumentCreate, document("d", "doc-1", 9)},
					{at + time.Minute, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
				}
			},
			decide: signals.OutcomeApproved,
		},
		{
			name: "Treezor KYC review after a QES", method: signals.MethodTreezorQES, bound: created + time.Minute + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				e := signals.TreezorQESEvents
				return []event{
					{created, e.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
					{created + time.Minute, signals.SignalTreezorDocumentCreate, document("d", "doc-1", 9)},
					{created + time.Minute + reviewAt + late, signals.SignalTreezorKycReview, review("kr", signals.KycReviewRefused)},
				}
			},
			decide: signals.OutcomeRefused,
		},
		{
			name: "Treezor KYC review after a video conference", method: signals.MethodTreezorVideoConference, bound: created + time.Minute + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				e := signals.TreezorVideoConferenceEvents
				return []event{
					{created, e.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
					{created + time.Minute, signals.SignalTreezorDocumentCreate, document("d", "doc-1", 9)},
					{created + time.Minute + reviewAt + late, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
				}
			},
			decide: signals.OutcomeApproved,
		},
		{
			name: "QES result", method: signals.MethodTreezorQES, bound: created + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				at := created + reviewAt + late
				e := signals.TreezorQESEvents
				return []event{
					{created, e.Processing, identEvent("p", signals.TreezorResultReviewPending, "")},
					{at, e.Finalized, identEvent("f", signals.TreezorResultSuccess, "")},
					{at + time.Minute, signals.SignalTreezorKycReview, review("kr", signals.KycReviewValidated)},
				}
			},
			decide: signals.OutcomeApproved,
		},
		{
			name: "video conference fraud check", method: signals.MethodTreezorVideoConference, bound: created + reviewAt,
			setup: func(r *run) { r.treezorOK() },
			events: func(late time.Duration) []event {
				e := signals.TreezorVideoConferenceEvents
				return []event{
					{created, e.Finalized, identEvent("fp", signals.TreezorResultFraudSuspicionPending, "")},
					{created + reviewAt + late, e.Finalized, identEvent("f", signals.TreezorResultFraudSuspicionConfirmed, "4212")},
				}
			},
			decide: signals.OutcomeFraudSuspected,
		},
		{
			name: "IDnow second-line review", method: signals.MethodSolarisIDnow, bound: created + reviewAt,
			setup: func(r *run) { r.solarisOK(signals.SolarisStatusPendingSuccessful, "") },
			events: func(late time.Duration) []event {
				return []event{
					{created, signals.SignalSolarisIdentification, solarisEvent("e1", signals.SolarisStatusPendingSuccessful)},
					{created + reviewAt + late, signals.SignalSolarisIdentification, solarisEvent("e2", signals.SolarisStatusSuccessful)},
				}
			},
			decide: signals.OutcomeApproved,
		},
	}
	lateness := []struct {
		name string
		late time.Duration
		want func(decided signals.OutcomeStatus) signals.OutcomeStatus
	}{
		{"an hour late", time.Hour, func(d signals.OutcomeStatus) signals.OutcomeStatus { return d }},
		{"three days late", 3 * day, func(d signals.OutcomeStatus) signals.OutcomeStatus { return d }},
		{"after the hard limit", overdueLimit + time.Hour, func(signals.OutcomeStatus) signals.OutcomeStatus { return signals.OutcomeReviewTimeout }},
	}
	for _, c := range cases {
		for _, l := range lateness {
			t.Run(c.name+"/"+l.name, func(t *testing.T) {
				r := newRun(t)
				r.method = c.method
				c.setup(r)
				r.deliver(c.events(l.late))
				var during signals.Status
				r.env.RegisterDelayedCallback(func() {
					v, err := r.env.QueryWorkflow(signals.QueryStatus)
					require.NoError(t, err)
					require.NoError(t, v.Get(&during))
				}, c.bound+time.Minute)
				start := r.env.Now()
				o := r.execute()

				require.Equal(t, l.want(c.decide), o.Status, "detail: %s", o.Detail)
				require.Equal(t, signals.StepOverdue, during.Step, "a minute past the bound")
				require.NotNil(t, during.Overdue)
				require.WithinDuration(t, start.Add(c.bound), during.Overdue.Since, 0)
				require.WithinDuration(t, start.Add(c.bound+overdueLimit), during.Overdue.Limit, 0)
				require.NotEmpty(t, during.Overdue.WaitingFor)
				if o.Status == signals.OutcomeReviewTimeout {
					require.Equal(t, c.bound+overdueLimit, o.CompletedAt.Sub(start), "review_timeout at the hard limit")
					require.Contains(t, o.Detail, "overdue")
				}
			})
		}
	}
}

// TestOverdueReviewReadsTreezorOnABackoff: Treezor's user.kycreview never comes, but its API has the decision. The
// overdue review reads the user at the bound, then 1 h, 2 h, 4 h... later (up to 12 h apart), and the first read
// that finds the decision approves.
func TestOverdueReviewReadsTreezorOnABackoff(t *testing.T) {
	r := newRun(t)
	r.env.OnActivity(tz.Initiate, mock.Anything, mock.Anything).Return(activities.Identification{ID: testRef, URL: testURL}, nil)
	r.env.OnActivity(tz.RetrieveLivenessDocuments, mock.Anything, testUser).Return(nil)
	r.listDocuments()
	r.env.OnActivity(tz.RequestKYCReview, mock.Anything, mock.Anything).Return(activities.UserKYC{KycReview: signals.KycReviewPending}, nil)
	var reads []time.Duration
	start := r.env.Now()
	r.env.OnActivity(tz.GetUserKYC, mock.Anything, testUser).Return(
		func(_ context.Context, _ string) (activities.UserKYC, error) {
			reads = append(reads, r.env.Now().Sub(start))
			if len(reads) < 5 {
				return activities.UserKYC{KycReview: signals.KycReviewPending}, nil
			}
			return activities.UserKYC{KycReview: signals.KycReviewValidated}, nil
		})
	r.deliver([]event{
		{time.Minute, signals.SignalTreezorKycLivenessCreate, livenessCreate("c")},
		{2 * time.Minute, signals.SignalTreezorKycLivenessUpdate, livenessUpdate("u", signals.LivenessScoreValidated)},
		{3 * time.Minute, signals.SignalTreezorDocumentCreate, document("d", "doc-1", signals.DocumentTypeLivenessResult)},
	})
	o := r.execute()
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	require.Contains(t, o.Detail, "read from Treezor while overdue")
	bound := 3*time.Minute + day
	require.Equal(t, []time.Duration{bound, bound + time.Hour, bound + 3*time.Hour, bound + 7*time.Hour, bound + 15*time.Hour}, reads)
}
