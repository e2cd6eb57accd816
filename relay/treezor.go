package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kycflow/kycflow/signals"
)

// Treezor webhooks carry their signature in the body: object_payload_signature is the base64 HMAC-SHA256 of
// object_payload alone. The envelope around it (webhook, webhook_id, webhook_created_at, object, object_id) is not
// signed, so the relay routes on the user ID found in the signed object_payload only.

// treezorEventLabels are the Treezor event types kycflow uses: the metric label allow-list and the events the
// relay forwards.
var treezorEventLabels = map[string]bool{
	signals.SignalTreezorKycLivenessCreate: true,
	signals.SignalTreezorKycLivenessUpdate: true,
	signals.SignalTreezorPayinCreate:       true,
	signals.SignalTreezorPayinUpdate:       true,
	signals.SignalTreezorDocumentCreate:    true,
	signals.SignalTreezorKycReview:         true,

	signals.TreezorQESEvents.Created:                true,
	signals.TreezorQESEvents.Processing:             true,
	signals.TreezorQESEvents.Aborted:                true,
	signals.TreezorQESEvents.Finalized:              true,
	signals.TreezorVideoConferenceEvents.Created:    true,
	signals.TreezorVideoConferenceEvents.Processing: true,
	signals.TreezorVideoConferenceEvents.Aborted:    true,
	signals.TreezorVideoConferenceEvents.Finalized:  true,
}

// treezorEnvelope is a Treezor webhook's envelope. Payload keeps object_payload's bytes exactly as received.
type treezorEnvelope struct {
	Event     string
	EventID   string
	CreatedAt time.Time
	Object    string
	ObjectID  string
	Payload   json.RawMessage
	Signature string
}

// parseTreezorEnvelope reads the flat envelope Treezor documents, and also the wrapped form of its event pages
// ({"messageId", "webhookId", "webhook": {"webhook", "object", "object_id", "object_payload", ...}}). Nothing is
// re-encoded: object_payload stays the received bytes.
func parseTreezorEnvelope(body []byte) (treezorEnvelope, error) {
	top, err := decodeObject(body)
	if err != nil {
		return treezorEnvelope{}, errors.New("body is not a JSON object")
	}
	env, wrapped := top, false
	if raw, _, ok := top.lookup("webhook"); ok && raw[0] == '{' {
		if env, err = decodeObject(raw); err != nil {
			return treezorEnvelope{}, errors.New("webhook is not a JSON object")
		}
		wrapped = true
	}
	var e treezorEnvelope
	fields := []struct {
		dst  *string
		keys []string
	}{
		{&e.Event, []string{"webhook"}},
		{&e.EventID, []string{"webhook_id", "webhookId"}},
		{&e.Object, []string{"object"}},
		{&e.ObjectID, []string{"object_id"}},
		{&e.Signature, []string{"object_payload_signature"}},
	}
	for _, f := range fields {
		v, err := env.text(f.keys...)
		if wrapped && err == nil && v == "" && f.dst != &e.Event {
			// The wrapped form may keep some fields at the top level.
			v, err = top.text(f.keys...)
		}
		if err != nil {
			return treezorEnvelope{}, err
		}
		*f.dst = v
	}
	created, _, ok := env.lookup("webhook_created_at")
	if !ok && wrapped {
		created, _, _ = top.lookup("webhook_created_at")
	}
	e.CreatedAt = parseTimestamp(created)
	payload, _, ok := env.lookup("object_payload")
	if !ok && wrapped {
		payload, _, ok = top.lookup("object_payload")
	}
	if !ok {
		return treezorEnvelope{}, errors.New("object_payload is missing")
	}
	e.Payload = payload
	return e, nil
}

// verifyTreezor checks object_payload_signature against every secret, over object_payload's received bytes and
// over their PHP json_encode form (what Treezor documents signing), so that both a verbatim and a re-escaped
// delivery verify.
func verifyTreezor(keys [][]byte, payload []byte, signature string) bool {
	want, err := parseBase64MAC(signature)
	if err != nil {
		return false
	}
	if macMatches(keys, [][]byte{payload}, want) {
		return true
	}
	// Which form matched is not secret, so the canonical form is computed only when the raw bytes do not match.
	canonical, err := canonicalPHP(payload)
	if err != nil || string(canonical) == string(payload) {
		return false
	}
	return macMatches(keys, [][]byte{canonical}, want)
}

