package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycflow/kycflow/signals"
)

// Yousign's API v3: video identity verifications, authenticated with an API key.

type yousignState struct {
	persons        map[string]*ysPerson
	verifications  map[string]*ysVerification
	workspaceID    string
	subscriptionID string
}

func (st *yousignState) init() {
	st.persons = map[string]*ysPerson{}
	st.verifications = map[string]*ysVerification{}
	st.workspaceID = newUUID()
	st.subscriptionID = newUUID()
}

// ysPerson is the person a verification names; scenarios and faults attach to it, and the n-th verification
// opened for it follows the scenario's n-th result.
type ysPerson struct {
	sub    *subject
	opened int
}

type ysVerification struct {
	id       string
	person   *ysPerson
	fullName string
	status   string
	codes    []string
	url      string
	created  time.Time
	updated  time.Time
}

// NameKey is the subject ID the sandbox gives the person a Yousign verification names (its statistics key is
// yousign/NameKey): a digest, so that no name shows in statistics or logs.
func NameKey(firstName, lastName string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(firstName)) + "\x00" + strings.ToLower(strings.TrimSpace(lastName))))
	return hex.EncodeToString(sum[:8])
}

func (s *Server) routeYousign() {
	s.mux.HandleFunc("POST /yousign/v3/verifications/identity_videos", s.yousignAuthed(s.yousignCreate))
	s.mux.HandleFunc("GET /yousign/v3/verifications/identity_videos/{id}", s.yousignAuthed(s.yousignGet))
	s.mux.HandleFunc("/yousign/", func(w http.ResponseWriter, _ *http.Request) {
		yousignError(w, http.StatusNotFound, "not_found", "No route matches this method and path", nil)
	})
}

type invalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// yousignError writes Yousign's error format.
func yousignError(w http.ResponseWriter, status int, typ, detail string, params []invalidParam) {
	body := map[string]any{"type": typ, "detail": detail}
	if params != nil {
		body["invalid_params"] = params
	}
	writeJSON(w, status, body)
}

// yousignAuthed checks the API key; the handler runs with s.mu held.
func (s *Server) yousignAuthed(h func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			yousignError(w, http.StatusServiceUnavailable, "service_unavailable", "The sandbox is shutting down", nil)
			return
		}
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !sameSecret(strings.TrimSpace(key), s.cfg.Credentials.YousignAPIKey) {
			yousignError(w, http.StatusUnauthorized, "unauthorized", "Invalid API key, or a key of another environment", nil)
			return
		}
		h(w, r)
	}
}

// yousignFault applies the person's API faults; true when it answered.
func (s *Server) yousignFault(w http.ResponseWriter, sub *subject) bool {
	status, retryAfter, faulted := s.apiFault(sub, time.Now())
	if !faulted {
		return false
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	}
	typ := "server_error"
	if status == http.StatusTooManyRequests {
		typ = "too_many_requests"
	}
	yousignError(w, status, typ, http.StatusText(status), nil)
	return true
}

// yousignCreate is POST /verifications/identity_videos.
func (s *Server) yousignCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		FirstName      string `json:"first_name"`
		LastName       string `json:"last_name"`
		RedirectionURL string `json:"redirection_url"`
	}
	if err := decodeJSON(r, &body); err != nil {
		yousignError(w, http.StatusBadRequest, "validation.error", err.Error(), nil)
		return
	}
	var params []invalidParam
	for _, f := range []struct{ name, value string }{{"first_name", body.FirstName}, {"last_name", body.LastName}} {
		if n := utf8.RuneCountInString(strings.TrimSpace(f.value)); n < 1 || n > 255 || strings.IndexFunc(f.value, unicode.IsControl) >= 0 {
			params = append(params, invalidParam{f.name, "This value should have between 1 and 255 characters."})
		}
	}
	if u, err := url.Parse(body.RedirectionURL); body.RedirectionURL == "" || len(body.RedirectionURL) > 2000 || err != nil || !u.IsAbs() {
		params = append(params, invalidParam{"redirection_url", "This value is not a valid URL."})
	}
	if params != nil {
		yousignError(w, http.StatusBadRequest, "validation.error", "The request is invalid.", params)
		return
	}
	key := NameKey(body.FirstName, body.LastName)
	p, ok := s.ys.persons[key]
	if !ok {
		scenario := ScenarioFromNames(body.FirstName, body.LastName)
		if scenario != "" && !knownScenario(scenario) {
			yousignError(w, http.StatusBadRequest, "validation.error", "The request is invalid.",
				[]invalidParam{{"last_name", "sandbox: no scenario is named " + scenario}})
			return
		}
		p = &ysPerson{sub: s.newSubject(signals.ProviderYousign, key, scenario, FaultsFromNames(body.FirstName, body.LastName))}
		s.ys.persons[key] = p
	}
	if s.yousignFault(w, p.sub) {
		return
	}
	sc, err := p.sub.scenarioFor(signals.MethodYousignVideo)
	if err != nil {
		yousignError(w, http.StatusBadRequest, "validation.error", err.Error(), nil)
		return
	}
	p.sub.stats.Scenario = sc.Name
	p.opened++
	now := time.Now().UTC()
	v := &ysVerification{id: newUUID(), person: p, fullName: body.FirstName + " " + body.LastName,
		status: signals.YousignStatusPending, created: now, updated: now}
	s.ys.verifications[v.id] = v
	v.url = s.openSession(v.id, signals.ProviderYousign, signals.MethodYousignVideo, p.sub, sc.Name)
	writeJSON(w, http.StatusCreated, s.yousignObject(v))

	if len(sc.Yousign) == 0 {
		return
	}
	result := sc.Yousign[min(p.opened, len(sc.Yousign))-1]
	s.play(p.sub, []step{{delay: s.clock.real(result.At), late: result.At.PastDeadline > 0, fire: func() *webhook {
		v.status, v.codes, v.updated = result.Status, result.Codes, time.Now().UTC()
		return s.yousignWebhook(v)
	}}})
}

