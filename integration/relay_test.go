package integration_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/grpc"

	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/relay"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// The relay's webhook secrets in these tests. Each provider has two, the first standing for a secret being
// rotated out.
var relaySecrets = map[signals.Provider]string{
	signals.ProviderTreezor: "integration-treezor-secret",
	signals.ProviderSolaris: "integration-solaris-secret",
	signals.ProviderYousign: "integration-yousign-secret",
}

// relayServer is the relay's handler over real HTTP, signalling a real Temporal through relay.TemporalSignaler.
type relayServer struct {
	*httptest.Server
	// admin serves /readyz and /metrics, as the relay does on its admin address.
	admin *httptest.Server
}

// startRelay serves a relay on its own client to hostPort, dialed as the relay's module dials it: with the
// payload codec and the signal deduplication option.
func startRelay(t *testing.T, hostPort string, signalTimeout time.Duration) *relayServer {
	t.Helper()
	return startRelayWith(t, hostPort, signalTimeout, nil)
}

// startRelayWith is startRelay with the relay's Signaler passed through wrap (nil: as is).
func startRelayWith(t *testing.T, hostPort string, signalTimeout time.Duration, wrap func(relay.Signaler) relay.Signaler) *relayServer {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := client.Dial(client.Options{HostPort: hostPort, Logger: tlog.NewStructuredLogger(quiet),
		DataConverter:     payloadcodec.DataConverter(testenv.PayloadCodec()),
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{relay.SignalDedupDialOption()}}})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	secrets := func(p signals.Provider) relay.Secrets {
		return relay.Secrets{"rotated-out-" + string(p), relaySecrets[p]}
	}
	cfg := relay.Config{
		TreezorSecrets: secrets(signals.ProviderTreezor),
		SolarisSecrets: secrets(signals.ProviderSolaris),
		YousignSecrets: secrets(signals.ProviderYousign),
		SignalTimeout:  signalTimeout,
		LookupWait:     relay.DefaultLookupWait,
		GraceAttempts:  relay.DefaultGraceAttempts,
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var sig relay.Signaler = &relay.TemporalSignaler{Client: c, DataConverter: payloadcodec.DataConverter(testenv.PayloadCodec())}
	if wrap != nil {
		sig = wrap(sig)
	}
	h := relay.NewHandler(cfg, sig, logger)
	srv, admin := httptest.NewServer(h), httptest.NewServer(h.Admin())
	t.Cleanup(srv.Close)
	t.Cleanup(admin.Close)
	return &relayServer{Server: srv, admin: admin}
}

// delivery is one webhook as a provider sends it to the relay.
type delivery struct {
	path   string
	body   []byte
	header http.Header
}

// post delivers the webhook and returns the relay's status code and JSON answer.
func (r *relayServer) post(t *testing.T, d delivery) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL+d.path, bytes.NewReader(d.body))
	require.NoError(t, err)
	for k, v := range d.header {
		req.Header[k] = v
	}
	resp, err := r.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var answer map[string]string
	require.NoError(t, json.Unmarshal(raw, &answer), "relay answer %q", raw)
	return resp.StatusCode, answer
}