func (h *Handler) treezor(r *http.Request, body []byte) reply {
	env, err := parseTreezorEnvelope(body)
	if err != nil {
		return malformed("", err.Error())
	}
	// The event name is not signed either: it becomes a label only through the allow-list.
	if env.Signature == "" {
		return treezorUnverified(env.Event, "object_payload_signature is missing")
	}
	if !verifyTreezor(h.treezorKeys, env.Payload, env.Signature) {
		return treezorUnverified(env.Event, "object_payload_signature does not match")
	}
	rep := reply{event: env.Event, signalKey: signedContentKey(string(signals.ProviderTreezor), env.Event, env.Payload)}
	switch {
	case env.EventID == "":
		rep.eventID = bodyDigest([]byte(env.Event), []byte{'\n'}, env.Payload)
	case validEventID(env.EventID):
		rep.eventID = env.EventID
	default:
		return malformed(env.Event, "webhook_id is not printable ASCII of at most 200 bytes")
	}
	if env.Event == "" {
		return malformed("", "webhook (the event name) is missing")
	}
	if !treezorEventLabels[env.Event] {
		rep.status, rep.result, rep.reason = http.StatusOK, ResultUnwanted, "event type not used by kycflow"
		return rep
	}
	ev, err := decodeTreezorEvent(env.Event, env.ObjectID, env.Payload, signals.Webhook{EventID: rep.eventID, EmittedAt: env.CreatedAt})
	if err != nil {
		rep.status, rep.result, rep.reason = http.StatusBadRequest, ResultMalformed, err.Error()
		return rep
	}
	if ev.userID == "" {
		// A qes.* or videoConference.* event names no user: find the run by the identification it opened.
		return h.deliverByReference(signalContext(r), signals.ProviderTreezor, rep, ev.identificationID, ev.signal, ev.payload)
	}
	return h.deliver(signalContext(r), signals.ProviderTreezor, rep,
		signals.WorkflowID(signals.ProviderTreezor, ev.userID), "", ev.signal, ev.payload)
}

// treezorEvent is a decoded Treezor webhook: the signal to send, to whose workflow, with what. A qes.* or
// videoConference.* event may name no user (userID empty): identificationID then finds the workflow.
type treezorEvent struct {
	signal           string
	userID           string
	identificationID string
	payload          any
}

var treezorUserIDKeys = []string{"userId", "user_id"}

// decodeTreezorEvent maps a verified object_payload to the event's signal payload. Only the fields the contract
// names are copied: the identity block of a kycliveness payload (names, birth date) never leaves the relay.
func decodeTreezorEvent(event, objectID string, payload json.RawMessage, wh signals.Webhook) (treezorEvent, error) {
	var (
		ev  = treezorEvent{signal: event}
		obj jsonObject
		err error
	)
	// The event name is not signed: a signed payload of one object type sent under another type's name (a qes
	// object as videoConference.finalized, a user object as kycliveness.update) is refused.
	if kind, ok := payloadObjectKind(payload); ok && kind != eventObjectKind(event) {
		return treezorEvent{}, fmt.Errorf("object_payload holds a %s object, not the object of %s", kind, event)
	}
	switch event {
	case signals.SignalTreezorKycLivenessCreate, signals.SignalTreezorKycLivenessUpdate:
		obj, err = treezorObject(payload, []string{"kycliveness", "kycLiveness", "liveness"}, []string{"user_id", "userId"})
		if err == nil {
			ev.userID, ev.payload, err = decodeLiveness(obj, wh)
		}
	case signals.SignalTreezorDocumentCreate:
		obj, err = treezorObject(payload, []string{"documents", "document"}, treezorUserIDKeys)
		if err == nil {
			ev.userID, ev.payload, err = decodeDocument(obj, wh)
		}
	case signals.SignalTreezorKycReview:
		obj, err = treezorObject(payload, []string{"users", "user"}, treezorUserIDKeys)
		if err == nil {
			ev.userID, ev.payload, err = decodeKycReview(obj, wh)
		}
	case signals.SignalTreezorPayinCreate, signals.SignalTreezorPayinUpdate:
		obj, err = treezorObject(payload, []string{"payins", "payin"}, treezorUserIDKeys)
		if err == nil {
			ev.userID, ev.payload, err = decodePayin(obj, wh)
		}
	default:
		if !treezorEventLabels[event] {
			return treezorEvent{}, fmt.Errorf("event type %s is not forwarded", event)
		}
		obj, err = treezorObject(payload, []string{"qes", "videoConference", "videoconference", "identification", "identifications"}, treezorUserIDKeys)
		if err == nil {
			ev, err = decodeIdent(ev, obj, objectID, wh)
		}
	}
	if err != nil {
		return treezorEvent{}, fmt.Errorf("object_payload: %w", err)
	}
	if ev.userID == "" && ev.identificationID != "" {
		return ev, nil
	}
	if err := signals.ValidateSubject(ev.userID); err != nil {
		return treezorEvent{}, errors.New("object_payload: user ID is not a valid subject ID")
	}
	return ev, nil
}

