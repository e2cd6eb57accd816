package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
)

// FakeSolaris plays Solaris' OAuth token endpoint and person identification API. Identification IDs are
// "idt-<person_id>"; reads answer with the status set by SetStatus ("pending" by default) and one document.
type FakeSolaris struct {
	Server *httptest.Server
	mu     sync.Mutex
	status map[string]string
}

// NewFakeSolaris starts the fake on a loopback port.
func NewFakeSolaris() *FakeSolaris {
	f := &FakeSolaris{status: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "kycflow-test" || pass != "test-secret" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]any{{"code": "invalid_client"}}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "solaris-token", "expires_in": 3599, "token_type": "bearer"})
	})
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer solaris-token" {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]any{{"code": "invalid_token"}}})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /v1/persons/{person}/identifications", authed(func(w http.ResponseWriter, r *http.Request) {
		id := "idt-" + r.PathValue("person")
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "status": "created", "method": "idnow", "reference": "TST-SECRET"})
	}))
	mux.HandleFunc("PATCH /v1/persons/{person}/identifications/{id}/request", authed(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": "pending", "method": "idnow",
			"url": "https://go.test.idnow.example/app/kycflow/identifications/" + id, "reference": "TST-SECRET"})
	}))
	mux.HandleFunc("GET /v1/persons/{person}/identifications/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": f.Status(id), "method": "idnow", "reference": "TST-SECRET",
			"person_id": r.PathValue("person"), "documents": []map[string]any{{"id": "doc-" + id, "document_type": "PASSPORT"}}})
	}))
	f.Server = httptest.NewServer(mux)
	return f
}

// SetStatus sets what reads of an identification answer.
func (f *FakeSolaris) SetStatus(identificationID, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[identificationID] = status
}

// Status is the status reads of an identification answer.
func (f *FakeSolaris) Status(identificationID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.status[identificationID]; ok {
		return s
	}
	return "pending"
}

// FakeYousign plays Yousign's identity video API. Verifications are "ver-1", "ver-2", ...; reads answer with the
// status and codes set by SetStatus ("pending" by default).
type FakeYousign struct {
	Server  *httptest.Server
	created atomic.Int64
	mu      sync.Mutex
	status  map[string]string
	codes   map[string][]string
}

// NewFakeYousign starts the fake on a loopback port.
func NewFakeYousign() *FakeYousign {
	f := &FakeYousign{status: map[string]string{}, codes: map[string][]string{}}
	mux := http.NewServeMux()
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer yousign-test-key" {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"type": "unauthorized", "detail": "bad key"})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /verifications/identity_videos", authed(func(w http.ResponseWriter, _ *http.Request) {
		id := fmt.Sprintf("ver-%d", f.created.Add(1))
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "status": "pending", "status_codes": []string{},
			"verification_url": "https://id.ubble.example/" + id})
	}))
	mux.HandleFunc("GET /verifications/identity_videos/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		status, codes := f.Result(id)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": status, "status_codes": codes,
			"verification_url": "https://id.ubble.example/" + id})
	}))
	f.Server = httptest.NewServer(mux)
	return f
}

// SetStatus sets what reads of a verification answer.
func (f *FakeYousign) SetStatus(verificationID, status string, codes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[verificationID] = status
	f.codes[verificationID] = codes
}

// Result is the status and status codes reads of a verification answer.
func (f *FakeYousign) Result(verificationID string) (string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	codes := append([]string{}, f.codes[verificationID]...)
	if s, ok := f.status[verificationID]; ok {
		return s, codes
	}
	return "pending", codes
}