func (r *relayServer) ready(t *testing.T) bool {
	t.Helper()
	resp, err := r.admin.Client().Get(r.admin.URL + relay.PathReadyz)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// treezorDelivery is a Treezor webhook whose object_payload (inserted byte for byte) is signed as signedForm:
// the payload itself, or the PHP json_encode form Treezor documents signing.
func treezorDelivery(event, webhookID, payload, signedForm string) delivery {
	mac := hmac.New(sha256.New, []byte(relaySecrets[signals.ProviderTreezor]))
	mac.Write([]byte(signedForm))
	sig, _ := json.Marshal(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	name, _ := json.Marshal(event)
	id, _ := json.Marshal(webhookID)
	// webhook_created_at in Treezor's documented unit, 10^-4 s.
	created := strconv.FormatInt(time.Now().UnixMicro()/100, 10)
	body := `{"webhook":` + string(name) + `,"webhook_id":` + string(id) + `,"webhook_created_at":"` + created +
		`","object":"user","object_id":"0","object_payload":` + payload +
		`,"object_payload_signature":` + string(sig) + `}`
	// Treezor has been seen sending JSON as text/plain.
	return delivery{path: relay.PathTreezor, body: []byte(body), header: http.Header{"Content-Type": {"text/plain"}}}
}

// treezorSigned is a Treezor webhook signed over its payload's bytes.
func treezorSigned(event, webhookID, payload string) delivery {
	return treezorDelivery(event, webhookID, payload, payload)
}

// hexSignature is Solaris' and Yousign's signature header value: sha256=<hex HMAC-SHA256 of the raw body>.
func hexSignature(p signals.Provider, body []byte) string {
	mac := hmac.New(sha256.New, []byte(relaySecrets[p]))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// solarisDelivery is Solaris' IDENTIFICATION webhook for one identification, as its first delivery attempt.
func solarisDelivery(deliveryID, identificationID, status string) delivery {
	body := []byte(`{"id":"` + identificationID + `","reference":"TST-RELAY","url":"https://go.test.idnow.example/",` +
		`"status":"` + status + `","completed_at":null,"method":"idnow"}`)
	return delivery{path: relay.PathSolaris, body: body, header: http.Header{
		"Content-Type":               {"application/json"},
		"Solaris-Webhook-Signature":  {hexSignature(signals.ProviderSolaris, body)},
		"Solaris-Webhook-Id":         {deliveryID},
		"Solaris-Webhook-Attempt":    {"1"},
		"Solaris-Webhook-Event-Type": {"IDENTIFICATION"},
	}}
}

// yousignDelivery is Yousign's verification.identity_video.done webhook, as its first delivery attempt.
func yousignDelivery(eventID, verificationID, status string, codes ...string) delivery {
	quoted := make([]string, len(codes))
	for i, c := range codes {
		quoted[i] = `"` + c + `"`
	}
	body := []byte(`{"event_id":"` + eventID + `","event_name":"verification.identity_video.done","event_time":"1790000000",` +
		`"subscription_id":"sub-1","subscription_description":"kycflow","sandbox":true,"data":{"identity_video":{"id":"` +
		verificationID + `","status":"` + status + `","status_codes":[` + strings.Join(quoted, ",") + `]}}}`)
	return delivery{path: relay.PathYousign, body: body, header: http.Header{
		"Content-Type":            {"application/json"},
		"X-Yousign-Signature-256": {hexSignature(signals.ProviderYousign, body)},
		"X-Yousign-Retry":         {"0"},
	}}
}

// TestIntegrationRelaySolarisAndYousign: signed Solaris and Yousign webhooks, whose bodies name no subject, reach
// their workflows through the relay's lookup by provider reference and move them on.
func TestIntegrationRelaySolarisAndYousign(t *testing.T) {
	s := testenv.Start(t)
	r := startRelay(t, s.Temporal.HostPort, 5*time.Second)
	ctx := t.Context()

	const person = "relay1cper"
	sv, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodSolarisIDnow, SubjectID: person})
	require.NoError(t, err)
	status, answer := r.post(t, solarisDelivery("sol-1", "idt-"+person, signals.SolarisStatusPendingSuccessful))
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	require.Equal(t, relay.ResultSignalled, answer["result"])
	st := requireStep(t, s.Starter, sv, signals.StepProviderProcessing)
	require.Equal(t, signals.SolarisStatusPendingSuccessful, st.ProviderStatus)

	forged := solarisDelivery("sol-2", "idt-"+person, signals.SolarisStatusSuccessful)
	forged.header.Set("Solaris-Webhook-Signature", "sha256="+strings.Repeat("0", 64))
	status, _ = r.post(t, forged)
	require.Equal(t, http.StatusUnauthorized, status, "a forged webhook is refused")

	s.Solaris.SetStatus("idt-"+person, signals.SolarisStatusSuccessful)
	status, answer = r.post(t, solarisDelivery("sol-3", "idt-"+person, signals.SolarisStatusSuccessful))
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	o, err := s.Starter.Wait(ctx, sv)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)

	in := signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "relay-user-1", RedirectURL: "https://app.example/done",
		Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}}
	yv, ident, err := s.Starter.Start(ctx, in)
	require.NoError(t, err)
	first := strings.TrimPrefix(ident.URL, "https://id.ubble.example/")
	s.Yousign.SetStatus(first, signals.YousignStatusFailed, "IDVV_2101") // the workflow reads it to confirm the webhook
	status, answer = r.post(t, yousignDelivery("ys-1", first, signals.YousignStatusFailed, "IDVV_2101"))
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	require.Equal(t, relay.ResultSignalled, answer["result"])
	o, err = s.Starter.Wait(ctx, yv)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeRefused, o.Status, "detail: %s", o.Detail)
	require.Equal(t, "IDVV_2101", o.Reasons[0].Code)

	// After the verification closed: a redelivery of the event it received is acknowledged as delivered (Temporal
	// knows its request ID), and another event for its reference is answered 200 "already closed" at once, even
	// young: the reference's alias names the closed run, with no wait for visibility, so Yousign does not retry a
	// late event for nothing.
	status, answer = r.post(t, yousignDelivery("ys-1", first, signals.YousignStatusFailed, "IDVV_2101"))
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	require.Equal(t, relay.ResultSignalled, answer["result"])
	status, answer = r.post(t, yousignDelivery("ys-late", first, signals.YousignStatusVerified))
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	require.Equal(t, relay.ResultUnwanted, answer["result"])
	require.Equal(t, "the verification has already closed", answer["reason"])

	// A reference no verification ever carried, young: 503, for visibility may not show it yet.
	unknown := yousignDelivery("ys-2", "ver-never-issued", signals.YousignStatusFailed, "IDVV_2101")
	status, answer = r.post(t, unknown)
	require.Equal(t, http.StatusServiceUnavailable, status, "answer %v", answer)
	unknown.header.Set("X-Yousign-Retry", "4")
	status, answer = r.post(t, unknown)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, relay.ResultUnwanted, answer["result"])
	require.Equal(t, "no running workflow for this reference", answer["reason"])
}