// yousignGet is GET /verifications/identity_videos/{id}.
func (s *Server) yousignGet(w http.ResponseWriter, r *http.Request) {
	v, ok := s.ys.verifications[r.PathValue("id")]
	if !ok {
		yousignError(w, http.StatusNotFound, "not_found", "Verification not found", nil)
		return
	}
	if s.yousignFault(w, v.person.sub) {
		return
	}
	writeJSON(w, http.StatusOK, s.yousignObject(v))
}

// yousignObject is the identity video object. What Yousign extracted from the document is filled in once the
// verification is verified (personal data: served, never logged).
func (s *Server) yousignObject(v *ysVerification) map[string]any {
	codes := v.codes
	if codes == nil {
		codes = []string{}
	}
	o := map[string]any{
		"id": v.id, "workspace_id": s.ys.workspaceID, "created_at": v.created.Format(time.RFC3339),
		"updated_at": v.updated.Format(time.RFC3339), "status": v.status, "status_codes": codes,
		"face_recognition": false, "data_anonymized": false, "verification_url": v.url,
		"data": map[string]any{"extracted_from_document": nil, "evidence": nil},
	}
	if v.status == signals.YousignStatusVerified {
		o["data"] = map[string]any{
			"extracted_from_document": map[string]any{"full_name": v.fullName, "born_on": nil, "type": "identity_card", "issuing_country_code": "FR"},
			"evidence":                map[string]any{"document_front_image_url": nil, "face_image_url": nil},
		}
	}
	return o
}

// yousignWebhook builds verification.identity_video.done, signed over the raw body. Call with s.mu.
func (s *Server) yousignWebhook(v *ysVerification) *webhook {
	codes := v.codes
	if codes == nil {
		codes = []string{}
	}
	type identityVideo struct {
		ID              string   `json:"id"`
		WorkspaceID     string   `json:"workspace_id"`
		CreatedAt       string   `json:"created_at"`
		UpdatedAt       string   `json:"updated_at"`
		Status          string   `json:"status"`
		StatusCodes     []string `json:"status_codes"`
		DataAnonymized  bool     `json:"data_anonymized"`
		FaceRecognition bool     `json:"face_recognition"`
	}
	eventID := newUUID()
	body, err := json.Marshal(struct {
		EventID                 string `json:"event_id"`
		EventName               string `json:"event_name"`
		EventTime               string `json:"event_time"`
		SubscriptionID          string `json:"subscription_id"`
		SubscriptionDescription string `json:"subscription_description"`
		Sandbox                 bool   `json:"sandbox"`
		Data                    struct {
			IdentityVideo identityVideo `json:"identity_video"`
		} `json:"data"`
	}{
		EventID: eventID, EventName: signals.SignalYousignVerificationDone, EventTime: strconv.FormatInt(time.Now().Unix(), 10),
		SubscriptionID: s.ys.subscriptionID, SubscriptionDescription: "kycflow sandbox", Sandbox: true,
		Data: struct {
			IdentityVideo identityVideo `json:"identity_video"`
		}{identityVideo{ID: v.id, WorkspaceID: s.ys.workspaceID, CreatedAt: v.created.Format(time.RFC3339),
			UpdatedAt: v.updated.Format(time.RFC3339), Status: v.status, StatusCodes: codes}},
	})
	if err != nil {
		return nil
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Yousign Webhook Bot")
	h.Set("X-Yousign-Signature-256", hexHMAC(s.cfg.WebhookSecrets.Yousign, body))
	return &webhook{provider: signals.ProviderYousign, sub: v.person.sub, event: signals.SignalYousignVerificationDone + " " + v.status,
		eventID: eventID, body: body, signed: body, header: h, attemptHeader: "X-Yousign-Retry", attemptBase: 0, droppable: true}
}
