package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

var ys *activities.Yousign

func yousignEvent(id, verification, status string, codes ...string) signals.YousignVerificationEvent {
	return signals.YousignVerificationEvent{Webhook: signals.Webhook{EventID: id}, VerificationID: verification, Status: status, StatusCodes: codes}
}

// yousignOK mocks Yousign: verification N gets ID "ver-N" and URL ".../ver-N"; reads answer with readStatus.
func (r *run) yousignOK(readStatus string, readCodes ...string) *run {
	r.method = signals.MethodYousignVideo
	created := 0
	r.env.OnActivity(ys.CreateVerification, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.YousignCreateRequest) (activities.YousignVerification, error) {
			created++
			id := "ver-" + string(rune('0'+created))
			return activities.YousignVerification{ID: id, URL: "https://id.ubble.example/" + id, Status: signals.YousignStatusPending}, nil
		}).Maybe()
	r.env.OnActivity(ys.GetVerification, mock.Anything, mock.Anything).Return(
		func(_ context.Context, id string) (activities.YousignVerification, error) {
			if st, ok := r.yousignReads[id]; ok {
				return activities.YousignVerification{ID: id, Status: st}, nil
			}
			if ev, ok := r.yousignFinal[id]; ok {
				return activities.YousignVerification{ID: id, Status: ev.Status, StatusCodes: ev.StatusCodes}, nil
			}
			return activities.YousignVerification{ID: id, Status: readStatus, StatusCodes: readCodes}, nil
		}).Maybe()
	return r
}

func (r *run) executeYousign(maxAttempts int) signals.Outcome {
	r.t.Helper()
	r.input = yousignInput(maxAttempts)
	return r.execute()
}

// yousignInput is a Yousign verification's input, with maxAttempts (0: the default).
func yousignInput(maxAttempts int) *signals.VerificationInput {
	return &signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "backend-user-42",
		RedirectURL: "https://app.example/done", MaxAttempts: maxAttempts,
		Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}}
}

func TestYousignVideoOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		events      []event
		readStatus  string
		readCodes   []string
		wantStatus  signals.OutcomeStatus
		wantReasons []string
		wantElapsed time.Duration
		wantCreated int
	}{
		{
			name: "verified", readStatus: signals.YousignStatusVerified,
			events:     []event{{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusVerified)}},
			wantStatus: signals.OutcomeApproved, wantElapsed: 10 * time.Minute, wantCreated: 1,
		},
		{
			name: "failed with codes", readStatus: signals.YousignStatusFailed, readCodes: []string{"IDVV_2101"},
			events:     []event{{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusFailed, "IDVV_2101")}},
			wantStatus: signals.OutcomeRefused, wantReasons: []string{"IDVV_2101"}, wantElapsed: 10 * time.Minute, wantCreated: 1,
		},
		{
			// Seed 004: IDVV_1113, camera access refused: a new verification opens at once.
			name: "inconclusive, then verified on the second attempt", readStatus: signals.YousignStatusVerified,
			events: []event{
				{20 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1113")},
				{30 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusVerified)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 30 * time.Minute, wantCreated: 2,
		},
		{
			name: "inconclusive twice: attempts exhausted", readStatus: signals.YousignStatusPending,
			events: []event{
				{20 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1113")},
				{40 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusInconclusive, "IDVV_1111")},
			},
			wantStatus: signals.OutcomeAborted, wantReasons: []string{"IDVV_1111"}, wantElapsed: 40 * time.Minute, wantCreated: 2,
		},
		{
			name: "three attempts allowed", maxAttempts: 3, readStatus: signals.YousignStatusVerified,
			events: []event{
				{20 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1113")},
				{40 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusInconclusive, "IDVV_1201")},
				{50 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e3", "ver-3", signals.YousignStatusVerified)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 50 * time.Minute, wantCreated: 3,
		},
		{
			name: "expired after 7 days (IDVV_1199)", readStatus: signals.YousignStatusPending,
			events: []event{
				{7*day - time.Hour, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1199")},
			},
			wantStatus: signals.OutcomeExpired, wantReasons: []string{"IDVV_1199"}, wantElapsed: 7*day - time.Hour, wantCreated: 1,
		},
		{
			name: "missing webhook reconciled after the URL and review bound", readStatus: signals.YousignStatusVerified,
			wantStatus: signals.OutcomeApproved, wantElapsed: 15*time.Minute + day, wantCreated: 1,
		},
		{
			// No code from Yousign, none invented.
			name: "never finished: pending until the 7-day expiry", readStatus: signals.YousignStatusPending,
			wantStatus: signals.OutcomeExpired, wantElapsed: 7 * day, wantCreated: 1,
		},
		{
			name: "a late result for the first attempt never decides the second", readStatus: signals.YousignStatusVerified,
			events: []event{
				{20 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1113")},
				{25 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1-late", "ver-1", signals.YousignStatusFailed, "IDVV_2101")},
				{25 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1121")},
				{30 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusVerified)},
			},
			wantStatus: signals.OutcomeApproved, wantElapsed: 30 * time.Minute, wantCreated: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t).yousignOK(tc.readStatus, tc.readCodes...).deliver(tc.events)
			start := r.env.Now()
			o := r.executeYousign(tc.maxAttempts)
			require.Equal(t, tc.wantStatus, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tc.wantElapsed, o.CompletedAt.Sub(start))
			require.Equal(t, tc.wantCreated, r.calls["CreateVerification"])
			var codes []string
			for _, rs := range o.Reasons {
				codes = append(codes, rs.Code)
				require.True(t, rs.Known, "%s is in the Yousign catalogue", rs.Code)
			}
			require.Equal(t, tc.wantReasons, codes)
			require.Equal(t, "yousign", r.attrs["KycProvider"])
		})
	}
}

func TestYousignVideoHidesTheSpentURLWhileReopening(t *testing.T) {
	r := newRun(t)
	r.method = signals.MethodYousignVideo
	r.env.OnActivity(ys.CreateVerification, mock.Anything, mock.Anything).
		Return(activities.YousignVerification{ID: "ver-1", URL: "https://id.ubble.example/ver-1", Status: signals.YousignStatusPending}, nil).Once()
	// The second verification is slow to open: the provider fails once, and Temporal retries after a second.
	r.env.OnActivity(ys.CreateVerification, mock.Anything, mock.Anything).
		Return(activities.YousignVerification{}, temporal.NewApplicationError("HTTP 503", "ProviderUnavailable")).Once()
	r.env.OnActivity(ys.CreateVerification, mock.Anything, mock.Anything).
		Return(activities.YousignVerification{ID: "ver-2", URL: "https://id.ubble.example/ver-2", Status: signals.YousignStatusPending}, nil).Once()
	r.env.OnActivity(ys.GetVerification, mock.Anything, mock.Anything).
		Return(activities.YousignVerification{ID: "ver-2", Status: signals.YousignStatusVerified}, nil).Maybe()
	var reopening signals.Status
	r.env.RegisterDelayedCallback(func() { reopening = r.queryStatus() }, 20*time.Minute+500*time.Millisecond)
	r.deliver([]event{
		{20 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1113")},
		{30 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusVerified)},
	})
	o := r.executeYousign(0)
	require.Equal(t, signals.OutcomeApproved, o.Status)
	require.Equal(t, signals.StepInitiating, reopening.Step)
	require.Empty(t, reopening.IdentificationURL, "the spent URL is not handed out")
}

func TestYousignVideoNewURLThroughUpdateAndStatus(t *testing.T) {
	r := newRun(t).yousignOK(signals.YousignStatusVerified)
	var first, second signals.Identification
	update := func(into *signals.Identification) func() {
		return func() {
			r.env.UpdateWorkflow(signals.UpdateIdentificationURL, "u-"+time.Duration(r.env.Now().UnixNano()).String(), &testsuite.TestUpdateCallback{
				OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnAccept: func() {},
				OnComplete: func(v any, err error) { require.NoError(t, err); *into = v.(signals.Identification) },
			}, signals.URLRequest{Method: signals.MethodYousignVideo})
		}
	}
	r.env.RegisterDelayedCallback(update(&first), 0)
	r.env.RegisterDelayedCallback(update(&second), 25*time.Minute)
	var st signals.Status
	r.env.RegisterDelayedCallback(func() { st = r.queryStatus() }, 26*time.Minute)
	r.deliver([]event{
		{20 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1121")},
		{30 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusVerified)},
	})
	o := r.executeYousign(0)
	require.Equal(t, signals.OutcomeApproved, o.Status)
	require.Equal(t, "https://id.ubble.example/ver-1", first.URL)
	require.Equal(t, "https://id.ubble.example/ver-2", second.URL, "the second attempt's URL through the same update")
	require.Equal(t, "https://id.ubble.example/ver-2", st.IdentificationURL)
	require.NotEmpty(t, st.UserMessage, "the inconclusive reason is explained while the user retries")
}

// TestYousignAttemptPolicy follows seed 004's inconclusive codes and lifetimes: a code the user can fix at once
// (IDVV_1113, camera refused) opens a new verification at once; one that says the user left or put it off
// (IDVV_1111 "later", IDVV_1101 never started) waits, without burning a 15-minute URL, until the backend asks for a
// URL again; IDVV_3001 (explicit refusal) ends it; each verification expires 7 days after its own creation; and a
// URL asked for after the 15 minutes opens a new verification at once instead of handing out the spent one.
func TestYousignAttemptPolicy(t *testing.T) {
	tests := []struct {
		name        string
		events      []event
		urlAskedAt  []time.Duration // when the backend asks for a URL (a joining start or renew)
		readStatus  string
		reads       map[string]string // read status per verification, until its webhook
		maxAttempts int
		wantStatus  signals.OutcomeStatus
		wantCreated int
		wantElapsed time.Duration
		wantURLs    []string // what each URL request got
	}{
		{
			name: "put off (IDVV_1111): no new verification until a URL is asked for", readStatus: signals.YousignStatusVerified,
			events: []event{
				{10 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1111")},
				{2*day + time.Hour, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusVerified)},
			},
			urlAskedAt: []time.Duration{2 * day},
			wantStatus: signals.OutcomeApproved, wantCreated: 2, wantElapsed: 2*day + time.Hour,
			wantURLs: []string{"https://id.ubble.example/ver-2"},
		},
		{
			name: "never started (IDVV_1101), and nobody asks again", readStatus: signals.YousignStatusPending,
			events: []event{
				{time.Hour, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1101")},
			},
			wantStatus: signals.OutcomeAborted, wantCreated: 1, wantElapsed: 7 * day,
		},
		{
			name: "explicit refusal (IDVV_3001) ends it", readStatus: signals.YousignStatusPending,
			events: []event{
				{5 * time.Minute, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_3001")},
			},
			wantStatus: signals.OutcomeAborted, wantCreated: 1, wantElapsed: 5 * time.Minute,
		},
		{
			name: "a URL asked for after its 15 minutes opens a new verification", readStatus: signals.YousignStatusVerified,
			events: []event{
				{time.Hour, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusVerified)},
			},
			urlAskedAt: []time.Duration{5 * time.Minute, 30 * time.Minute},
			wantStatus: signals.OutcomeApproved, wantCreated: 2, wantElapsed: time.Hour,
			wantURLs: []string{"https://id.ubble.example/ver-1", "https://id.ubble.example/ver-2"},
		},
		{
			// The first verification's result comes late, while the run waits for the user after the second's
			// inconclusive one: it is Yousign's decision, not lost.
			name: "an earlier verification decides while the run waits for the user", readStatus: signals.YousignStatusVerified,
			maxAttempts: 3,
			reads:       map[string]string{"ver-1": signals.YousignStatusPending, "ver-2": signals.YousignStatusInconclusive},
			events: []event{
				{time.Hour, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusInconclusive, "IDVV_1101")},
				{2 * time.Hour, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusVerified)},
			},
			urlAskedAt: []time.Duration{30 * time.Minute},
			wantStatus: signals.OutcomeApproved, wantCreated: 2, wantElapsed: 2 * time.Hour,
			wantURLs: []string{"https://id.ubble.example/ver-2"},
		},
		{
			name: "the second verification has its own 7 days", readStatus: signals.YousignStatusVerified,
			reads: map[string]string{"ver-1": signals.YousignStatusPending, "ver-2": signals.YousignStatusPending},
			events: []event{
				{6 * day, signals.SignalYousignVerificationDone, yousignEvent("e1", "ver-1", signals.YousignStatusInconclusive, "IDVV_1113")},
				{12 * day, signals.SignalYousignVerificationDone, yousignEvent("e2", "ver-2", signals.YousignStatusVerified)},
			},
			wantStatus: signals.OutcomeApproved, wantCreated: 2, wantElapsed: 12 * day,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t).yousignOK(tt.readStatus).deliver(tt.events)
			r.yousignReads = tt.reads
			for _, e := range tt.events {
				// Once Yousign has sent a result, reading the verification finds it.
				ev := e.payload.(signals.YousignVerificationEvent)
				r.env.RegisterDelayedCallback(func() { delete(r.yousignReads, ev.VerificationID) }, e.at)
			}
			urls := make([]string, len(tt.urlAskedAt))
			for i, at := range tt.urlAskedAt {
				r.env.RegisterDelayedCallback(func() {
					r.env.UpdateWorkflow(signals.UpdateIdentificationURL, fmt.Sprintf("u-%d", i), &testsuite.TestUpdateCallback{
						OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnAccept: func() {},
						OnComplete: func(v any, err error) {
							require.NoError(t, err)
							urls[i] = v.(signals.Identification).URL
						},
					}, signals.URLRequest{Method: signals.MethodYousignVideo})
				}, at)
			}
			start := r.env.Now()
			o := r.executeYousign(tt.maxAttempts)
			require.Equal(t, tt.wantStatus, o.Status, "detail: %s", o.Detail)
			require.Equal(t, tt.wantCreated, r.calls["CreateVerification"])
			require.Equal(t, tt.wantElapsed, o.CompletedAt.Sub(start))
			if tt.wantURLs != nil {
				require.Equal(t, tt.wantURLs, urls)
			}
		})
	}
}

// TestYousignMaxAttemptsIsBounded: each attempt is a new verification for the user; the input bounds them.
func TestYousignMaxAttemptsIsBounded(t *testing.T) {
	in := signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "u-1", RedirectURL: "https://app.example/done",
		Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}, MaxAttempts: signals.MaxYousignAttempts + 1}
	require.ErrorContains(t, in.ValidateForStart(), "maxAttempts")
	// Runs started before the bound keep replaying: the workflow's own check applies it from version 6 only.
	require.NoError(t, in.Validate())
	in.MaxAttempts = signals.MaxYousignAttempts
	require.NoError(t, in.ValidateForStart())
}