func requireStep(t *testing.T, st *starter.Starter, v starter.Verification, want signals.Step) signals.Status {
	t.Helper()
	// A loop of its own rather than require.Eventually, whose message arguments are evaluated before the first poll
	// and so could never say what the last poll saw.
	var (
		last    signals.Status
		lastErr error
	)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		last, lastErr = st.Status(t.Context(), v)
		if lastErr == nil && last.Step == want {
			return last
		}
	}
	t.Fatalf("step %s never reached: last status %+v, last error %v", want, last, lastErr)
	return last
}

// TestIntegrationRelayTreezorLiveness runs a whole live verification on webhooks posted to the relay, signed as
// Treezor signs them, and checks what the relay refuses, forwards, and answers for events nobody wants.
func TestIntegrationRelayTreezorLiveness(t *testing.T) {
	s := testenv.Start(t)
	r := startRelay(t, s.Temporal.HostPort, 5*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	const user = "510001"
	v, ident, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: user})
	require.NoError(t, err)
	require.NotEmpty(t, ident.URL)

	// A forged webhook changes nothing.
	forged := treezorSigned(signals.SignalTreezorKycLivenessUpdate, "forged", `{"user_id":"`+user+`","kyc-status":"processed","score":1}`)
	forged.body = bytes.Replace(forged.body, []byte(`"score":1`), []byte(`"score":0`), 1)
	status, answer := r.post(t, forged)
	// Refused with the 5xx Treezor's guide asks for when signatures differ (Treezor retries it; a 4xx it drops).
	require.Equal(t, http.StatusInternalServerError, status, "answer %v", answer)
	require.Equal(t, "object_payload_signature does not match", answer["error"])

	// kycliveness.create with "/" and non-ASCII in the payload, signed in Treezor's documented canonical form.
	status, answer = r.post(t, treezorDelivery(signals.SignalTreezorKycLivenessCreate, "c-510001",
		`{"user_id": "`+user+`", "kyc-status": "processing", "comment": "Zoë / ok"}`,
		`{"user_id":"`+user+`","kyc-status":"processing","comment":"Zo\u00eb \/ ok"}`))
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	require.Equal(t, relay.ResultSignalled, answer["result"])
	requireStep(t, s.Starter, v, signals.StepProviderProcessing)

	status, _ = r.post(t, treezorSigned(signals.SignalTreezorKycLivenessUpdate, "u-510001",
		`{"user_id":"`+user+`","kyc-status":"processed","score":"1","reasons":[]}`))
	require.Equal(t, http.StatusOK, status)
	requireStep(t, s.Starter, v, signals.StepCollectingDocuments)

	// Treezor holds the document it announces (GET /v1/documents lists it).
	s.Treezor.AddDocument(user, "9001", 34)
	document := treezorSigned(signals.SignalTreezorDocumentCreate, "d-510001",
		`{"documents":[{"documentId":9001,"documentTypeId":"34","userId":`+user+`,"documentStatus":"PENDING"}]}`)
	status, _ = r.post(t, document)
	require.Equal(t, http.StatusOK, status)
	requireStep(t, s.Starter, v, signals.StepKYCReview)
	// Treezor delivers again, and the same signed object_payload comes under a fresh webhook_id (Treezor signs
	// neither the ID nor the event name): both are acknowledged, and Temporal records neither, for their signal
	// carries the digest of the signed bytes as its request ID.
	status, _ = r.post(t, document)
	require.Equal(t, http.StatusOK, status)
	replayed := treezorSigned(signals.SignalTreezorDocumentCreate, "d-510001-replayed",
		`{"documents":[{"documentId":9001,"documentTypeId":"34","userId":`+user+`,"documentStatus":"PENDING"}]}`)
	status, answer = r.post(t, replayed)
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	require.Equal(t, relay.ResultSignalled, answer["result"])
	require.Equal(t, 1, signalCount(t, s.Client, v, signals.SignalTreezorDocumentCreate), "one document.create in the history")

	// An event kycflow does not use, and one for a user without a verification: 200, so Treezor stops.
	status, answer = r.post(t, treezorSigned("card.create", "c-1", `{"cards":[{"userId":"`+user+`"}]}`))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, relay.ResultUnwanted, answer["result"])
	status, answer = r.post(t, treezorSigned(signals.SignalTreezorKycReview, "r-0", `{"users":[{"userId":"519999","kycReview":"2"}]}`))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, relay.ResultUnwanted, answer["result"])

	s.Treezor.SetKycReview(user, signals.KycReviewValidated) // Treezor's API shows the decision it announces
	status, _ = r.post(t, treezorSigned(signals.SignalTreezorKycReview, "r-510001",
		`{"users":[{"userId":"`+user+`","kycReview":"2","kycLevel":"2","kycReviewComment":"ok"}]}`))
	require.Equal(t, http.StatusOK, status)
	o, err := s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeApproved, o.Status, "detail: %s", o.Detail)
	require.Equal(t, []signals.Document{{ID: "9001", TypeID: 34}}, documentIDs(o.Documents))

	st, err := s.Starter.Status(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.WebhookCounts{Received: 4}, st.Webhooks, "forged, redelivered and unwanted events never reached the workflow")

	// The verification is closed. A late redelivery of an event it received is acknowledged as delivered
	// (Temporal knows its request ID), and a new event is unwanted: 200 either way, so Treezor stops retrying.
	status, answer = r.post(t, document)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, relay.ResultSignalled, answer["result"])
	status, answer = r.post(t, treezorSigned(signals.SignalTreezorDocumentCreate, "d-510001-late",
		`{"documents":[{"documentId":9002,"documentTypeId":"9","userId":`+user+`,"documentStatus":"PENDING"}]}`))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, relay.ResultUnwanted, answer["result"])
}

