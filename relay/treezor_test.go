package relay

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

// tzHook builds a Treezor webhook body with object_payload inserted byte for byte.
type tzHook struct {
	event, id, createdAt string
	payload              string
	// sig is object_payload_signature; empty leaves the field out.
	sig string
}

func (w tzHook) body() string {
	var b strings.Builder
	b.WriteString(`{"webhook":` + quote(w.event) + `,"webhook_id":` + quote(w.id))
	if w.createdAt != "" {
		b.WriteString(`,"webhook_created_at":` + w.createdAt)
	}
	b.WriteString(`,"object":"user","object_id":"999","object_payload":` + w.payload)
	if w.sig != "" {
		b.WriteString(`,"object_payload_signature":` + quote(w.sig))
	}
	b.WriteString("}")
	return b.String()
}

// signedTreezor is a webhook signed over the payload's bytes with secret.
func signedTreezor(event, id, payload, secret string) string {
	return tzHook{event: event, id: id, createdAt: `"17000000000000"`, payload: payload, sig: hmacBase64(secret, payload)}.body()
}

func treezorRequest(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, PathTreezor, strings.NewReader(body))
	// Treezor has been seen sending JSON as text/plain: the relay must not care.
	req.Header.Set("Content-Type", "text/plain")
	return req
}

func intPtr(n int) *int { return &n }

const (
	livenessPayload = `{"user_id":"1001","kyc-status":"processed","score":1,"reasons":[{"reason-code":"2101","reason-message":"expired document"}]}`
	// rawLivenessPayload is what PHP would write with JSON_UNESCAPED_SLASHES|JSON_UNESCAPED_UNICODE and spaces:
	// its signature is over canonicalLivenessPayload, computed with Treezor's documented Python recipe.
	rawLivenessPayload       = `{"user_id": "1001", "kyc-status": "processed", "score": "1", "comment": "Zoë / Müller 😀", "reasons": [], "identity": {"last-name": "Müller", "first-name": "José", "birth-date": "1990-01-01"}}`
	canonicalLivenessPayload = `{"user_id":"1001","kyc-status":"processed","score":"1","comment":"Zo\u00eb \/ M\u00fcller \ud83d\ude00","reasons":[],"identity":{"last-name":"M\u00fcller","first-name":"Jos\u00e9","birth-date":"1990-01-01"}}`
	// canonicalLivenessSignature is base64(HMAC-SHA256("tz-secret-new", canonicalLivenessPayload)), from Python.
	canonicalLivenessSignature = "mSw+Y+52F5gPhKnNiND8S6DOIocc5kWGiXdbXKgYyww="
)

var emitted = time.Unix(1700000000, 0).UTC()

