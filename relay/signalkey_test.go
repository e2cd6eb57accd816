package relay

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignalKeyIsTheSignedContent: the key Temporal deduplicates a webhook's signal by follows the bytes the
// signature covers, not the delivery ID outside it. The same signed content under another ID gets the same key
// (a replay or redelivery is recorded once); other content, another event name or another provider gets another.
func TestSignalKeyIsTheSignedContent(t *testing.T) {
	otherPayload := strings.Replace(livenessPayload, `"score":1`, `"score":0`, 1)
	otherSolaris := strings.Replace(solarisBody, `"successful"`, `"failed"`, 1)
	solarisFrom := func(deliveryID string) map[string]string {
		return map[string]string{"sign": "sol-secret-old", HeaderSolarisEventType: "IDENTIFICATION", HeaderSolarisID: deliveryID}
	}
	yousignSigned := func(body string) map[string]string {
		return map[string]string{HeaderYousignSignature: "sha256=" + hmacHex("ys-secret-old-0123456789abcdef01", body)}
	}
	tests := []struct {
		name        string
		first, then func() *http.Request
		same        bool
	}{
		{"treezor: the same payload under a fresh webhook_id",
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"))
			},
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.update", "wh-2", livenessPayload, "tz-secret-old"))
			},
			true},
		{"treezor: another payload under the same webhook_id",
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"))
			},
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.update", "wh-1", otherPayload, "tz-secret-old"))
			},
			false},
		{"treezor: the same payload under another event name",
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"))
			},
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.create", "wh-1", livenessPayload, "tz-secret-old"))
			},
			false},
		{"solaris: the same body under another Solaris-Webhook-Id",
			func() *http.Request { return solarisRequest(solarisBody, solarisFrom("delivery-1")) },
			func() *http.Request { return solarisRequest(solarisBody, solarisFrom("delivery-2")) },
			true},
		{"solaris: another body",
			func() *http.Request { return solarisRequest(solarisBody, solarisFrom("delivery-1")) },
			func() *http.Request { return solarisRequest(otherSolaris, solarisFrom("delivery-1")) },
			false},
		{"yousign: a redelivery",
			func() *http.Request { return yousignRequest(yousignBody, yousignSigned(yousignBody)) },
			func() *http.Request { return yousignRequest(yousignBody, yousignSigned(yousignBody)) },
			true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSignaler{running: map[string]string{solarisRef: "kyc/solaris/p", yousignRef: "kyc/yousign/u"}}
			h, _ := newTestHandler(t, fake)
			for _, req := range []*http.Request{tc.first(), tc.then()} {
				status, resp := serve(t, h, req)
				require.Equal(t, http.StatusOK, status, "response %v", resp)
			}
			require.Len(t, fake.keys, 2)
			require.True(t, strings.HasPrefix(fake.keys[0], "kycflow-webhook-"), "key %q", fake.keys[0])
			require.Equal(t, tc.same, fake.keys[0] == fake.keys[1], "keys %q", fake.keys)
		})
	}
}
