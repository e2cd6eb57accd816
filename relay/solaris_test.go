package relay

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

const solarisBody = `{"id":"9dfe4b7a1c0e4a6d8f3b2a1c0e4a6d8fcidt","reference":"TST-ELCCJ","url":"https://go.test.idnow.de/x/TST-ELCCJ",` +
	`"status":"successful","completed_at":"2023-11-14T22:13:20.000Z","method":"idnow"}`

const solarisRef = "9dfe4b7a1c0e4a6d8f3b2a1c0e4a6d8fcidt"

// solarisRequest is a delivery with the given headers; "sign" names the secret to sign the body with.
func solarisRequest(body string, headers map[string]string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, PathSolaris, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if k == "sign" {
			req.Header.Set(HeaderSolarisSignature, "sha256="+hmacHex(v, body))
			continue
		}
		req.Header.Set(k, v)
	}
	return req
}

func TestSolarisWebhooks(t *testing.T) {
	const wf = "kyc/solaris/person-1"
	running := map[string]string{solarisRef: wf}
	event := signals.SolarisIdentificationEvent{
		Webhook:          signals.Webhook{EventID: "delivery-1"},
		IdentificationID: solarisRef, Status: "successful", CompletedAt: emitted,
	}
	signed := map[string]string{"sign": "sol-secret-old", HeaderSolarisEventType: "IDENTIFICATION", HeaderSolarisID: "delivery-1", HeaderSolarisAttempt: "1"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range signed {
			out[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	tests := []webhookCase{
		{"valid signature", solarisBody, signed, nil, 200, ResultSignalled, "IDENTIFICATION", &sent{wf, "run-" + wf, signals.SignalSolarisIdentification, event}},
		{"rotated secret", solarisBody, with(map[string]string{"sign": "sol-secret-new"}), nil, 200, ResultSignalled, "IDENTIFICATION",
			&sent{wf, "run-" + wf, signals.SignalSolarisIdentification, event}},
		{"uppercase hex and algorithm", solarisBody, with(map[string]string{"sign": "", HeaderSolarisSignature: "SHA256=" + strings.ToUpper(hmacHex("sol-secret-old", solarisBody))}),
			nil, 200, ResultSignalled, "IDENTIFICATION", &sent{wf, "run-" + wf, signals.SignalSolarisIdentification, event}},
		{"wrong secret", solarisBody, with(map[string]string{"sign": "sol-secret-other"}), nil, 401, ResultUnauthorized, "IDENTIFICATION", nil},
		{"tampered body", strings.Replace(solarisBody, "successful", "failed", 1),
			with(map[string]string{"sign": "", HeaderSolarisSignature: "sha256=" + hmacHex("sol-secret-old", solarisBody)}), nil, 401, ResultUnauthorized, "IDENTIFICATION", nil},
		{"missing signature header", solarisBody, with(map[string]string{"sign": ""}), nil, 401, ResultUnauthorized, "IDENTIFICATION", nil},
		// Solaris documents "HMAC SHA-256" but not the header's layout; "sha256=<hex>" comes from a third-party mock.
		// Both hex layouts are accepted, and only a correct MAC passes either.
		{"bare hex signature", solarisBody, with(map[string]string{"sign": "", HeaderSolarisSignature: hmacHex("sol-secret-old", solarisBody)}),
			nil, 200, ResultSignalled, "IDENTIFICATION", &sent{wf, "run-" + wf, signals.SignalSolarisIdentification, event}},
		{"bare hex signature, wrong secret", solarisBody, with(map[string]string{"sign": "", HeaderSolarisSignature: hmacHex("sol-secret-other", solarisBody)}),
			nil, 401, ResultUnauthorized, "IDENTIFICATION", nil},
		{"bare hex signature, too short", solarisBody, with(map[string]string{"sign": "", HeaderSolarisSignature: hmacHex("sol-secret-old", solarisBody)[:62]}),
			nil, 401, ResultUnauthorized, "IDENTIFICATION", nil},
		{"signature with another algorithm", solarisBody, with(map[string]string{"sign": "", HeaderSolarisSignature: "sha1=" + hmacHex("sol-secret-old", solarisBody)}),
			nil, 401, ResultUnauthorized, "IDENTIFICATION", nil},
		{"malformed JSON, signed", `{"id":`, signed, nil, 400, ResultMalformed, "IDENTIFICATION", nil},
		{"malformed JSON, unsigned", `{"id":`, with(map[string]string{"sign": ""}), nil, 401, ResultUnauthorized, "IDENTIFICATION", nil},
		{"empty body, signed, not a subscription check", "", signed, nil, 400, ResultMalformed, "IDENTIFICATION", nil},
		{"subscription check: empty and unsigned", "", map[string]string{HeaderSolarisEventType: "WEBHOOK-SUBSCRIPTION"}, nil, 200, ResultUnwanted, "WEBHOOK-SUBSCRIPTION", nil},
		{"subscription header on a body still needs a signature", solarisBody, map[string]string{HeaderSolarisEventType: "WEBHOOK-SUBSCRIPTION"}, nil,
			401, ResultUnauthorized, "WEBHOOK-SUBSCRIPTION", nil},
		{"oversized body", `{"id":"x","pad":"` + strings.Repeat("x", 9<<10) + `"}`, signed, nil, 413, ResultTooLarge, eventOther, nil},
		{"unknown event type, verified", solarisBody, with(map[string]string{HeaderSolarisEventType: "IDENTIFICATION_ORIGINATION"}), nil,
			200, ResultUnwanted, eventOther, nil},
		{"no event type header means IDENTIFICATION", solarisBody, with(map[string]string{HeaderSolarisEventType: ""}), nil, 200, ResultSignalled, "IDENTIFICATION",
			&sent{wf, "run-" + wf, signals.SignalSolarisIdentification, event}},
		{"Temporal unavailable on lookup", solarisBody, signed, &fakeSignaler{findErr: errUnavailable}, 503, ResultUnavailable, "IDENTIFICATION", nil},
		{"Temporal unavailable on signal", solarisBody, signed, &fakeSignaler{running: running, signalErr: errUnavailable}, 503, ResultUnavailable, "IDENTIFICATION", nil},
		{"workflow closed between lookup and signal", solarisBody, signed, &fakeSignaler{running: running, signalErr: ErrNotFound}, 200, ResultUnwanted, "IDENTIFICATION", nil},
		{"no workflow, young delivery: retry", solarisBody, signed, &fakeSignaler{}, 503, ResultUnavailable, "IDENTIFICATION", nil},
		{"no workflow, third attempt: retry", solarisBody, with(map[string]string{HeaderSolarisAttempt: "3"}), &fakeSignaler{}, 503, ResultUnavailable, "IDENTIFICATION", nil},
		{"no workflow, past the grace window: unwanted", solarisBody, with(map[string]string{HeaderSolarisAttempt: "4"}), &fakeSignaler{}, 200, ResultUnwanted, "IDENTIFICATION", nil},
		{"no workflow, no attempt header: unwanted", solarisBody, with(map[string]string{HeaderSolarisAttempt: ""}), &fakeSignaler{}, 200, ResultUnwanted, "IDENTIFICATION", nil},
		{"two workflows with the reference: unwanted", solarisBody, with(map[string]string{HeaderSolarisAttempt: "9"}), &fakeSignaler{findErr: ErrAmbiguous}, 200, ResultUnwanted, "IDENTIFICATION", nil},
		{"alias found: no visibility query", solarisBody, signed, &fakeSignaler{aliases: running}, 200, ResultSignalled, "IDENTIFICATION",
			&sent{wf, "run-" + wf, signals.SignalSolarisIdentification, event}},
		{"alias started within the lookup wait", solarisBody, signed, &fakeSignaler{aliases: running, lagFinds: 1}, 200, ResultSignalled, "IDENTIFICATION",
			&sent{wf, "run-" + wf, signals.SignalSolarisIdentification, event}},
		{"alias of a closed verification", solarisBody, signed, &fakeSignaler{aliases: running, signalErr: ErrClosed}, 200, ResultUnwanted, "IDENTIFICATION", nil},
		{"identification ID with odd characters", `{"id":"x' OR 'a'='a","status":"successful"}`,
			with(map[string]string{"sign": "", HeaderSolarisSignature: "sha256=" + hmacHex("sol-secret-old", `{"id":"x' OR 'a'='a","status":"successful"}`)}),
			nil, 400, ResultMalformed, "IDENTIFICATION", nil},
		{"no status", `{"id":"abc"}`, with(map[string]string{"sign": "", HeaderSolarisSignature: "sha256=" + hmacHex("sol-secret-old", `{"id":"abc"}`)}),
			nil, 400, ResultMalformed, "IDENTIFICATION", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := tc.fake
			if fake == nil {
				fake = &fakeSignaler{running: running}
			}
			h, logs := newTestHandler(t, fake)
			status, resp := serve(t, h, solarisRequest(tc.body, tc.headers))
			require.Equal(t, tc.wantStatus, status, "response %v", resp)
			if status == 200 {
				require.Equal(t, tc.wantResult, resp["result"])
			} else {
				require.NotEmpty(t, resp["error"])
			}
			assert.Equal(t, 1.0, counter(h, "solaris", tc.wantEvent, tc.wantResult))
			if tc.wantSignal == nil {
				require.Empty(t, fake.signals())
			} else {
				require.Equal(t, []sent{*tc.wantSignal}, fake.signals())
			}
			require.NotContains(t, logs.String(), "TST-ELCCJ", "IDnow's reference is never logged")
		})
	}
}

func TestSolarisSignalCarriesNoReference(t *testing.T) {
	ev, err := decodeSolarisIdentification([]byte(solarisBody))
	require.NoError(t, err)
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	require.NotContains(t, string(b), "TST-ELCCJ")
	require.NotContains(t, string(b), "idnow.de")
	require.Equal(t, time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC), ev.CompletedAt)
}

func TestSolarisLookupRetriesWithinTheWait(t *testing.T) {
	fake := &fakeSignaler{}
	cfg := testConfig()
	cfg.LookupWait = 300 * time.Millisecond
	h := NewHandler(cfg, fake, nil)
	start := time.Now()
	status, _ := serve(t, h, solarisRequest(solarisBody, map[string]string{"sign": "sol-secret-old", HeaderSolarisAttempt: "1"}))
	require.Equal(t, 503, status)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	require.Greater(t, fake.lookups(), 2, "the lookup was retried")
}

func TestSolarisDuplicateDelivery(t *testing.T) {
	fake := &fakeSignaler{running: map[string]string{solarisRef: "kyc/solaris/p"}}
	h, _ := newTestHandler(t, fake)
	for range 2 {
		status, _ := serve(t, h, solarisRequest(solarisBody, map[string]string{"sign": "sol-secret-old", HeaderSolarisID: "delivery-7"}))
		require.Equal(t, 200, status)
	}
	got := fake.signals()
	require.Len(t, got, 2)
	for _, s := range got {
		require.Equal(t, "delivery-7", s.Payload.(signals.SolarisIdentificationEvent).EventID)
	}
}

func TestSolarisEventIDWithoutHeaderIsTheBodyDigest(t *testing.T) {
	fake := &fakeSignaler{running: map[string]string{solarisRef: "kyc/solaris/p"}}
	h, _ := newTestHandler(t, fake)
	status, _ := serve(t, h, solarisRequest(solarisBody, map[string]string{"sign": "sol-secret-old"}))
	require.Equal(t, 200, status)
	require.Equal(t, bodyDigest([]byte(solarisBody)), fake.signals()[0].Payload.(signals.SolarisIdentificationEvent).EventID)
	require.Len(t, bodyDigest([]byte(solarisBody)), 64)
}