func TestTreezorWebhooks(t *testing.T) {
	wf := signals.WorkflowID(signals.ProviderTreezor, "1001")
	livenessEvent := signals.TreezorLivenessEvent{
		Webhook: signals.Webhook{EventID: "wh-1", EmittedAt: emitted}, UserID: "1001", KycStatus: "processed", Score: intPtr(1),
		Reasons: []signals.ProviderReason{{Code: "2101", Message: "expired document"}},
	}
	tests := []struct {
		name       string
		body       string
		fake       *fakeSignaler
		wantStatus int
		wantResult string
		wantEvent  string // metric label
		wantSignal *sent
	}{
		{
			name:       "valid signature",
			body:       signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"),
			wantStatus: 200, wantResult: ResultSignalled, wantEvent: "kycliveness.update",
			wantSignal: &sent{wf, "", "kycliveness.update", livenessEvent},
		},
		{
			name:       "rotated secret: the second of the list",
			body:       signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-new"),
			wantStatus: 200, wantResult: ResultSignalled, wantEvent: "kycliveness.update",
			wantSignal: &sent{wf, "", "kycliveness.update", livenessEvent},
		},
		{
			name:       "wrong secret",
			body:       signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-other"),
			wantStatus: 500, wantResult: ResultUnauthorized, wantEvent: "kycliveness.update",
		},
		{
			name: "tampered payload",
			body: tzHook{event: "kycliveness.update", id: "wh-1", payload: strings.Replace(livenessPayload, `"score":1`, `"score":0`, 1),
				sig: hmacBase64("tz-secret-old", livenessPayload)}.body(),
			wantStatus: 500, wantResult: ResultUnauthorized, wantEvent: "kycliveness.update",
		},
		{
			name:       "missing signature",
			body:       tzHook{event: "kycliveness.update", id: "wh-1", payload: livenessPayload}.body(),
			wantStatus: 500, wantResult: ResultUnauthorized, wantEvent: "kycliveness.update",
		},
		{
			name:       "signature not base64",
			body:       tzHook{event: "kycliveness.update", id: "wh-1", payload: livenessPayload, sig: "not base64!"}.body(),
			wantStatus: 500, wantResult: ResultUnauthorized, wantEvent: "kycliveness.update",
		},
		{
			name:       "signature of the whole body is not accepted",
			body:       tzHook{event: "kycliveness.update", id: "wh-1", payload: livenessPayload, sig: hmacBase64("tz-secret-old", "{}")}.body(),
			wantStatus: 500, wantResult: ResultUnauthorized, wantEvent: "kycliveness.update",
		},
		{
			name:       "malformed JSON",
			body:       `{"webhook":"kycliveness.update","object_payload":{"user_id":`,
			wantStatus: 400, wantResult: ResultMalformed, wantEvent: eventOther,
		},
		{
			name:       "empty body",
			body:       "",
			wantStatus: 400, wantResult: ResultMalformed, wantEvent: eventOther,
		},
		{
			name:       "no object_payload",
			body:       `{"webhook":"kycliveness.update","webhook_id":"wh-1","object_payload_signature":"x"}`,
			wantStatus: 400, wantResult: ResultMalformed, wantEvent: eventOther,
		},
		{
			name:       "oversized body",
			body:       signedTreezor("kycliveness.update", "wh-1", `{"user_id":"1001","kyc-status":"processed","comment":"`+strings.Repeat("x", 9<<10)+`"}`, "tz-secret-old"),
			wantStatus: 413, wantResult: ResultTooLarge, wantEvent: eventOther,
		},
		{
			name:       "unknown event, verified",
			body:       signedTreezor("card.create", "wh-2", `{"cards":[{"userId":"1001"}]}`, "tz-secret-old"),
			wantStatus: 200, wantResult: ResultUnwanted, wantEvent: eventOther,
		},
		{
			name:       "unknown event, unsigned",
			body:       tzHook{event: "card.create", id: "wh-2", payload: `{"cards":[]}`}.body(),
			wantStatus: 500, wantResult: ResultUnauthorized, wantEvent: eventOther,
		},
		{
			name:       "Temporal unavailable",
			body:       signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"),
			fake:       &fakeSignaler{signalErr: errUnavailable},
			wantStatus: 503, wantResult: ResultUnavailable, wantEvent: "kycliveness.update",
		},
		{
			name:       "workflow not found or closed",
			body:       signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"),
			fake:       &fakeSignaler{signalErr: ErrNotFound},
			wantStatus: 200, wantResult: ResultUnwanted, wantEvent: "kycliveness.update",
		},
		{
			name: "canonical-form signature: payload with / and non-ASCII",
			body: tzHook{event: "kycliveness.create", id: "wh-3", createdAt: `1700000000.0000`, payload: rawLivenessPayload,
				sig: canonicalLivenessSignature}.body(),
			wantStatus: 200, wantResult: ResultSignalled, wantEvent: "kycliveness.create",
			wantSignal: &sent{wf, "", "kycliveness.create", signals.TreezorLivenessEvent{
				Webhook: signals.Webhook{EventID: "wh-3", EmittedAt: emitted}, UserID: "1001", KycStatus: "processed", Score: intPtr(1),
			}},
		},
		{
			name: "raw-bytes signature of an already canonical payload",
			body: tzHook{event: "kycliveness.create", id: "wh-3", createdAt: `"1700000000.0000"`, payload: canonicalLivenessPayload,
				sig: canonicalLivenessSignature}.body(),
			wantStatus: 200, wantResult: ResultSignalled, wantEvent: "kycliveness.create",
			wantSignal: &sent{wf, "", "kycliveness.create", signals.TreezorLivenessEvent{
				Webhook: signals.Webhook{EventID: "wh-3", EmittedAt: emitted}, UserID: "1001", KycStatus: "processed", Score: intPtr(1),
			}},
		},
		{
			name: "the session's identification-id is passed on",
			body: signedTreezor("kycliveness.update", "wh-4",
				`{"user_id":"1001","identification-id":"f8048bee-3182-48dc-93e5-7eef9db77050","kyc-status":"processed","score":1}`, "tz-secret-old"),
			wantStatus: 200, wantResult: ResultSignalled, wantEvent: "kycliveness.update",
			wantSignal: &sent{wf, "", "kycliveness.update", signals.TreezorLivenessEvent{
				Webhook: signals.Webhook{EventID: "wh-4", EmittedAt: emitted}, UserID: "1001",
				IdentificationID: "f8048bee-3182-48dc-93e5-7eef9db77050", KycStatus: "processed", Score: intPtr(1),
			}},
		},
		{
			name:       "verified but no user in object_payload",
			body:       signedTreezor("kycliveness.update", "wh-1", `{"kyc-status":"processed","score":1}`, "tz-secret-old"),
			wantStatus: 400, wantResult: ResultMalformed, wantEvent: "kycliveness.update",
		},
		{
			name:       "user ID unfit for a workflow ID",
			body:       signedTreezor("kycliveness.update", "wh-1", `{"user_id":"10/01","kyc-status":"processed"}`, "tz-secret-old"),
			wantStatus: 400, wantResult: ResultMalformed, wantEvent: "kycliveness.update",
		},
		{
			name:       "score that is not a number",
			body:       signedTreezor("kycliveness.update", "wh-1", `{"user_id":"1001","kyc-status":"processed","score":"high"}`, "tz-secret-old"),
			wantStatus: 400, wantResult: ResultMalformed, wantEvent: "kycliveness.update",
		},
		{
			name:       "object_id is not used for routing",
			body:       signedTreezor(signals.SignalTreezorKycReview, "wh-1", `{"users":[{"kycReview":"2"}]}`, "tz-secret-old"),
			wantStatus: 400, wantResult: ResultMalformed, wantEvent: signals.SignalTreezorKycReview,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := tc.fake
			if fake == nil {
				fake = &fakeSignaler{}
			}
			h, logs := newTestHandler(t, fake)
			status, resp := serve(t, h, treezorRequest(tc.body))
			require.Equal(t, tc.wantStatus, status, "response %v", resp)
			if status == 200 {
				require.Equal(t, tc.wantResult, resp["result"])
			} else {
				require.NotEmpty(t, resp["error"], "a short reason")
			}
			assert.Equal(t, 1.0, counter(h, "treezor", tc.wantEvent, tc.wantResult))
			if tc.wantSignal == nil {
				require.Empty(t, fake.signals())
			} else {
				require.Equal(t, []sent{*tc.wantSignal}, fake.signals())
			}
			for _, personal := range []string{"Müller", "José", "1990-01-01", "expired document", "Zoë"} {
				require.NotContains(t, logs.String(), personal, "the log carries no payload content")
			}
		})
	}
}

