package relay

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kycflow/kycflow/signals"
)

// Fuzz targets for every parser of untrusted bytes. `go test` runs their seed corpus in testdata/fuzz/; run one
// for real with, for example:
//
//	go test -run='^$' -fuzz='^FuzzCanonicalPHP$' -fuzztime=30s ./relay/

// FuzzTreezorEnvelope: any body either fails to parse or yields an object_payload that is a verbatim slice of
// it (never re-encoded); a payload that decodes gives a valid subject and an encodable signal payload.
func FuzzTreezorEnvelope(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := parseTreezorEnvelope(body)
		if err != nil {
			return
		}
		if !bytes.Contains(body, env.Payload) || len(env.Payload) == 0 {
			t.Fatalf("object_payload %q is not a slice of the body", env.Payload)
		}
		checkTreezorEvent(t, env.Event, env.Payload)
	})
}

// FuzzTreezorPayload decodes any object_payload as each event type kycflow forwards.
func FuzzTreezorPayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, event string, payload []byte) {
		checkTreezorEvent(t, event, payload)
	})
}

func checkTreezorEvent(t *testing.T, event string, payload []byte) {
	ev, err := decodeTreezorEvent(event, "", payload, signals.Webhook{EventID: "e"})
	if err != nil {
		return
	}
	if !treezorEventLabels[event] || ev.signal != event {
		t.Fatalf("event %q decoded as signal %q", event, ev.signal)
	}
	switch {
	case ev.userID == "":
		// An identification event that names no user is routed by its identification ID.
		if !ValidReference(ev.identificationID) {
			t.Fatalf("event without a user has identification ID %q", ev.identificationID)
		}
	default:
		if err := signals.ValidateSubject(ev.userID); err != nil {
			t.Fatalf("user ID %q: %v", ev.userID, err)
		}
	}
	if _, err := json.Marshal(ev.payload); err != nil {
		t.Fatalf("signal payload does not encode: %v", err)
	}
}

// FuzzCanonicalPHP checks canonicalPHP's properties (see checkCanonical): accepted input is valid JSON, output is
// printable ASCII with every / escaped, the same JSON value, and a fixed point.
func FuzzCanonicalPHP(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		checkCanonical(t, in)
	})
}

// FuzzTreezorWebhook runs the Treezor handler end to end on a payload signed with a configured secret: it never
// panics, answers only 200, 400 or 413, or 503 for an identification no verification is known for (the fake knows
// none; Treezor retries it), and a payload that is valid JSON always verifies (an unverified one would get the 500
// Treezor retries).
func FuzzTreezorWebhook(f *testing.F) {
	fake := &fakeSignaler{}
	h := NewHandler(testConfig(), fake, nil)
	f.Fuzz(func(t *testing.T, event string, payload []byte) {
		payload = bytes.Trim(payload, " \t\r\n")
		body := `{"webhook":` + quote(event) + `,"webhook_id":"wh","object_payload":` + string(payload) +
			`,"object_payload_signature":` + quote(hmacBase64("tz-secret-new", string(payload))) + `}`
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, treezorRequest(body))
		switch {
		case rec.Code == http.StatusInternalServerError && json.Valid(payload) && len(body) <= int(h.cfg.MaxBodyBytes):
			t.Fatalf("a correctly signed payload was refused: %s", rec.Body)
		case rec.Code == http.StatusServiceUnavailable && !strings.Contains(rec.Body.String(), "no running workflow for this reference yet"):
			t.Fatalf("a 503 that is not an unknown reference: %s", rec.Body)
		case rec.Code != 200 && rec.Code != 400 && rec.Code != 500 && rec.Code != 413 && rec.Code != 503:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}

// FuzzSolarisIdentification: a decoded identification has a lookup-safe ID and a plain status.
func FuzzSolarisIdentification(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decodeSolarisIdentification(body)
		if err != nil {
			return
		}
		if !ValidReference(ev.IdentificationID) || !validStatus(ev.Status) {
			t.Fatalf("accepted id %q status %q", ev.IdentificationID, ev.Status)
		}
		if strings.ContainsAny(RunningByReferenceQuery(ev.IdentificationID), `\"`) {
			t.Fatalf("query for %q needs escaping", ev.IdentificationID)
		}
	})
}

// FuzzYousign: a decoded verification.identity_video.done has a lookup-safe ID; other events only a name.
func FuzzYousign(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := decodeYousign(body)
		if err != nil {
			return
		}
		if env.EventName == "" || !validEventID(env.EventID) {
			t.Fatalf("accepted event %q id %q", env.EventName, env.EventID)
		}
		if env.EventName == signals.SignalYousignVerificationDone {
			if !ValidReference(env.Event.VerificationID) || !validStatus(env.Event.Status) {
				t.Fatalf("accepted verification %q status %q", env.Event.VerificationID, env.Event.Status)
			}
		}
	})
}

// FuzzSignatureHeader: a parsed sha256=<hex> header is 32 bytes that print back to an equivalent header, and a
// parsed Treezor signature is 32 bytes.
func FuzzSignatureHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		if mac, err := parseSHA256Header(header); err == nil {
			if len(mac) != 32 {
				t.Fatalf("%d-byte MAC from %q", len(mac), header)
			}
			again, err := parseSHA256Header("sha256=" + hex.EncodeToString(mac))
			if err != nil || !bytes.Equal(again, mac) {
				t.Fatalf("round trip of %q", header)
			}
		}
		if mac, err := parseBase64MAC(header); err == nil && len(mac) != 32 {
			t.Fatalf("%d-byte MAC from %q", len(mac), header)
		}
	})
}

// FuzzTimestamp: any text parses to a time or the zero time, without panicking.
func FuzzTimestamp(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		ts := parseTimestampText(s)
		if !ts.IsZero() && ts.Location().String() != "UTC" {
			t.Fatalf("%q parsed to a non-UTC time %s", s, ts)
		}
		_ = parseTimestamp(json.RawMessage(s))
	})
}
