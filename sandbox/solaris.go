package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycflow/kycflow/signals"
)

// Solaris' API: OAuth2 client credentials (Basic auth), persons, and IDnow identifications.

type solarisState struct {
	persons        map[string]*solPerson
	idents         map[string]*solIdent
	subscriptionID string
}

func (st *solarisState) init() {
	st.persons = map[string]*solPerson{}
	st.idents = map[string]*solIdent{}
	st.subscriptionID = randomHex(16) + "whsub"
}

// solPerson is a Solaris person: its object is kept as created (personal data: served back, never logged).
type solPerson struct {
	sub    *subject
	object map[string]any
}

type solIdent struct {
	id, personID  string
	language      string
	status        string
	reference     string
	url           string
	failureReason string
	completedAt   *time.Time
	scenario      Scenario
	person        *solPerson
}

func (s *Server) routeSolaris() {
	s.mux.HandleFunc("POST /solaris/oauth2/token", s.solarisToken)
	s.mux.HandleFunc("POST /solaris/v1/persons", s.solarisAuthed(s.solarisCreatePerson))
	s.mux.HandleFunc("GET /solaris/v1/persons/{personId}", s.solarisPerson(func(w http.ResponseWriter, _ *http.Request, p *solPerson) {
		writeJSON(w, http.StatusOK, p.object)
	}))
	s.mux.HandleFunc("POST /solaris/v1/persons/{personId}/identifications", s.solarisPerson(s.solarisCreateIdentification))
	s.mux.HandleFunc("GET /solaris/v1/persons/{personId}/identifications", s.solarisPerson(s.solarisListIdentifications))
	s.mux.HandleFunc("GET /solaris/v1/persons/{personId}/identifications/{id}", s.solarisIdent(s.solarisGetIdentification))
	s.mux.HandleFunc("PATCH /solaris/v1/persons/{personId}/identifications/{id}/request", s.solarisIdent(s.solarisRequestIdentification))
	s.mux.HandleFunc("/solaris/", func(w http.ResponseWriter, _ *http.Request) {
		solarisError(w, http.StatusNotFound, "not_found", "Not Found", "No route matches this method and path", "")
	})
}

// solarisError writes Solaris' error format.
func solarisError(w http.ResponseWriter, status int, code, title, detail, field string) {
	e := map[string]any{"id": newUUID(), "status": status, "code": code, "title": title, "detail": detail}
	if field != "" {
		e["source"] = map[string]string{"field": field, "message": detail}
	}
	writeJSON(w, status, map[string]any{"errors": []any{e}})
}

// solarisToken is POST /oauth2/token: Basic auth, grant_type=client_credentials, scope partners.
func (s *Server) solarisToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	creds := s.cfg.Credentials
	if !ok || !sameSecret(id, creds.SolarisClientID) || !sameSecret(secret, creds.SolarisClientSecret) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if scope := r.PostForm.Get("scope"); scope != "" && scope != "partners" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_scope"})
		return
	}
	s.mu.Lock()
	t := s.issueToken(signals.ProviderSolaris, time.Hour)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": t, "expires_in": 3599, "scope": "partners", "token_type": "bearer"})
}

// solarisAuthed checks the bearer token; the handler runs with s.mu held.
func (s *Server) solarisAuthed(h func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			solarisError(w, http.StatusServiceUnavailable, "service_unavailable", "Service Unavailable", "The sandbox is shutting down", "")
			return
		}
		if !s.bearer(r, signals.ProviderSolaris) {
			solarisError(w, http.StatusUnauthorized, "invalid_token", "Invalid Token", "The access token is invalid or expired", "")
			return
		}
		h(w, r)
	}
}

// solarisPerson also finds the person of the path and applies its API faults.
func (s *Server) solarisPerson(h func(http.ResponseWriter, *http.Request, *solPerson)) http.HandlerFunc {
	return s.solarisAuthed(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.sol.persons[r.PathValue("personId")]
		if !ok {
			solarisError(w, http.StatusNotFound, "not_found", "Not Found", "The person does not exist", "")
			return
		}
		if status, retryAfter, faulted := s.apiFault(p.sub, time.Now()); faulted {
			if retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
			}
			solarisError(w, status, "sandbox_fault", http.StatusText(status), http.StatusText(status), "")
			return
		}
		h(w, r, p)
	})
}

