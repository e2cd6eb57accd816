package sandbox

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/kycflow/kycflow/signals"
)

// The sandbox's own endpoints, under /sandbox.

func (s *Server) routeSandbox() {
	s.mux.HandleFunc("GET /sessions/{id}", s.sessionPage)
	s.mux.HandleFunc("GET /sandbox/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /sandbox/config", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Info())
	})
	s.mux.HandleFunc("GET /sandbox/scenarios", func(w http.ResponseWriter, _ *http.Request) {
		type row struct {
			Scenario
			LastName string `json:"lastName"`
		}
		rows := make([]row, len(Scenarios))
		for i, sc := range Scenarios {
			rows[i] = row{sc, sc.LastName()}
		}
		writeJSON(w, http.StatusOK, rows)
	})
	s.mux.HandleFunc("GET /sandbox/stats", func(w http.ResponseWriter, r *http.Request) {
		stats := s.Stats()
		if key := r.URL.Query().Get("subject"); key != "" {
			for _, st := range stats {
				if st.Key == key {
					writeJSON(w, http.StatusOK, st)
					return
				}
			}
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such subject"})
			return
		}
		writeJSON(w, http.StatusOK, stats)
	})
	s.mux.HandleFunc("POST /sandbox/subjects", s.createSubject)
}

// Info is what GET /sandbox/config answers: how the sandbox compresses time, and the deadlines that match.
type Info struct {
	TimeScale   float64                              `json:"timeScale"`
	MinDeadline string                               `json:"minDeadline"`
	WebhookURL  string                               `json:"webhookUrl"`
	Faults      string                               `json:"faults,omitempty"`
	Deadlines   map[signals.Method]signals.Deadlines `json:"deadlines"`
}

// Info describes the server's configuration, secrets aside.
func (s *Server) Info() Info {
	info := Info{
		TimeScale: s.clock.Scale, MinDeadline: s.clock.MinDeadline.String(), WebhookURL: s.cfg.WebhookURL,
		Faults: s.cfg.Faults.String(), Deadlines: map[signals.Method]signals.Deadlines{},
	}
	for _, m := range signals.Methods {
		info.Deadlines[m] = s.clock.Deadlines(m)
	}
	return info
}

// Clock is the clock the configuration describes.
func (i Info) Clock() (Clock, error) {
	c, err := NewClock(i.TimeScale)
	if err != nil {
		return Clock{}, err
	}
	if c.MinDeadline, err = time.ParseDuration(i.MinDeadline); err != nil {
		return Clock{}, fmt.Errorf("minDeadline %q: %w", i.MinDeadline, err)
	}
	return c, nil
}

// SubjectRequest asks POST /sandbox/subjects for a subject that plays a scenario.
type SubjectRequest struct {
	Method   signals.Method `json:"method"`
	Scenario string         `json:"scenario"`
	Faults   []Fault        `json:"faults,omitempty"`
}

// SubjectResponse is the subject to start a verification for, with the kycflow command that does it.
type SubjectResponse struct {
	Method    signals.Method    `json:"method"`
	Scenario  string            `json:"scenario"`
	SubjectID string            `json:"subjectId"`
	FirstName string            `json:"firstName"`
	LastName  string            `json:"lastName"`
	Deadlines signals.Deadlines `json:"deadlines"`
	Command   string            `json:"command"`
}

// createSubject is a shortcut for people trying the stack by hand: it creates the Treezor user or the Solaris
// person a scenario needs (as a signup backend would through the providers' APIs) and prints the command that
// starts the verification.
func (s *Server) createSubject(w http.ResponseWriter, r *http.Request) {
	var req SubjectRequest
	if err := decodeJSON(r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if _, err := signals.ParseMethod(string(req.Method)); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if req.Scenario == "" {
		req.Scenario = DefaultScenario(req.Method)
	}
	sc, ok := Lookup(req.Method, req.Scenario)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("%s has no scenario %q (one of: %s)",
			req.Method, req.Scenario, strings.Join(ScenarioNames(req.Method), ", "))})
		return
	}
	first, last := SyntheticFirstName(req.Faults), sc.LastName()
	resp := SubjectResponse{Method: sc.Method, Scenario: sc.Name, FirstName: first, LastName: last, Deadlines: s.clock.Deadlines(sc.Method)}
	s.mu.Lock()
	switch sc.Method.Provider() {
	case signals.ProviderTreezor:
		fields := map[string]string{}
		for k, v := range TreezorUserFields(sc, first) {
			fields[k] = fmt.Sprint(v)
		}
		resp.SubjectID = s.addTreezorUser(fields).id
	case signals.ProviderSolaris:
		resp.SubjectID = s.addSolarisPerson(map[string]any{"first_name": first, "last_name": last}).object["id"].(string)
	default:
		resp.SubjectID = "sandbox-" + randomHex(6)
	}
	s.mu.Unlock()
	resp.Command = startCommand(resp)
	writeJSON(w, http.StatusCreated, resp)
}