func documentIDs(docs []signals.Document) []signals.Document {
	out := make([]signals.Document, len(docs))
	for i, d := range docs {
		out[i] = signals.Document{ID: d.ID, TypeID: d.TypeID}
	}
	return out
}

// TestIntegrationRelayFindsRunningByReference checks the visibility query the relay uses for Solaris and Yousign
// against a real server, on a Treezor verification (whose KycProviderReference is the fake's identification ID).
func TestIntegrationRelayFindsRunningByReference(t *testing.T) {
	s := testenv.Start(t)
	sig := &relay.TemporalSignaler{Client: s.Client, DataConverter: payloadcodec.DataConverter(testenv.PayloadCodec())}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	const user = "510002"
	v, _, err := s.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: user})
	require.NoError(t, err)
	ref := "idv-" + user
	var workflowID, runID string
	require.Eventually(t, func() bool {
		workflowID, runID, err = sig.FindRunning(ctx, ref)
		return err == nil
	}, 15*time.Second, 100*time.Millisecond, "visibility finds %s: %v", ref, err)
	require.Equal(t, v.WorkflowID, workflowID)
	require.Equal(t, v.RunID, runID)

	_, _, err = sig.FindRunning(ctx, "idv-nobody")
	require.ErrorIs(t, err, relay.ErrNotFound)
	_, _, err = sig.FindRunning(ctx, `it's a \ test`)
	require.ErrorIs(t, err, relay.ErrNotFound, "quotes are escaped: no query syntax error")

	require.NoError(t, s.Starter.Cancel(ctx, v, "relay integration test"))
	_, err = s.Starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, _, err = sig.FindRunning(ctx, ref)
		return errors.Is(err, relay.ErrNotFound)
	}, 15*time.Second, 100*time.Millisecond, "a closed verification is not running")
	closed, err := sig.ClosedWithReference(ctx, ref)
	require.NoError(t, err)
	require.True(t, closed, "the closed verification carries the reference")
	closed, err = sig.ClosedWithReference(ctx, "idv-nobody")
	require.NoError(t, err)
	require.False(t, closed)

	err = sig.Signal(ctx, v.WorkflowID, "", signals.SignalTreezorKycReview, signals.TreezorKycReviewEvent{})
	require.ErrorIs(t, err, relay.ErrClosed, "a signal to a closed workflow")
	err = sig.Signal(ctx, "kyc/treezor/510404", "", signals.SignalTreezorKycReview, signals.TreezorKycReviewEvent{})
	require.ErrorIs(t, err, relay.ErrNotFound, "a signal to a workflow that never existed")
	require.NotErrorIs(t, err, relay.ErrClosed)
}