// solarisIdent also finds the identification, which must be the person's.
func (s *Server) solarisIdent(h func(http.ResponseWriter, *http.Request, *solIdent)) http.HandlerFunc {
	return s.solarisPerson(func(w http.ResponseWriter, r *http.Request, p *solPerson) {
		id, ok := s.sol.idents[r.PathValue("id")]
		if !ok || id.person != p {
			solarisError(w, http.StatusNotFound, "not_found", "Not Found", "The identification does not exist", "")
			return
		}
		h(w, r, id)
	})
}

// solarisPersonFields are the person fields the sandbox keeps and serves back.
var solarisPersonFields = []string{
	"salutation", "title", "first_name", "last_name", "address", "contact_address", "email", "mobile_number",
	"birth_name", "birth_date", "birth_city", "birth_country", "nationality", "employment_status",
	"terms_conditions_signed_at", "data_terms_signed_at", "own_economic_interest_signed_at",
}

// solarisCreatePerson is POST /v1/persons. first_name and last_name follow Solaris' sanitization rules.
func (s *Server) solarisCreatePerson(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := decodeJSON(r, &body); err != nil {
		solarisError(w, http.StatusBadRequest, "invalid_json", "Invalid JSON", err.Error(), "")
		return
	}
	names := map[string]string{}
	for _, field := range []string{"first_name", "last_name"} {
		v, _ := body[field].(string)
		if problem := solarisNameProblem(v); problem != "" {
			solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", field+" "+problem, field)
			return
		}
		names[field] = v
	}
	// Seed 003, "POST Create person": the mandatory data points, consents included ("you must pass each
	// timestamp"), each a UTC timestamp.
	if field, problem := solarisPersonProblem(body); field != "" {
		solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", field+" "+problem, field)
		return
	}
	if b, ok := body["birth_date"].(string); ok && !birthdayFormat.MatchString(b) {
		solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", "birth_date must be YYYY-MM-DD", "birth_date")
		return
	}
	scenario := ScenarioFromNames(names["first_name"], names["last_name"])
	if scenario != "" && !knownScenario(scenario) {
		solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", "sandbox: no scenario is named "+scenario, "last_name")
		return
	}
	writeJSON(w, http.StatusCreated, s.addSolarisPerson(body).object)
}

// solarisPersonProblem is the first mandatory field of seed 003's person table that body lacks or has in the wrong
// form, with what is wrong; "" when the person is complete.
func solarisPersonProblem(body map[string]any) (field, problem string) {
	text := func(v any) string { s, _ := v.(string); return strings.TrimSpace(s) }
	for _, f := range signals.SolarisPersonMandatory {
		switch f {
		case "address":
			a, ok := body["address"].(map[string]any)
			if !ok {
				return f, "is mandatory"
			}
			for _, part := range []string{"line_1", "postal_code", "city", "country"} {
				if text(a[part]) == "" {
					return "address." + part, "is mandatory"
				}
			}
		case "data_terms_signed_at", "terms_conditions_signed_at":
			v := text(body[f])
			if v == "" {
				return f, "is mandatory: record the customer's consent as a UTC timestamp"
			}
			ts, err := time.Parse(time.RFC3339Nano, v)
			if _, offset := ts.Zone(); err != nil || offset != 0 {
				return f, "must be a UTC timestamp such as 2019-01-01T00:00:00Z"
			}
		default:
			if text(body[f]) == "" {
				return f, "is mandatory"
			}
		}
	}
	return "", ""
}

// addSolarisPerson registers a person whose fields were checked. Call with s.mu.
func (s *Server) addSolarisPerson(body map[string]any) *solPerson {
	id := randomHex(16) + "cper"
	object := map[string]any{"id": id}
	for _, f := range solarisPersonFields {
		object[f] = body[f]
	}
	object["screening_progress"] = "NOT_SCREENED"
	object["flagged_by_compliance"] = false
	first, _ := body["first_name"].(string)
	last, _ := body["last_name"].(string)
	p := &solPerson{object: object}
	p.sub = s.newSubject(signals.ProviderSolaris, id, ScenarioFromNames(first, last), FaultsFromNames(first, last))
	s.sol.persons[id] = p
	return p
}

// solarisNameProblem applies Solaris' rules: at most 50 characters, no leading whitespace, no symbols or emojis.
func solarisNameProblem(name string) string {
	switch {
	case name == "":
		return "is required"
	case utf8.RuneCountInString(name) > 50:
		return "must not be longer than 50 characters"
	case unicode.IsSpace([]rune(name)[0]):
		return "must not start with a whitespace"
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsMark(r) || r == ' ' || strings.ContainsRune("-'’.", r)) {
			return "must not include any symbols or emojis"
		}
	}
	return ""
}