// objectKinds are the containers of object_payload Treezor documents, by the kind of object they hold.
var objectKinds = map[string]string{
	"kycliveness": "kycliveness", "kycLiveness": "kycliveness", "liveness": "kycliveness",
	"documents": "document", "document": "document",
	"users": "user", "user": "user",
	"payins": "payin", "payin": "payin",
	"qes":             "qes",
	"videoConference": "videoConference", "videoconference": "videoConference",
}

// payloadObjectKind is the kind of object a payload's container key names, when it has a known one.
func payloadObjectKind(payload json.RawMessage) (string, bool) {
	top, ok := firstObject(payload)
	if !ok {
		return "", false
	}
	for key := range top {
		if kind, known := objectKinds[key]; known {
			return kind, true
		}
	}
	return "", false
}

// eventObjectKind is the kind of object an event's name says its payload holds: "qes" for qes.finalized,
// "user" for user.kycreview.
func eventObjectKind(event string) string {
	kind, _, _ := strings.Cut(event, ".")
	return kind
}

// treezorObject finds the object an event is about inside object_payload, whose shape is documented only for
// some events: the first element of a known container key ("users": [{...}]); else object_payload itself when it
// names a user; else the first element of its only key (an undocumented container); else object_payload itself.
func treezorObject(payload json.RawMessage, containers, userKeys []string) (jsonObject, error) {
	top, ok := firstObject(payload)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	for _, k := range containers {
		if v, _, ok := top.lookup(k); ok {
			inner, ok := firstObject(v)
			if !ok {
				return nil, fmt.Errorf("%s holds no object", k)
			}
			return inner, nil
		}
	}
	if top.has(userKeys...) || len(top) != 1 {
		return top, nil
	}
	for _, v := range top {
		if inner, ok := firstObject(v); ok {
			return inner, nil
		}
	}
	return top, nil
}

func requireUser(obj jsonObject, keys ...string) (string, error) {
	id, err := obj.text(keys...)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("no user ID (%s)", keys[0])
	}
	return id, nil
}

func decodeLiveness(obj jsonObject, wh signals.Webhook) (string, any, error) {
	userID, err := requireUser(obj, "user_id", "userId")
	if err != nil {
		return "", nil, err
	}
	ev := signals.TreezorLivenessEvent{Webhook: wh, UserID: userID}
	if ev.KycStatus, err = obj.text("kyc-status", "kycStatus", "kyc_status"); err != nil {
		return "", nil, err
	}
	if ev.KycStatus == "" {
		return "", nil, errors.New("kyc-status is missing")
	}
	if ev.Score, err = obj.integer("score"); err != nil {
		return "", nil, err
	}
	if ev.Reasons, err = livenessReasons(obj); err != nil {
		return "", nil, err
	}
	// Ties the event to one session when Treezor sends it (the workflow then ignores another session's events).
	if ev.IdentificationID, err = obj.text("identification-id", "identificationId", "identification_id"); err != nil {
		return "", nil, err
	}
	return userID, ev, nil
}