// outageCase is one provider's verification whose webhook is retried across a Temporal outage.
type outageCase struct {
	name string
	// start starts the verification and delivers what must precede the webhook.
	start func(t *testing.T, o *outageStack) starter.Verification
	// webhook is the delivery the provider retries across the outage; signal is its signal name.
	webhook func(v starter.Verification) delivery
	signal  string
	// after is the step the verification reaches once the webhook is in.
	after signals.Step
}

// outageCases lists the providers whose webhooks must survive a Temporal outage.
var outageCases = []outageCase{
	{
		name: "treezor kycliveness.update",
		start: func(t *testing.T, o *outageStack) starter.Verification {
			v, _, err := o.starter.Start(t.Context(), signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "520001"})
			require.NoError(t, err)
			status, answer := o.relay.post(t, treezorSigned(signals.SignalTreezorKycLivenessCreate, "c-520001", `{"user_id":"520001","kyc-status":"processing"}`))
			require.Equal(t, http.StatusOK, status, "answer %v", answer)
			requireStep(t, o.starter, v, signals.StepProviderProcessing)
			return v
		},
		webhook: func(starter.Verification) delivery {
			return treezorSigned(signals.SignalTreezorKycLivenessUpdate, "u-520001", `{"user_id":"520001","kyc-status":"processed","score":1}`)
		},
		signal: signals.SignalTreezorKycLivenessUpdate,
		after:  signals.StepCollectingDocuments,
	},
	{
		name: "solaris identification",
		start: func(t *testing.T, o *outageStack) starter.Verification {
			v, _, err := o.starter.Start(t.Context(), signals.VerificationInput{Method: signals.MethodSolarisIDnow, SubjectID: "outage1cper"})
			require.NoError(t, err)
			return v
		},
		webhook: func(starter.Verification) delivery {
			return solarisDelivery("sol-outage", "idt-outage1cper", signals.SolarisStatusPendingSuccessful)
		},
		signal: signals.SignalSolarisIdentification,
		after:  signals.StepProviderProcessing,
	},
	{
		name: "yousign verification done",
		start: func(t *testing.T, o *outageStack) starter.Verification {
			v, _, err := o.starter.Start(t.Context(), signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "outage-user",
				RedirectURL: "https://app.example/done", Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}})
			require.NoError(t, err)
			return v
		},
		// The fake's first verification is ver-1; the verification stays open on its second attempt.
		webhook: func(starter.Verification) delivery {
			return yousignDelivery("ys-outage", "ver-1", signals.YousignStatusInconclusive, "IDVV_1101")
		},
		signal: signals.SignalYousignVerificationDone,
		after:  signals.StepAwaitingUser,
	},
}