// solarisCreateIdentification is POST /v1/persons/{person_id}/identifications. Solaris announces the new
// identification with an IDENTIFICATION webhook (status created).
func (s *Server) solarisCreateIdentification(w http.ResponseWriter, r *http.Request, p *solPerson) {
	var body struct {
		Method                 string `json:"method"`
		Language               string `json:"language"`
		ProofOfAddressType     string `json:"proof_of_address_type"`
		ProofOfAddressIssuedAt string `json:"proof_of_address_issued_at"`
	}
	if err := decodeJSON(r, &body); err != nil {
		solarisError(w, http.StatusBadRequest, "invalid_json", "Invalid JSON", err.Error(), "")
		return
	}
	if body.Method != "idnow" {
		solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", "method: the sandbox plays idnow only", "method")
		return
	}
	if body.Language != "" && body.Language != "EN" && body.Language != "DE" {
		solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", "language must be EN or DE", "language")
		return
	}
	sc, err := p.sub.scenarioFor(signals.MethodSolarisIDnow)
	if err != nil {
		solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", err.Error(), "")
		return
	}
	if field, problem := proofOfAddressProblem(sc, body.ProofOfAddressType, body.ProofOfAddressIssuedAt); field != "" {
		solarisError(w, http.StatusBadRequest, "invalid_model", "Invalid Model", field+" "+problem, field)
		return
	}
	p.sub.stats.Scenario = sc.Name
	id := &solIdent{id: randomHex(16) + "cidt", personID: p.object["id"].(string), language: body.Language,
		status: signals.SolarisStatusCreated, scenario: sc, person: p}
	s.sol.idents[id.id] = id
	writeJSON(w, http.StatusCreated, id.object(false))
	s.play(p.sub, []step{{fire: func() *webhook { return s.solarisWebhook(id) }}})
}

// proofOfAddressProblem applies seed 003 to POST .../identifications: proof_of_address_type and
// proof_of_address_issued_at are "mandatory if the customer's identification document does not include their
// address" (the scenario's NoAddressOnDocument), and the document "must NOT be older than 6 months".
func proofOfAddressProblem(sc Scenario, typ, issuedAt string) (field, problem string) {
	if !sc.NoAddressOnDocument && typ == "" && issuedAt == "" {
		return "", ""
	}
	switch {
	case typ == "":
		return "proof_of_address_type", "is mandatory: the customer's identification document does not include their address"
	case issuedAt == "":
		return "proof_of_address_issued_at", "is mandatory: the customer's identification document does not include their address"
	}
	p := signals.ProofOfAddress{Type: typ, IssuedAt: issuedAt}
	if err := p.CheckAge(time.Now()); err != nil {
		return "proof_of_address_issued_at", "must not be older than 6 months"
	}
	return "", ""
}

// solarisRequestIdentification is PATCH .../identifications/{id}/request: the identification goes to pending
// with its IDnow URL, and the scenario's steps follow.
func (s *Server) solarisRequestIdentification(w http.ResponseWriter, _ *http.Request, id *solIdent) {
	if id.status != signals.SolarisStatusCreated {
		// Already requested: Solaris answers with the identification as it stands.
		writeJSON(w, http.StatusOK, id.object(false))
		return
	}
	id.status = signals.SolarisStatusPending
	id.reference = "TST-" + strings.ToUpper(randomHex(3))[:5]
	id.url = s.openSession(id.id, signals.ProviderSolaris, signals.MethodSolarisIDnow, id.person.sub, id.scenario.Name)
	o := id.object(false)
	o["estimated_waiting_time"] = 60
	writeJSON(w, http.StatusOK, o)

	steps := []step{{fire: func() *webhook { return s.solarisWebhook(id) }}}
	for _, ss := range id.scenario.Solaris {
		steps = append(steps, step{delay: s.clock.real(ss.At), late: ss.At.PastDeadline > 0, fire: func() *webhook {
			id.status, id.failureReason = ss.Status, ss.FailureReason
			if ss.Status == signals.SolarisStatusSuccessful || ss.Status == signals.SolarisStatusFailed {
				now := time.Now().UTC()
				id.completedAt = &now
			}
			return s.solarisWebhook(id)
		}})
	}
	s.play(id.person.sub, steps)
}