func startCommand(r SubjectResponse) string {
	cmd := fmt.Sprintf("bin/kycflow start --method %s --subject %s --url-validity %s --review-deadline %s",
		r.Method, r.SubjectID, time.Duration(r.Deadlines.URLValidity), time.Duration(r.Deadlines.Review))
	if r.Method == signals.MethodYousignVideo {
		// kycflow takes names from a file or stdin only (never a flag, which ps shows); these are synthetic.
		names, _ := json.Marshal(signals.YousignPerson{FirstName: r.FirstName, LastName: r.LastName})
		cmd = fmt.Sprintf("echo '%s' | %s --verification-deadline %s --person - --redirect-url https://signup.example.test/kyc/done",
			names, cmd, time.Duration(r.Deadlines.Verification))
	}
	return cmd
}

// TreezorUserFields are the fields of POST /v1/users for a user who plays the scenario: synthetic, complete
// except for the scenario's OmitUserFields.
func TreezorUserFields(sc Scenario, firstName string) map[string]any {
	fields := map[string]any{
		"userTypeId": 1, "specifiedUSPerson": 0,
		"firstname": firstName, "lastname": sc.LastName(), "birthday": "1990-01-01",
		"email":   "kycflow-sandbox-" + randomHex(8) + "@example.test",
		"country": "FR", "phone": "+33600000000", "address1": "1 rue de la Paix", "postcode": "75002", "city": "Paris",
	}
	for _, f := range sc.OmitUserFields {
		delete(fields, f)
	}
	return fields
}

// SolarisPersonFields is a synthetic Solaris person for a scenario, with every mandatory data point of seed 003's
// "POST Create person" (consents included) except the fields the scenario's OmitUserFields names (JSON names:
// "terms_conditions_signed_at", "address", ...), which the backend then leaves out.
func SolarisPersonFields(sc Scenario, firstName string) signals.SolarisPerson {
	consented := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	p := signals.SolarisPerson{
		Salutation: "MS", FirstName: firstName, LastName: sc.LastName(), BirthDate: "1990-01-01", Nationality: "DE",
		Mobile:                  "+49301234567",
		Address:                 &signals.SolarisAddress{Line1: "Amrumerstrasse 14", PostalCode: "13353", City: "Berlin", Country: "DE"},
		TermsConditionsSignedAt: &consented, DataTermsSignedAt: &consented,
	}
	for _, f := range sc.OmitUserFields {
		switch f {
		case "salutation":
			p.Salutation = ""
		case "birth_date":
			p.BirthDate = ""
		case "nationality":
			p.Nationality = ""
		case "mobile_number":
			p.Mobile = ""
		case "address":
			p.Address = nil
		case "terms_conditions_signed_at":
			p.TermsConditionsSignedAt = nil
		case "data_terms_signed_at":
			p.DataTermsSignedAt = nil
		}
	}
	return p
}

// SyntheticFirstName is a made-up first name (letters only, as Solaris requires), unique enough that two runs of
// a scenario never share a Yousign person, followed by the token that selects the faults, if any.
func SyntheticFirstName(faults []Fault) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 0, 7)
	for range cap(b) {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(letters))))
		b = append(b, letters[n.Int64()])
	}
	b[0] -= 'a' - 'A'
	if tok := FaultToken(faults); tok != "" {
		return string(b) + " " + tok
	}
	return string(b)
}
