package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/activities/solaris"
	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/activities/yousign"
	"github.com/kycflow/kycflow/relay"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

// The tests drive the sandbox with kycflow's real provider clients and send its webhooks through the real relay
// handler, whose Temporal side is a recorder: what the relay verifies and decodes is what a workflow would get.

// signal is one signal the relay sent.
type signal struct {
	WorkflowID string
	Name       string
	Payload    any
}

// recorder is the relay's Temporal: it records signals, and finds every provider reference's workflow.
type recorder struct {
	mu      sync.Mutex
	signals []signal
}

func (r *recorder) Signal(_ context.Context, workflowID, _, name string, payload any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.signals = append(r.signals, signal{workflowID, name, payload})
	return nil
}

func (r *recorder) FindByAlias(_ context.Context, _ signals.Provider, ref string) (string, string, error) {
	return "by-reference/" + ref, "", nil
}

func (r *recorder) FindRunning(_ context.Context, ref string) (string, string, error) {
	return "by-reference/" + ref, "", nil
}

func (r *recorder) ClosedWithReference(context.Context, string) (bool, error) { return false, nil }

func (r *recorder) CheckHealth(context.Context) error { return nil }

// delivery is one HTTP request that reached the relay.
type delivery struct {
	Path   string
	Header http.Header
	Body   []byte
	Status int
}

type harness struct {
	t      *testing.T
	srv    *sandbox.Server
	api    *httptest.Server
	rec    *recorder
	mu     sync.Mutex
	seen   []delivery
	refuse func(r *http.Request, body []byte) int

	tz  *treezor.Client
	sol *solaris.Client
	ys  *yousign.Client
}

// testClock runs a provider minute in 60 µs and a deadline in at least 50 ms.
var testClock = sandbox.Clock{Scale: 1e-6, MinDeadline: 50 * time.Millisecond}

func newHarness(t *testing.T, cfg sandbox.Config) *harness {
	t.Helper()
	h := &harness{t: t, rec: &recorder{}}
	secrets := sandbox.DevWebhookSecrets()
	relayHandler := relay.NewHandler(relay.Config{
		TreezorSecrets: relay.Secrets{secrets.Treezor}, SolarisSecrets: relay.Secrets{secrets.Solaris},
		YousignSecrets: relay.Secrets{secrets.Yousign}, GraceAttempts: 3,
	}, h.rec, nil)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status := 0
		if h.refuse != nil {
			status = h.refuse(r, body)
		}
		// Recorded before the answer goes out, so that a sender that got its answer finds its delivery here.
		h.mu.Lock()
		i := len(h.seen)
		h.seen = append(h.seen, delivery{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Status: status})
		h.mu.Unlock()
		if status != 0 {
			http.Error(w, "refused by the test", status)
			return
		}
		rw := &statusWriter{ResponseWriter: w}
		r.Body = io.NopCloser(bytes.NewReader(body))
		relayHandler.ServeHTTP(rw, r)
		h.mu.Lock()
		h.seen[i].Status = rw.status
		h.mu.Unlock()
	}))
	t.Cleanup(front.Close)

	var srv *sandbox.Server
	h.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, r) }))
	t.Cleanup(h.api.Close)
	cfg.PublicURL = h.api.URL
	cfg.WebhookURL = front.URL
	if cfg.Clock == (sandbox.Clock{}) {
		cfg.Clock = testClock
	}
	if cfg.MinRetryBackoff == 0 {
		cfg.MinRetryBackoff = 5 * time.Millisecond
	}
	var err error
	srv, err = sandbox.New(cfg)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	h.srv = srv

	creds := sandbox.DevCredentials()
	fast := providerhttp.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
	h.tz, err = treezor.New(treezor.Config{BaseURL: h.api.URL + "/treezor", ClientID: creds.TreezorClientID,
		ClientSecret: creds.TreezorClientSecret, HTTP: fast})
	require.NoError(t, err)
	h.sol, err = solaris.New(solaris.Config{BaseURL: h.api.URL + "/solaris", TokenURL: h.api.URL + "/solaris/oauth2/token",
		ClientID: creds.SolarisClientID, ClientSecret: creds.SolarisClientSecret, HTTP: fast})
	require.NoError(t, err)
	h.ys, err = yousign.New(yousign.Config{BaseURL: h.api.URL + "/yousign/v3", APIKey: creds.YousignAPIKey, HTTP: fast})
	require.NoError(t, err)
	return h
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// treezorUser creates a Treezor user the way a signup backend does: token, then POST /v1/users.
func (h *harness) treezorUser(fields map[string]any) string {
	h.t.Helper()
	body, _ := json.Marshal(fields)
	req, _ := http.NewRequest(http.MethodPost, h.api.URL+"/treezor/v1/users", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.treezorToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	require.Equal(h.t, http.StatusOK, resp.StatusCode)
	var users struct {
		Users []struct {
			UserID json.Number `json:"userId"`
		} `json:"users"`
	}
	require.NoError(h.t, json.NewDecoder(resp.Body).Decode(&users))
	require.Len(h.t, users.Users, 1)
	return users.Users[0].UserID.String()
}

func (h *harness) treezorToken() string {
	h.t.Helper()
	creds := sandbox.DevCredentials()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"grant_type", "client_credentials"}, {"client_id", creds.TreezorClientID}, {"client_secret", creds.TreezorClientSecret}} {
		require.NoError(h.t, form.WriteField(f[0], f[1]))
	}
	require.NoError(h.t, form.Close())
	resp, err := http.Post(h.api.URL+"/treezor/oauth/token", form.FormDataContentType(), &body)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(h.t, json.NewDecoder(resp.Body).Decode(&tok))
	return tok.AccessToken
}