// livenessReasons reads reasons[] whose items are {reason-code, reason-message} (or code/message, reasonCode/
// reasonMessage), or bare codes.
func livenessReasons(obj jsonObject) ([]signals.ProviderReason, error) {
	raw, _, ok := obj.lookup("reasons")
	if !ok {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("reasons: want an array")
	}
	var out []signals.ProviderReason
	for _, item := range items {
		r, err := providerReason(item, []string{"reason-code", "reasonCode", "code", "reason_code"},
			[]string{"reason-message", "reasonMessage", "message", "reason_message"})
		if err != nil {
			return nil, fmt.Errorf("reasons: %w", err)
		}
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}

// providerReason reads a reason object, or a bare code; nil when it holds neither code nor message.
func providerReason(raw json.RawMessage, codeKeys, messageKeys []string) (*signals.ProviderReason, error) {
	if s, ok := scalarText(raw); ok {
		if s == "" {
			return nil, nil
		}
		return &signals.ProviderReason{Code: s}, nil
	}
	obj, err := decodeObject(raw)
	if err != nil {
		if string(raw) == "null" {
			return nil, nil
		}
		return nil, errors.New("want an object or a code")
	}
	var r signals.ProviderReason
	if r.Code, err = obj.text(codeKeys...); err != nil {
		return nil, err
	}
	if r.Message, err = obj.text(messageKeys...); err != nil {
		return nil, err
	}
	if r.Code == "" && r.Message == "" {
		return nil, nil
	}
	return &r, nil
}

func decodeDocument(obj jsonObject, wh signals.Webhook) (string, any, error) {
	userID, err := requireUser(obj, treezorUserIDKeys...)
	if err != nil {
		return "", nil, err
	}
	ev := signals.TreezorDocumentEvent{Webhook: wh, UserID: userID}
	if ev.DocumentID, err = obj.text("documentId", "document_id"); err != nil {
		return "", nil, err
	}
	if ev.DocumentID == "" {
		return "", nil, errors.New("documentId is missing")
	}
	typeID, err := obj.integer("documentTypeId", "document_type_id")
	if err != nil {
		return "", nil, err
	}
	if typeID != nil {
		ev.DocumentTypeID = *typeID
	}
	if ev.DocumentType, err = obj.text("documentType", "document_type"); err != nil {
		return "", nil, err
	}
	if ev.DocumentStatus, err = obj.text("documentStatus", "document_status"); err != nil {
		return "", nil, err
	}
	return userID, ev, nil
}

func decodeKycReview(obj jsonObject, wh signals.Webhook) (string, any, error) {
	userID, err := requireUser(obj, treezorUserIDKeys...)
	if err != nil {
		return "", nil, err
	}
	ev := signals.TreezorKycReviewEvent{Webhook: wh, UserID: userID}
	review, err := obj.integer("kycReview", "kyc_review")
	if err != nil {
		return "", nil, err
	}
	if review == nil {
		return "", nil, errors.New("kycReview is missing")
	}
	ev.KycReview = *review
	level, err := obj.integer("kycLevel", "kyc_level")
	if err != nil {
		return "", nil, err
	}
	if level != nil {
		ev.KycLevel = *level
	}
	return userID, ev, nil
}

// decodePayin reads a payin object (Treezor's PayinObject, payins[]): its IDs, status and payment method only, never
// the amount, the names or the IBANs it also holds.
func decodePayin(obj jsonObject, wh signals.Webhook) (string, any, error) {
	userID, err := requireUser(obj, treezorUserIDKeys...)
	if err != nil {
		return "", nil, err
	}
	ev := signals.TreezorPayinEvent{Webhook: wh, UserID: userID}
	for _, f := range []struct {
		into *string
		keys []string
	}{
		{&ev.PayinID, []string{"payinId", "payin_id"}},
		{&ev.WalletID, []string{"walletId", "wallet_id"}},
		{&ev.PayinStatus, []string{"payinStatus", "payin_status"}},
		{&ev.PaymentMethodID, []string{"paymentMethodId", "payment_method_id"}},
	} {
		if *f.into, err = obj.text(f.keys...); err != nil {
			return "", nil, err
		}
	}
	if ev.PayinStatus == "" {
		return "", nil, errors.New("payinStatus is missing")
	}
	return userID, ev, nil
}

// decodeIdent reads a qes.* or videoConference.* object. Its attributes are not documented beyond result; the
// reason is read from reason{reasonCode, reasonMessage}, or from reasonCode/reasonMessage beside result.
// decodeIdent reads a qes.* or videoConference.* payload. Seeds 000 and 002 document only its result and reason;
// the user may be absent, and then the identification is named by the payload's identificationId or, failing that,
// the envelope's object_id. An event that names its user goes to the user's workflow; one that names only the
// identification goes to the run that opened it (its KycProviderReference).
func decodeIdent(ev treezorEvent, obj jsonObject, objectID string, wh signals.Webhook) (treezorEvent, error) {
	userID, err := obj.text(treezorUserIDKeys...)
	if err != nil {
		return ev, err
	}
	out := signals.TreezorIdentEvent{Webhook: wh, UserID: userID}
	if out.IdentificationID, err = obj.text("identificationId", "identification_id", "identification-id"); err != nil {
		return ev, err
	}
	if userID == "" {
		if out.IdentificationID == "" {
			// The envelope's object_id names the object the event is about; it stands in for the identification
			// only when nothing else names one (then the run found by it is the identification's by construction).
			out.IdentificationID = objectID
		}
		switch {
		case out.IdentificationID == "":
			return ev, errors.New("names neither a user (userId) nor an identification (identificationId, object_id)")
		case !ValidReference(out.IdentificationID):
			return ev, errors.New("identification ID is not a lookup-safe reference (letters, digits, . _ : -, at most 128 bytes)")
		}
	}
	if out.Result, err = obj.text("result"); err != nil {
		return ev, err
	}
	codeKeys := []string{"reasonCode", "reason_code", "reason-code", "code"}
	messageKeys := []string{"reasonMessage", "reason_message", "reason-message", "message"}
	if raw, _, ok := obj.lookup("reason"); ok {
		if out.Reason, err = providerReason(raw, codeKeys, messageKeys); err != nil {
			return ev, fmt.Errorf("reason: %w", err)
		}
	}
	if out.Reason == nil {
		r := signals.ProviderReason{}
		if r.Code, err = obj.text(codeKeys[:3]...); err != nil {
			return ev, err
		}
		if r.Message, err = obj.text(messageKeys[:3]...); err != nil {
			return ev, err
		}
		if r.Code != "" || r.Message != "" {
			out.Reason = &r
		}
	}
	ev.userID, ev.identificationID, ev.payload = userID, out.IdentificationID, out
	return ev, nil
}