// outageStack is a dev server of the test's own, on a fixed port with a database file so that it can be stopped
// and started again with its state, with an in-process worker and the relay.
type outageStack struct {
	opts     devstack.TemporalOptions
	temporal *devstack.Temporal
	client   client.Client
	starter  *starter.Starter
	relay    *relayServer
}

func startOutageStack(t *testing.T, dynamicConfig ...string) *outageStack {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server (run `make test`)")
	}
	port, err := devstack.FreePort()
	require.NoError(t, err)
	o := &outageStack{opts: devstack.TemporalOptions{Port: port, DBFile: filepath.Join(t.TempDir(), "temporal.db"),
		DynamicConfig: dynamicConfig}}
	o.temporal, err = devstack.StartTemporal(t.Context(), o.opts)
	require.NoError(t, err)
	t.Cleanup(func() { o.temporal.Stop() })

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o.client, err = client.Dial(client.Options{HostPort: o.temporal.HostPort, Logger: tlog.NewStructuredLogger(quiet),
		DataConverter: payloadcodec.DataConverter(testenv.PayloadCodec())})
	require.NoError(t, err)
	t.Cleanup(o.client.Close)
	o.starter = &starter.Starter{Client: o.client}

	_, stopWorker, err := testenv.StartWorker(o.client)
	require.NoError(t, err)
	t.Cleanup(stopWorker)

	// A short signal timeout: the provider waits on the relay while Temporal is down.
	o.relay = startRelay(t, o.temporal.HostPort, 3*time.Second)
	return o
}

// workerPolls reports whether the restarted server has seen the worker poll for both workflow and activity tasks.
func (o *outageStack) workerPolls(t *testing.T) bool {
	for _, tq := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		resp, err := o.client.DescribeTaskQueue(t.Context(), signals.TaskQueue, tq)
		if err != nil || len(resp.GetPollers()) == 0 {
			return false
		}
	}
	return true
}

// restart starts the dev server again on the same port and database file.
func (o *outageStack) restart(t *testing.T) {
	t.Helper()
	var err error
	o.temporal, err = devstack.StartTemporal(t.Context(), o.opts)
	require.NoError(t, err)
}

// TestIntegrationRelayTemporalOutage: while Temporal is down the relay answers 503, so the provider retries;
// the retry after Temporal is back is signalled, and the workflow receives the event exactly once.
func TestIntegrationRelayTemporalOutage(t *testing.T) {
	o := startOutageStack(t)
	require.True(t, o.relay.ready(t))
	started := map[string]starter.Verification{}
	for _, tc := range outageCases {
		started[tc.name] = tc.start(t, o)
	}

	o.temporal.Stop()
	require.False(t, o.relay.ready(t), "readyz reports Temporal down")
	for _, tc := range outageCases {
		status, answer := o.relay.post(t, tc.webhook(started[tc.name]))
		require.Equal(t, http.StatusServiceUnavailable, status, "%s during the outage: %v", tc.name, answer)
		require.Equal(t, "temporal unavailable, retry later", answer["error"])
	}

	o.restart(t)
	require.Eventually(t, func() bool { return o.relay.ready(t) }, time.Minute, 200*time.Millisecond, "the relay reaches Temporal again")
	// The worker's pollers back off while the server is down (up to about 10 s between tries) and the restarted
	// server forgets them; wait until they poll again, so that the step checks below measure the relay and the
	// workflow rather than the SDK's poll backoff on a loaded machine.
	require.Eventually(t, func() bool { return o.workerPolls(t) }, time.Minute, 200*time.Millisecond, "the worker polls again")
	for _, tc := range outageCases {
		t.Run(tc.name, func(t *testing.T) {
			v := started[tc.name]
			status, answer := o.relay.post(t, tc.webhook(v))
			require.Equal(t, http.StatusOK, status, "the provider's retry: %v", answer)
			require.Equal(t, relay.ResultSignalled, answer["result"])

			st := requireStep(t, o.starter, v, tc.after)
			require.Zero(t, st.Webhooks.Duplicates, "the webhook reached the workflow once")
			require.Equal(t, 1, signalCount(t, o.client, v, tc.signal), "one %s signal in the history", tc.signal)
		})
	}
}

