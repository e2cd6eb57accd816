package relay

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

const (
	yousignRef  = "6e8f3c1a-5b2d-4f7e-9a0c-1d2e3f4a5b6c"
	yousignBody = `{"event_id":"0b9f6d2e-7c3a-4e1b-8f5d-2a6c9e0b1d3f","event_name":"verification.identity_video.done",` +
		`"event_time":"1700000000","subscription_id":"s-1","subscription_description":"kycflow","sandbox":true,` +
		`"data":{"identity_video":{"id":"` + yousignRef + `","workspace_id":"w-1","status":"inconclusive",` +
		`"status_codes":["IDVV_1112","IDVV_1113"],"data_anonymized":false,"face_recognition":true}}}`
)

func yousignRequest(body string, headers map[string]string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, PathYousign, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if k == "sign" {
			req.Header.Set(HeaderYousignSignature, "sha256="+hmacHex(v, body))
			continue
		}
		req.Header.Set(k, v)
	}
	return req
}

func TestYousignWebhooks(t *testing.T) {
	const wf = "kyc/yousign/backend-user-1"
	running := map[string]string{yousignRef: wf}
	event := signals.YousignVerificationEvent{
		Webhook:        signals.Webhook{EventID: "0b9f6d2e-7c3a-4e1b-8f5d-2a6c9e0b1d3f", EmittedAt: emitted},
		VerificationID: yousignRef, Status: "inconclusive", StatusCodes: []string{"IDVV_1112", "IDVV_1113"},
	}
	want := &sent{wf, "run-" + wf, signals.SignalYousignVerificationDone, event}
	signedBy := func(secret, body string) map[string]string {
		return map[string]string{HeaderYousignSignature: "sha256=" + hmacHex(secret, body), HeaderYousignRetry: "0"}
	}
	otherEvent := strings.Replace(yousignBody, "verification.identity_video.done", "signature_request.done", 1)
	legacy := strings.Replace(yousignBody, "verification.identity_video.done", "video_identity_verification.done", 1)
	oddID := strings.Replace(yousignBody, yousignRef, `a\"b`, 1)
	tests := []webhookCase{
		{"valid signature", yousignBody, signedBy("ys-secret-old-0123456789abcdef01", yousignBody), nil, 200, ResultSignalled, signals.SignalYousignVerificationDone, want},
		{"rotated secret", yousignBody, signedBy("ys-secret-new-0123456789abcdef01", yousignBody), nil, 200, ResultSignalled, signals.SignalYousignVerificationDone, want},
		{"wrong secret", yousignBody, signedBy("ys-secret-bad-0123456789abcdef01", yousignBody), nil, 401, ResultUnauthorized, eventOther, nil},
		{"tampered body", strings.Replace(yousignBody, "inconclusive", "verified", 1), signedBy("ys-secret-old-0123456789abcdef01", yousignBody),
			nil, 401, ResultUnauthorized, eventOther, nil},
		{"missing signature header", yousignBody, map[string]string{HeaderYousignRetry: "0"}, nil, 401, ResultUnauthorized, eventOther, nil},
		{"truncated signature", yousignBody, map[string]string{HeaderYousignSignature: "sha256=" + hmacHex("ys-secret-old-0123456789abcdef01", yousignBody)[:62]},
			nil, 401, ResultUnauthorized, eventOther, nil},
		{"malformed JSON, signed", `{"event_name":`, signedBy("ys-secret-old-0123456789abcdef01", `{"event_name":`), nil, 400, ResultMalformed, eventOther, nil},
		{"empty body, signed", "", signedBy("ys-secret-old-0123456789abcdef01", ""), nil, 400, ResultMalformed, eventOther, nil},
		{"empty body, unsigned", "", nil, nil, 401, ResultUnauthorized, eventOther, nil},
		{"oversized body", `{"pad":"` + strings.Repeat("x", 9<<10) + `"}`, nil, nil, 413, ResultTooLarge, eventOther, nil},
		{"unknown event, verified", otherEvent, signedBy("ys-secret-old-0123456789abcdef01", otherEvent), nil, 200, ResultUnwanted, eventOther, nil},
		{"legacy event name, verified", legacy, signedBy("ys-secret-old-0123456789abcdef01", legacy), nil, 200, ResultUnwanted, eventOther, nil},
		{"Temporal unavailable on lookup", yousignBody, signedBy("ys-secret-old-0123456789abcdef01", yousignBody), &fakeSignaler{findErr: errUnavailable},
			503, ResultUnavailable, signals.SignalYousignVerificationDone, nil},
		{"Temporal unavailable on signal", yousignBody, signedBy("ys-secret-old-0123456789abcdef01", yousignBody), &fakeSignaler{running: running, signalErr: errUnavailable},
			503, ResultUnavailable, signals.SignalYousignVerificationDone, nil},
		{"no workflow, first try: retry", yousignBody, signedBy("ys-secret-old-0123456789abcdef01", yousignBody), &fakeSignaler{},
			503, ResultUnavailable, signals.SignalYousignVerificationDone, nil},
		{"no workflow, fourth retry: unwanted", yousignBody, map[string]string{"sign": "ys-secret-old-0123456789abcdef01", HeaderYousignRetry: "4"}, &fakeSignaler{},
			200, ResultUnwanted, signals.SignalYousignVerificationDone, nil},
		{"no workflow, older retry header within grace", yousignBody, map[string]string{"sign": "ys-secret-old-0123456789abcdef01", HeaderYousignRetryCount: "2"}, &fakeSignaler{},
			503, ResultUnavailable, signals.SignalYousignVerificationDone, nil},
		{"no workflow, no retry header: unwanted", yousignBody, map[string]string{"sign": "ys-secret-old-0123456789abcdef01"}, &fakeSignaler{},
			200, ResultUnwanted, signals.SignalYousignVerificationDone, nil},
		{"workflow closed", yousignBody, signedBy("ys-secret-old-0123456789abcdef01", yousignBody), &fakeSignaler{running: running, signalErr: ErrNotFound},
			200, ResultUnwanted, signals.SignalYousignVerificationDone, nil},
		{"verification ID with odd characters", oddID, signedBy("ys-secret-old-0123456789abcdef01", oddID), nil,
			400, ResultMalformed, signals.SignalYousignVerificationDone, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := tc.fake
			if fake == nil {
				fake = &fakeSignaler{running: running}
			}
			h, _ := newTestHandler(t, fake)
			status, resp := serve(t, h, yousignRequest(tc.body, tc.headers))
			require.Equal(t, tc.wantStatus, status, "response %v", resp)
			if status == 200 {
				require.Equal(t, tc.wantResult, resp["result"])
			} else {
				require.NotEmpty(t, resp["error"])
			}
			assert.Equal(t, 1.0, counter(h, "yousign", tc.wantEvent, tc.wantResult))
			if tc.wantSignal == nil {
				require.Empty(t, fake.signals())
			} else {
				require.Equal(t, []sent{*tc.wantSignal}, fake.signals())
			}
		})
	}
}

