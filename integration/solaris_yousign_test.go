package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/signals"
)

// TestIntegrationSolarisIDnow runs a Solaris IDnow identification: the workflow is found by its identification ID
// (as the relay finds it: Solaris' webhook names no person), the user aborts and comes back, IDnow's second-line
// review passes, and the documents are fetched.
func TestIntegrationSolarisIDnow(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const person = "a1b2c3cper"
	v, ident, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodSolarisIDnow, SubjectID: person, Language: "DE"})
	require.NoError(t, err)
	require.Equal(t, "https://go.test.idnow.example/app/kycflow/identifications/idt-"+person, ident.URL)
	require.Equal(t, 14*24*time.Hour, time.Until(ident.ExpiresAt).Round(time.Hour))
	// Seed 003: PATCH .../request answers with the url "for web browser" and the reference "for mobile app": the
	// backend's app gets the reference for the IDnow SDK, and nothing else does.
	require.Equal(t, "TST-SECRET", ident.SDKToken)
	st, err := s.Starter.Status(ctx, v)
	require.NoError(t, err)
	statusJSON, err := json.Marshal(st)
	require.NoError(t, err)
	require.NotContains(t, string(statusJSON), "TST-SECRET", "the status query never shows the IDnow reference")

	workflowID := s.FindByProviderReference(t, "idt-"+person)
	require.Equal(t, v.WorkflowID, workflowID)
	event := func(id, status string) signals.SolarisIdentificationEvent {
		return signals.SolarisIdentificationEvent{Webhook: signals.Webhook{EventID: id}, IdentificationID: "idt-" + person, Status: status}
	}
	s.Signal(t, workflowID, signals.SignalSolarisIdentification, event("w1", signals.SolarisStatusAborted))
	s.Signal(t, workflowID, signals.SignalSolarisIdentification, event("w2", signals.SolarisStatusPending))
	s.Signal(t, workflowID, signals.SignalSolarisIdentification, event("w3", signals.SolarisStatusPendingSuccessful))
	require.Eventually(t, func() bool {
		st, err := s.Starter.Status(ctx, v)
		return err == nil && st.Step == signals.StepProviderProcessing
	}, 15*time.Second, 50*time.Millisecond)
	s.Solaris.SetStatus("idt-"+person, signals.SolarisStatusSuccessful)
	s.Signal(t, workflowID, signals.SignalSolarisIdentification, event("w4", signals.SolarisStatusSuccessful))

	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	require.Equal(t, []signals.Document{{ID: "doc-idt-" + person, Type: "PASSPORT"}}, o.Documents)
	outcomeJSON, err := json.Marshal(o)
	require.NoError(t, err)
	require.NotContains(t, string(outcomeJSON), "TST-SECRET", "no outcome holds the IDnow reference")
	requireAttr(t, s, v, signals.AttrOutcome.GetName(), string(signals.OutcomeApproved))
	requireNoPendingTimers(t, s, v)
	recordHistory(t, s, v, "solaris-idnow-approved")
}

// TestIntegrationYousignVideo runs a Yousign verification that is inconclusive first (the user never started),
// then verified on the second attempt, whose URL the same update hands out.
func TestIntegrationYousignVideo(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "backend-user-7",
		RedirectURL: "https://app.example/done", Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}}
	v, first, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	firstID := s.FindByProviderReference(t, first.URL[len("https://id.ubble.example/"):])
	require.Equal(t, v.WorkflowID, firstID)

	s.Signal(t, v.WorkflowID, signals.SignalYousignVerificationDone, signals.YousignVerificationEvent{
		Webhook: signals.Webhook{EventID: "y1"}, VerificationID: first.URL[len("https://id.ubble.example/"):],
		Status: signals.YousignStatusInconclusive, StatusCodes: []string{"IDVV_1101"}})
	var second signals.Identification
	require.Eventually(t, func() bool {
		_, second, err = s.Starter.Start(ctx, in)
		return err == nil && second.URL != first.URL
	}, 15*time.Second, 100*time.Millisecond, "a new verification URL after the inconclusive one")
	secondRef := second.URL[len("https://id.ubble.example/"):]
	require.Equal(t, v.WorkflowID, s.FindByProviderReference(t, secondRef))

	s.Yousign.SetStatus(secondRef, signals.YousignStatusVerified)
	s.Signal(t, v.WorkflowID, signals.SignalYousignVerificationDone, signals.YousignVerificationEvent{
		Webhook: signals.Webhook{EventID: "y2"}, VerificationID: secondRef, Status: signals.YousignStatusVerified})
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	require.Equal(t, secondRef, o.ProviderReference)
	requireNoPendingTimers(t, s, v)

	// The names Yousign needs travel in the workflow input, encrypted by the payload codec.
	iter := s.Client.GetWorkflowHistory(ctx, v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		raw, err := proto.Marshal(e)
		require.NoError(t, err)
		require.False(t, bytes.Contains(raw, []byte("Jane")) || bytes.Contains(raw, []byte("Doe")),
			"personal data readable in history event %d (%s)", e.GetEventId(), e.GetEventType())
	}
	recordHistory(t, s, v, "yousign-video-approved")
}

// TestIntegrationYousignSpentURLIsNeverHandedOut: a Yousign URL is valid 15 minutes (seed 004, IDVV_1121 "the
// verification URL expired"). Once it has passed and no webhook came, the status query shows no URL and `renew`
// opens a new verification at once. A query runs outside any workflow task, so the workflow's clock there is the
// last task's (here the URL's issue): the query used to hand out the dead URL, and renew, seeing it expired, waited
// for the run to end (up to the verification's 7 days).
func TestIntegrationYousignSpentURLIsNeverHandedOut(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "backend-user-spent",
		RedirectURL: "https://app.example/done", Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"},
		Deadlines: signals.Deadlines{URLValidity: signals.Duration(2 * time.Second)}}
	v, first, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	time.Sleep(time.Until(first.ExpiresAt) + 500*time.Millisecond)

	st, err := s.Starter.Status(ctx, v)
	require.NoError(t, err)
	require.Empty(t, st.IdentificationURL, "the status query hands out a URL that expired at %s", first.ExpiresAt)
	require.Equal(t, signals.StepAwaitingUser, st.Step)

	renewCtx, cancelRenew := context.WithTimeout(ctx, 15*time.Second)
	defer cancelRenew()
	rv, second, err := s.Starter.Renew(renewCtx, in)
	require.NoError(t, err, "renew opens a new verification at once")
	require.Equal(t, v.RunID, rv.RunID, "in the same run")
	require.NotEqual(t, first.URL, second.URL)
	require.True(t, second.ExpiresAt.After(time.Now()), "the new URL is valid")
	require.NoError(t, s.Starter.Cancel(ctx, v, "test done"))
}