func (s *Server) solarisGetIdentification(w http.ResponseWriter, r *http.Request, id *solIdent) {
	writeJSON(w, http.StatusOK, id.object(r.URL.Query().Get("include_documents") == "true"))
}

func (s *Server) solarisListIdentifications(w http.ResponseWriter, _ *http.Request, p *solPerson) {
	var out []map[string]any
	for _, id := range s.sol.idents {
		if id.person == p {
			out = append(out, id.object(false))
		}
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
	writeJSON(w, http.StatusOK, out)
}

// object is the identification as the API answers it. failure_reason is given for aborted and canceled, and for
// failed where the scenario sets one: seed 003 says "No reason can be disclosed for the final failed status", a rule
// for the integrator (never tell the customer), not a promise that the field is empty.
func (id *solIdent) object(documents bool) map[string]any {
	o := map[string]any{
		"id": id.id, "reference": nullable(id.reference), "url": nullable(id.url), "status": id.status,
		"completed_at": nil, "method": "idnow", "language": nullable(id.language), "person_id": id.personID,
		"proof_of_address_type": nil, "proof_of_address_issued_at": nil, "iban": nil,
		"terms_and_conditions_signed_at": nil, "authorization_expires_at": nil, "confirmation_expires_at": nil,
		"failure_reason": nil,
	}
	if id.completedAt != nil {
		o["completed_at"] = id.completedAt.Format("2006-01-02T15:04:05.000Z")
	}
	if id.status == signals.SolarisStatusAborted || id.status == signals.SolarisStatusCanceled || id.status == signals.SolarisStatusFailed {
		o["failure_reason"] = nullable(id.failureReason)
	}
	if documents {
		docs := []map[string]any{}
		if id.status == signals.SolarisStatusSuccessful {
			docs = append(docs,
				map[string]any{"id": id.id[:24] + "0000000kyccdoc", "name": "kyc_report.pdf", "content_type": "application/pdf", "document_type": "KYC_REPORT", "size": 803580},
				map[string]any{"id": id.id[:24] + "0000000sigcdoc", "name": "signature.jpg", "content_type": "image/jpeg", "document_type": "SIGNATURE", "size": 25349},
			)
		}
		o["documents"] = docs
	}
	return o
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// solarisWebhookBody is the IDENTIFICATION payload, in the documented field order. It names no person and no
// failure reason: the workflow reads those with GET.
type solarisWebhookBody struct {
	ID          string  `json:"id"`
	Reference   *string `json:"reference"`
	URL         *string `json:"url"`
	Status      string  `json:"status"`
	CompletedAt *string `json:"completed_at"`
	Method      string  `json:"method"`
}

// solarisWebhook builds an IDENTIFICATION webhook for the identification's current state, signed over the raw
// body. Call with s.mu.
func (s *Server) solarisWebhook(id *solIdent) *webhook {
	b := solarisWebhookBody{ID: id.id, Status: id.status, Method: "idnow"}
	if id.reference != "" {
		b.Reference = &id.reference
	}
	if id.url != "" {
		b.URL = &id.url
	}
	if id.completedAt != nil {
		t := id.completedAt.Format("2006-01-02T15:04:05.000Z")
		b.CompletedAt = &t
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil
	}
	deliveryID := newUUID()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	// Solaris documents "HMAC SHA-256" but not the header's layout: some deliveries carry "sha256=<hex>" (as a
	// third-party mock does), others the bare hex, so a receiver must take both.
	sig := hexHMAC(s.cfg.WebhookSecrets.Solaris, body)
	if deliveryID[0]%2 == 0 {
		sig = strings.TrimPrefix(sig, "sha256=")
	}
	h.Set("Solaris-Webhook-Signature", sig)
	h.Set("Solaris-Webhook-Id", deliveryID)
	h.Set("Solaris-Webhook-Event-Type", "IDENTIFICATION")
	h.Set("Solaris-Webhook-Subscription-Id", s.sol.subscriptionID)
	h.Set("Solaris-Entity-Id", id.personID)
	final := id.status == signals.SolarisStatusSuccessful || id.status == signals.SolarisStatusFailed
	return &webhook{provider: signals.ProviderSolaris, sub: id.person.sub, event: "IDENTIFICATION " + id.status,
		eventID: deliveryID, body: body, signed: body, header: h, attemptHeader: "Solaris-Webhook-Attempt", attemptBase: 1, droppable: final}
}