// signalCount counts the WorkflowExecutionSignaled events of one signal name in the run's history.
func signalCount(t *testing.T, c client.Client, v starter.Verification, name string) int {
	t.Helper()
	n := 0
	iter := c.GetWorkflowHistory(t.Context(), v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
			e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == name {
			n++
		}
	}
	return n
}

// TestIntegrationRelayRoutesWithVisibilityRateLimited: with the server's visibility rate limit at 1 request per
// second and visibility kept busy, Solaris and Yousign webhooks that name only the provider's reference are still
// routed at once: the relay reads the reference's alias, a strongly consistent call outside that limit.
func TestIntegrationRelayRoutesWithVisibilityRateLimited(t *testing.T) {
	o := startOutageStack(t, "frontend.namespaceRPS.visibility=1", "frontend.namespaceBurstRatio.visibility=1")
	sol, _, err := o.starter.Start(t.Context(), signals.VerificationInput{Method: signals.MethodSolarisIDnow, SubjectID: "ratelimit1cper"})
	require.NoError(t, err)
	ys, ident, err := o.starter.Start(t.Context(), signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "ratelimit-user",
		RedirectURL: "https://app.example/done", Yousign: &signals.YousignPerson{FirstName: "Jane", LastName: "Doe"}})
	require.NoError(t, err)

	// Keep visibility at its limit, and check that the limit bites: the SDK retries a ResourceExhausted answer
	// with backoff, so the hog completes about one query a second instead of hundreds.
	ctx, stopHog := context.WithCancel(t.Context())
	defer stopHog()
	var queries atomic.Int64
	go func() {
		for ctx.Err() == nil {
			if _, err := o.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowType = 'none'"}); err == nil {
				queries.Add(1)
			}
		}
	}()
	time.Sleep(3 * time.Second)
	require.Less(t, queries.Load(), int64(10), "visibility is rate limited to about one query a second")

	verification := strings.TrimPrefix(ident.URL, "https://id.ubble.example/")
	counted := &visibilityCounter{}
	r := startRelayWith(t, o.temporal.HostPort, 3*time.Second, func(s relay.Signaler) relay.Signaler { counted.Signaler = s; return counted })
	for _, d := range []delivery{
		solarisDelivery("sol-rl", "idt-ratelimit1cper", signals.SolarisStatusPendingSuccessful),
		yousignDelivery("ys-rl", verification, signals.YousignStatusInconclusive, "IDVV_1101"),
	} {
		status, answer := r.post(t, d)
		require.Equal(t, http.StatusOK, status, "answer %v", answer)
		require.Equal(t, relay.ResultSignalled, answer["result"])
	}
	require.Zero(t, counted.queries.Load(), "the relay asked visibility nothing")
	requireStep(t, o.starter, sol, signals.StepProviderProcessing)
	require.Equal(t, 1, signalCount(t, o.client, ys, signals.SignalYousignVerificationDone))
}

// visibilityCounter is the relay's real Signaler, counting the visibility queries it makes.
type visibilityCounter struct {
	relay.Signaler
	queries atomic.Int64
}

func (v *visibilityCounter) FindRunning(ctx context.Context, ref string) (string, string, error) {
	v.queries.Add(1)
	return v.Signaler.FindRunning(ctx, ref)
}

func (v *visibilityCounter) ClosedWithReference(ctx context.Context, ref string) (bool, error) {
	v.queries.Add(1)
	return v.Signaler.ClosedWithReference(ctx, ref)
}