// solarisToken gets a Solaris access token the way kycflow's client does: Basic auth, grant_type=client_credentials.
func (h *harness) solarisToken() string {
	h.t.Helper()
	creds := sandbox.DevCredentials()
	req, _ := http.NewRequest(http.MethodPost, h.api.URL+"/solaris/oauth2/token",
		strings.NewReader("grant_type=client_credentials&scope=partners"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(creds.SolarisClientID, creds.SolarisClientSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(h.t, json.NewDecoder(resp.Body).Decode(&tok))
	require.NotEmpty(h.t, tok.AccessToken)
	return tok.AccessToken
}

// solarisPost posts body as JSON to the sandbox's Solaris API and returns the status and the answer's text.
func (h *harness) solarisPost(token, path string, body any) (int, string) {
	h.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(h.t, err)
	req, _ := http.NewRequest(http.MethodPost, h.api.URL+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, string(answer)
}

// userFor is the user of a scenario, with faults.
func (h *harness) userFor(m signals.Method, name string, faults ...sandbox.Fault) string {
	h.t.Helper()
	sc, ok := sandbox.Lookup(m, name)
	require.True(h.t, ok, "scenario %s/%s", m, name)
	return h.treezorUser(sandbox.TreezorUserFields(sc, sandbox.SyntheticFirstName(faults)))
}

// waitSignals waits until at least n signals match and returns the matching ones, in arrival order.
func (h *harness) waitSignals(n int, match func(signal) bool) []signal {
	h.t.Helper()
	var got []signal
	require.Eventually(h.t, func() bool {
		got = h.matching(match)
		return len(got) >= n
	}, 5*time.Second, 2*time.Millisecond, "waiting for %d signals", n)
	return got
}

func (h *harness) matching(match func(signal) bool) []signal {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	var out []signal
	for _, s := range h.rec.signals {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

func (h *harness) deliveries(match func(delivery) bool) []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []delivery
	for _, d := range h.seen {
		if match(d) {
			out = append(out, d)
		}
	}
	return out
}

func (h *harness) stats(key string) sandbox.SubjectStats {
	for _, st := range h.srv.Stats() {
		if st.Key == key {
			return st
		}
	}
	h.t.Fatalf("no statistics for %s", key)
	return sandbox.SubjectStats{}
}

func forWorkflow(id string) func(signal) bool {
	return func(s signal) bool { return s.WorkflowID == id }
}

func named(id, name string) func(signal) bool {
	return func(s signal) bool { return s.WorkflowID == id && s.Name == name }
}

// errType is the Temporal application error type of an error from a provider client.
func errType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func bg() context.Context { return context.Background() }
