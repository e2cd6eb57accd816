package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kycflow/kycflow/signals"
)

// Yousign signs the raw body: X-Yousign-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>. The body names
// the verification, not the user, so the relay finds the workflow by its KycProviderReference search attribute.

// Yousign headers the relay reads.
const (
	HeaderYousignSignature = "X-Yousign-Signature-256"
	HeaderYousignRetry     = "X-Yousign-Retry"
	// HeaderYousignRetryCount is the retry counter's name on Yousign's older documentation.
	HeaderYousignRetryCount = "X-Yousign-Retry-Count"
)

var yousignEventLabels = map[string]bool{signals.SignalYousignVerificationDone: true}

// yousignEnvelope is the part of a Yousign webhook the relay reads.
type yousignEnvelope struct {
	EventID   string
	EventName string
	Event     signals.YousignVerificationEvent
}

func (h *Handler) yousign(r *http.Request, body []byte) reply {
	if err := verifySHA256Header(h.yousignKeys, r.Header.Get(HeaderYousignSignature), body); err != nil {
		return unauthorized("", err.Error())
	}
	attempt := r.Header.Get(HeaderYousignRetry)
	if attempt == "" {
		attempt = r.Header.Get(HeaderYousignRetryCount)
	}
	rep := reply{attempt: printable(attempt, 16)}
	env, err := decodeYousign(body)
	rep.event = env.EventName
	if err != nil {
		rep.status, rep.result, rep.reason = http.StatusBadRequest, ResultMalformed, err.Error()
		return rep
	}
	rep.eventID = env.EventID
	rep.signalKey = signedContentKey(string(signals.ProviderYousign), env.EventName, body)
	if rep.eventID == "" {
		rep.eventID = bodyDigest(body)
	}
	if env.EventName != signals.SignalYousignVerificationDone {
		rep.status, rep.result, rep.reason = http.StatusOK, ResultUnwanted, "event type not used by kycflow"
		return rep
	}
	ev := env.Event
	ev.EventID = rep.eventID
	return h.deliverByReference(signalContext(r), signals.ProviderYousign, rep, ev.VerificationID,
		signals.SignalYousignVerificationDone, ev)
}

// decodeYousign reads {event_id, event_name, event_time, data: {identity_video: {id, status, status_codes}}}.
// The verification is read only for verification.identity_video.done; other events need only a name.
func decodeYousign(body []byte) (yousignEnvelope, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return yousignEnvelope{}, errors.New("body is not a JSON object")
	}
	var env yousignEnvelope
	if env.EventName, err = obj.text("event_name"); err != nil {
		return yousignEnvelope{}, err
	}
	if env.EventName == "" {
		return yousignEnvelope{}, errors.New("event_name is missing")
	}
	if env.EventID, err = obj.text("event_id"); err != nil {
		return env, err
	}
	if !validEventID(env.EventID) {
		return env, errors.New("event_id is not printable ASCII of at most 200 bytes")
	}
	if env.EventName != signals.SignalYousignVerificationDone {
		return env, nil
	}
	eventTime, err := obj.text("event_time")
	if err != nil {
		return env, err
	}
	ev := signals.YousignVerificationEvent{Webhook: signals.Webhook{EventID: env.EventID, EmittedAt: parseTimestampText(eventTime)}}
	data, _, ok := obj.lookup("data")
	if !ok {
		return env, errors.New("data is missing")
	}
	dataObj, err := decodeObject(data)
	if err != nil {
		return env, errors.New("data is not a JSON object")
	}
	raw, _, ok := dataObj.lookup("identity_video")
	if !ok {
		return env, errors.New("data.identity_video is missing")
	}
	video, err := decodeObject(raw)
	if err != nil {
		return env, errors.New("data.identity_video is not a JSON object")
	}
	if ev.VerificationID, err = video.text("id"); err != nil {
		return env, fmt.Errorf("data.identity_video.%w", err)
	}
	if !ValidReference(ev.VerificationID) {
		return env, errors.New("data.identity_video.id: want 1 to 128 letters, digits or . _ : -")
	}
	if ev.Status, err = video.text("status"); err != nil {
		return env, fmt.Errorf("data.identity_video.%w", err)
	}
	if !validStatus(ev.Status) {
		return env, errors.New("data.identity_video.status: want 1 to 64 letters, digits or _ -")
	}
	if ev.StatusCodes, err = statusCodes(video); err != nil {
		return env, err
	}
	env.Event = ev
	return env, nil
}

// statusCodes reads status_codes: strings such as "IDVV_1112" (numbers on the legacy API).
func statusCodes(video jsonObject) ([]string, error) {
	raw, _, ok := video.lookup("status_codes")
	if !ok {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("data.identity_video.status_codes: want an array")
	}
	var out []string
	for _, item := range items {
		s, ok := scalarText(item)
		if !ok {
			return nil, errors.New("data.identity_video.status_codes: want strings")
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}