func TestTreezorEventMapping(t *testing.T) {
	wf := func(user string) string { return signals.WorkflowID(signals.ProviderTreezor, user) }
	wh := signals.Webhook{EventID: "wh-9", EmittedAt: emitted}
	tests := []struct {
		name    string
		event   string
		payload string
		want    sent
	}{
		{"kycliveness.create with userId and string score", "kycliveness.create",
			`{"userId":2002,"kyc-status":"processing","score":"-1","reasons":[{"code":1201,"message":"m"},"1301",null]}`,
			sent{wf("2002"), "", "kycliveness.create", signals.TreezorLivenessEvent{Webhook: wh, UserID: "2002", KycStatus: "processing", Score: intPtr(-1),
				Reasons: []signals.ProviderReason{{Code: "1201", Message: "m"}, {Code: "1301"}}}}},
		{"kycliveness inside a container", "kycliveness.update",
			`{"kycliveness":[{"user_id":"2003","kyc-status":"processed","score":0}]}`,
			sent{wf("2003"), "", "kycliveness.update", signals.TreezorLivenessEvent{Webhook: wh, UserID: "2003", KycStatus: "processed", Score: intPtr(0)}}},
		{"document.create with numbers", "document.create",
			`{"documents":[{"documentId":77,"documentTypeId":34,"userId":2004,"documentType":"Certified video","documentStatus":"PENDING","name":"passport.pdf"}]}`,
			sent{wf("2004"), "", "document.create", signals.TreezorDocumentEvent{Webhook: wh, UserID: "2004", DocumentID: "77", DocumentTypeID: 34,
				DocumentType: "Certified video", DocumentStatus: "PENDING"}}},
		{"document.create with strings", "document.create",
			`{"documents":[{"documentId":"78","documentTypeId":"26","userId":"2004"}]}`,
			sent{wf("2004"), "", "document.create", signals.TreezorDocumentEvent{Webhook: wh, UserID: "2004", DocumentID: "78", DocumentTypeID: 26}}},
		{"user.kycreview with strings, as Treezor's example", "user.kycreview",
			`{"users":[{"userId":"2005","kycLevel":"2","kycReview":"2","kycReviewComment":"ok","firstname":"Jane"}]}`,
			sent{wf("2005"), "", "user.kycreview", signals.TreezorKycReviewEvent{Webhook: wh, UserID: "2005", KycReview: 2, KycLevel: 2}}},
		{"user.kycreview with numbers", "user.kycreview",
			`{"users":[{"userId":2005,"kycLevel":0,"kycReview":1}]}`,
			sent{wf("2005"), "", "user.kycreview", signals.TreezorKycReviewEvent{Webhook: wh, UserID: "2005", KycReview: 1}}},
		{"qes.finalized with a reason object", "qes.finalized",
			`{"userId":"2006","identificationId":"idn-1","result":"CANCELED","reason":{"reasonCode":3101,"reasonMessage":"DOCUMENT_EXPIRED"}}`,
			sent{wf("2006"), "", "qes.finalized", signals.TreezorIdentEvent{Webhook: wh, UserID: "2006", IdentificationID: "idn-1", Result: "CANCELED",
				Reason: &signals.ProviderReason{Code: "3101", Message: "DOCUMENT_EXPIRED"}}}},
		{"videoConference.aborted in a container, reason beside result", "videoConference.aborted",
			`{"videoConference":{"user_id":"2007","result":"ABORTED","reasonCode":"4011","reasonMessage":"USER_CANCELLATION"}}`,
			sent{wf("2007"), "", "videoConference.aborted", signals.TreezorIdentEvent{Webhook: wh, UserID: "2007", Result: "ABORTED",
				Reason: &signals.ProviderReason{Code: "4011", Message: "USER_CANCELLATION"}}}},
		{"payin.update of a SEPA transfer, amounts and names left out", "payin.update",
			`{"payins":[{"payinId":"p-1","userId":2009,"walletId":777,"payinStatus":"VALIDATED","paymentMethodId":"20",` +
				`"amount":"25.64","userFirstname":"Alex","ibanFullname":"Alex Oak","dbtrIBAN":"FR7630001007941234567890185"}]}`,
			sent{wf("2009"), "", "payin.update", signals.TreezorPayinEvent{Webhook: wh, UserID: "2009", PayinID: "p-1", WalletID: "777",
				PayinStatus: "VALIDATED", PaymentMethodID: "20"}}},
		{"qes.created in an undocumented container", "qes.created",
			`{"qesIdentifications":[{"userId":"2008"}]}`,
			sent{wf("2008"), "", "qes.created", signals.TreezorIdentEvent{Webhook: wh, UserID: "2008"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSignaler{}
			h, _ := newTestHandler(t, fake)
			body := tzHook{event: tc.event, id: "wh-9", createdAt: "17000000000000", payload: tc.payload, sig: hmacBase64("tz-secret-old", tc.payload)}.body()
			status, resp := serve(t, h, treezorRequest(body))
			require.Equal(t, 200, status, "response %v", resp)
			require.Equal(t, []sent{tc.want}, fake.signals())
		})
	}
}

func TestTreezorWrappedEnvelope(t *testing.T) {
	payload := `{"users":[{"userId":"3001","kycReview":"3","kycLevel":"4"}]}`
	body := `{"messageId":"m-1","webhookId":"wh-10","webhook":{"webhook":"user.kycreview","object":"user","object_id":"3001",` +
		`"object_payload":` + payload + `,"object_payload_signature":` + quote(hmacBase64("tz-secret-new", payload)) + `}}`
	fake := &fakeSignaler{}
	h, _ := newTestHandler(t, fake)
	status, resp := serve(t, h, treezorRequest(body))
	require.Equal(t, 200, status, "response %v", resp)
	require.Equal(t, []sent{{signals.WorkflowID(signals.ProviderTreezor, "3001"), "", "user.kycreview",
		signals.TreezorKycReviewEvent{Webhook: signals.Webhook{EventID: "wh-10"}, UserID: "3001", KycReview: 3, KycLevel: 4}}}, fake.signals())
}

// TestTreezorDuplicateDelivery: the relay forwards a redelivery as is, with the same event ID and signal key;
// Temporal records it once (TestIntegrationRelayTreezorLiveness), and the workflow deduplicates by event ID too.
func TestTreezorDuplicateDelivery(t *testing.T) {
	fake := &fakeSignaler{}
	h, _ := newTestHandler(t, fake)
	body := signedTreezor("kycliveness.update", "wh-dup", livenessPayload, "tz-secret-old")
	for range 2 {
		status, _ := serve(t, h, treezorRequest(body))
		require.Equal(t, 200, status)
	}
	got := fake.signals()
	require.Len(t, got, 2)
	for _, s := range got {
		require.Equal(t, "wh-dup", s.Payload.(signals.TreezorLivenessEvent).EventID)
	}
	require.Equal(t, 2.0, counter(h, "treezor", "kycliveness.update", ResultSignalled))
}

func TestTreezorWithoutWebhookIDUsesADigest(t *testing.T) {
	fake := &fakeSignaler{}
	h, _ := newTestHandler(t, fake)
	body := tzHook{event: "kycliveness.update", payload: livenessPayload, sig: hmacBase64("tz-secret-old", livenessPayload)}.body()
	for range 2 {
		status, _ := serve(t, h, treezorRequest(body))
		require.Equal(t, 200, status)
	}
	got := fake.signals()
	require.Len(t, got, 2)
	id := got[0].Payload.(signals.TreezorLivenessEvent).EventID
	require.Len(t, id, 64, "hex SHA-256")
	require.Equal(t, id, got[1].Payload.(signals.TreezorLivenessEvent).EventID, "a redelivery gets the same ID")
}

func TestTreezorChunkedOversizedBody(t *testing.T) {
	h, _ := newTestHandler(t, &fakeSignaler{})
	req := treezorRequest(`{"webhook":"` + strings.Repeat("x", 9<<10) + `"}`)
	req.ContentLength = -1 // no declared length: the limit applies while reading
	status, _ := serve(t, h, req)
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
}

func TestTreezorWithoutSecretsAcceptsNothing(t *testing.T) {
	cfg := testConfig()
	cfg.TreezorSecrets = Secrets{""}
	fake := &fakeSignaler{}
	h := NewHandler(cfg, fake, nil)
	payload := livenessPayload
	status, _ := serve(t, h, treezorRequest(tzHook{event: "kycliveness.update", id: "wh-1", payload: payload, sig: hmacBase64("", payload)}.body()))
	require.Equal(t, http.StatusInternalServerError, status, "an empty secret is no secret (refused with the 5xx Treezor retries)")
	require.Empty(t, fake.signals())
}

func TestParseTreezorEnvelopeKeepsPayloadBytes(t *testing.T) {
	payload := "{ \"b\" : 1,\n \"a\": \"x\\/y\\u00e9\" }"
	body := `{"webhook":"x","object_payload":` + payload + `,"object_payload_signature":"s","webhook_created_at":17000000000000}`
	env, err := parseTreezorEnvelope([]byte(body))
	require.NoError(t, err)
	require.Equal(t, payload, string(env.Payload), "byte for byte, whitespace and escapes included")
	require.Equal(t, emitted, env.CreatedAt)
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"1700000000.0000"`, emitted},
		{`1700000000`, emitted},
		{`"1700000000.5"`, emitted.Add(500 * time.Millisecond)},
		{`1700000000000`, emitted},                       // milliseconds
		{`17000000005000`, emitted.Add(time.Second / 2)}, // 10^-4 s, as Treezor documents the unit
		{`"17000000000000.5"`, emitted.Add(50 * time.Microsecond)},
		{`1700000000000000`, emitted},    // microseconds
		{`1700000000000000000`, emitted}, // nanoseconds
		{`"2023-11-14T22:13:20Z"`, emitted},
		{`"soon"`, time.Time{}},
		{`-5`, time.Time{}},
		{`0`, time.Time{}},
		{`true`, time.Time{}},
		{`"1e9"`, time.Time{}},
		{`"99999999999999999999"`, time.Time{}},
		{``, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			require.True(t, tc.want.Equal(parseTimestamp([]byte(tc.in))), "got %s", parseTimestamp([]byte(tc.in)))
		})
	}
}

// TestTreezorIdentEventWithoutUser: seeds 000 and 002 document only result and reason in qes.* and
// videoConference.* payloads, so an event may name no user. The relay then finds the run by the identification it
// opened (KycProviderReference): the payload's identificationId, else the envelope's object_id. One that names
// neither is refused as malformed, never guessed.
func TestTreezorIdentEventWithoutUser(t *testing.T) {
	wf := func(user string) string { return signals.WorkflowID(signals.ProviderTreezor, user) }
	wh := signals.Webhook{EventID: "wh-9", EmittedAt: time.Date(2023, time.November, 14, 22, 13, 20, 0, time.UTC)}
	ev := func(id, result string) signals.TreezorIdentEvent {
		return signals.TreezorIdentEvent{Webhook: wh, IdentificationID: id, Result: result}
	}
	tests := []struct {
		name       string
		payload    string
		wantStatus int
		want       []sent
	}{
		{"identificationId in the payload", `{"qes":[{"identificationId":"idn-7","result":"SUCCESS"}]}`,
			200, []sent{{wf("4001"), "run-" + wf("4001"), "qes.finalized", ev("idn-7", "SUCCESS")}}},
		{"only the envelope's object_id", `{"qes":[{"result":"SUCCESS"}]}`,
			200, []sent{{wf("4002"), "run-" + wf("4002"), "qes.finalized", ev("obj-8", "SUCCESS")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSignaler{running: map[string]string{"idn-7": wf("4001"), "obj-8": wf("4002")}}
			h, _ := newTestHandler(t, fake)
			body := strings.Replace(tzHook{event: "qes.finalized", id: "wh-9", createdAt: "17000000000000", payload: tc.payload,
				sig: hmacBase64("tz-secret-old", tc.payload)}.body(), `"object_id":"999"`, `"object_id":"obj-8"`, 1)
			status, resp := serve(t, h, treezorRequest(body))
			require.Equal(t, tc.wantStatus, status, "response %v", resp)
			require.Equal(t, tc.want, fake.signals())
		})
	}

	t.Run("an identification no verification is known for yet: Treezor retries", func(t *testing.T) {
		fake := &fakeSignaler{}
		h, _ := newTestHandler(t, fake)
		payload := `{"qes":[{"identificationId":"idn-unknown","result":"SUCCESS"}]}`
		status, resp := serve(t, h, treezorRequest(tzHook{event: "qes.finalized", id: "wh-9", payload: payload, sig: hmacBase64("tz-secret-old", payload)}.body()))
		require.Equal(t, http.StatusServiceUnavailable, status, "Treezor sends no attempt counter: a 503 has it retry, up to 30 times")
		require.Equal(t, "no running workflow for this reference yet, retry later", resp["error"])
		require.Empty(t, fake.signals())
	})

	t.Run("neither user nor identification", func(t *testing.T) {
		fake := &fakeSignaler{}
		h, _ := newTestHandler(t, fake)
		payload := `{"qes":[{"result":"SUCCESS"}]}`
		body := strings.Replace(tzHook{event: "qes.finalized", id: "wh-9", payload: payload, sig: hmacBase64("tz-secret-old", payload)}.body(),
			`,"object_id":"999"`, "", 1)
		status, resp := serve(t, h, treezorRequest(body))
		require.Equal(t, http.StatusBadRequest, status, "response %v", resp)
		require.Contains(t, resp["error"], "names neither a user")
		require.Empty(t, fake.signals())
	})
}

// TestTreezorRelabelledEventIsRefused: Treezor signs object_payload but not the event name, so a signed payload
// sent under another event type's name is refused (400), never signalled.
func TestTreezorRelabelledEventIsRefused(t *testing.T) {
	tests := []struct{ name, event, payload string }{
		{"a qes object as videoConference.finalized", "videoConference.finalized",
			`{"qes":[{"userId":"2006","identificationId":"idn-1","result":"SUCCESS"}]}`},
		{"a user object as kycliveness.update", "kycliveness.update",
			`{"users":[{"userId":"2005","kycReview":"2","kyc-status":"processed","score":1}]}`},
		{"a kycliveness object as user.kycreview", "user.kycreview",
			`{"kycliveness":[{"user_id":"2003","kyc-status":"processed","score":1,"kycReview":"2"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSignaler{}
			h, _ := newTestHandler(t, fake)
			status, resp := serve(t, h, treezorRequest(signedTreezor(tc.event, "wh-r", tc.payload, "tz-secret-old")))
			require.Equal(t, http.StatusBadRequest, status, "response %v", resp)
			require.Contains(t, resp["error"], "not the object of "+tc.event)
			require.Empty(t, fake.signals())
		})
	}
}
