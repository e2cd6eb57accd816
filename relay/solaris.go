package relay

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/kycflow/kycflow/signals"
)

// Solaris signs the raw body: Solaris-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, body)>, the secret being
// the one its subscription call returned. The body names the identification, not the person, so the relay finds
// the workflow by its KycProviderReference search attribute.

// Solaris headers the relay reads.
const (
	HeaderSolarisSignature = "Solaris-Webhook-Signature"
	HeaderSolarisEventType = "Solaris-Webhook-Event-Type"
	HeaderSolarisID        = "Solaris-Webhook-Id"
	HeaderSolarisAttempt   = "Solaris-Webhook-Attempt"
)

// Solaris event types the relay knows.
const (
	SolarisEventIdentification = "IDENTIFICATION"
	// SolarisEventSubscription is the empty, unsigned POST Solaris sends when a subscription is created.
	SolarisEventSubscription = "WEBHOOK-SUBSCRIPTION"
)

var solarisEventLabels = map[string]bool{SolarisEventIdentification: true, SolarisEventSubscription: true}

func (h *Handler) solaris(r *http.Request, body []byte) reply {
	event := strings.TrimSpace(r.Header.Get(HeaderSolarisEventType))
	if strings.EqualFold(event, SolarisEventSubscription) && len(bytes.TrimSpace(body)) == 0 {
		// The subscription check comes before Solaris has handed out the secret: it cannot be signed, and it
		// signals nothing.
		return unwanted(SolarisEventSubscription, "subscription check")
	}
	mac, err := parseSolarisSignature(r.Header.Get(HeaderSolarisSignature))
	if err == nil {
		err = verifyMAC(h.solarisKeys, mac, body)
	}
	if err != nil {
		return unauthorized(event, err.Error())
	}
	if event == "" {
		// One subscription per event type points here, and kycflow subscribes to IDENTIFICATION only.
		event = SolarisEventIdentification
	}
	rep := reply{event: event, attempt: printable(r.Header.Get(HeaderSolarisAttempt), 16),
		signalKey: signedContentKey(string(signals.ProviderSolaris), event, body)}
	if id := r.Header.Get(HeaderSolarisID); id != "" && validEventID(id) {
		rep.eventID = id
	} else {
		rep.eventID = bodyDigest(body)
	}
	if event != SolarisEventIdentification {
		rep.status, rep.result, rep.reason = http.StatusOK, ResultUnwanted, "event type not used by kycflow"
		return rep
	}
	ev, err := decodeSolarisIdentification(body)
	if err != nil {
		rep.status, rep.result, rep.reason = http.StatusBadRequest, ResultMalformed, err.Error()
		return rep
	}
	ev.EventID = rep.eventID
	return h.deliverByReference(signalContext(r), signals.ProviderSolaris, rep, ev.IdentificationID,
		signals.SignalSolarisIdentification, ev)
}

// decodeSolarisIdentification reads an IDENTIFICATION body {id, reference, url, status, completed_at, method}.
// Only id, status and completed_at are kept: IDnow's reference and the URL never go into the signal.
func decodeSolarisIdentification(body []byte) (signals.SolarisIdentificationEvent, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return signals.SolarisIdentificationEvent{}, errors.New("body is not a JSON object")
	}
	var ev signals.SolarisIdentificationEvent
	if ev.IdentificationID, err = obj.text("id"); err != nil {
		return signals.SolarisIdentificationEvent{}, err
	}
	if !ValidReference(ev.IdentificationID) {
		return signals.SolarisIdentificationEvent{}, errors.New("id: want 1 to 128 letters, digits or . _ : -")
	}
	if ev.Status, err = obj.text("status"); err != nil {
		return signals.SolarisIdentificationEvent{}, err
	}
	if !validStatus(ev.Status) {
		return signals.SolarisIdentificationEvent{}, errors.New("status: want 1 to 64 letters, digits or _ -")
	}
	completed, err := obj.text("completed_at")
	if err != nil {
		return signals.SolarisIdentificationEvent{}, err
	}
	ev.CompletedAt = parseTimestampText(completed)
	return ev, nil
}

// validStatus accepts a provider status such as pending_successful.
func validStatus(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