func TestYousignDuplicateDelivery(t *testing.T) {
	fake := &fakeSignaler{running: map[string]string{yousignRef: "kyc/yousign/u"}}
	h, _ := newTestHandler(t, fake)
	for retry := range 2 {
		status, _ := serve(t, h, yousignRequest(yousignBody, map[string]string{"sign": "ys-secret-old-0123456789abcdef01", HeaderYousignRetry: string(rune('0' + retry))}))
		require.Equal(t, 200, status)
	}
	got := fake.signals()
	require.Len(t, got, 2)
	for _, s := range got {
		require.Equal(t, "0b9f6d2e-7c3a-4e1b-8f5d-2a6c9e0b1d3f", s.Payload.(signals.YousignVerificationEvent).EventID)
	}
}

func TestDecodeYousignLenientFields(t *testing.T) {
	body := `{"event_id":"e","event_name":"verification.identity_video.done","event_time":1700000000,` +
		`"data":{"identity_video":{"id":"v-1","status":"failed","status_codes":[62102,"IDVV_2001",""]}}}`
	env, err := decodeYousign([]byte(body))
	require.NoError(t, err)
	require.Equal(t, signals.YousignVerificationEvent{Webhook: signals.Webhook{EventID: "e", EmittedAt: emitted},
		VerificationID: "v-1", Status: "failed", StatusCodes: []string{"62102", "IDVV_2001"}}, env.Event)
}
