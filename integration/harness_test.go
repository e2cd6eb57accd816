package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
	"github.com/kycflow/kycflow/worker"
)

// stack is a real Temporal dev server with a kycflow worker polling it, its Treezor calls going to fakeTreezor.
type stack struct {
	temporal *devstack.Temporal
	client   client.Client
	starter  *starter.Starter
	treezor  *fakeTreezor
}

var (
	sharedStack *stack
	stackErr    error
	stackOnce   sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedStack != nil {
		sharedStack.close()
	}
	os.Exit(code)
}

// startStack starts the dev server and the worker once for the whole package; every test uses its own subject IDs.
func startStack(t *testing.T) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server (run `make test`)")
	}
	stackOnce.Do(func() { sharedStack, stackErr = newStack() })
	require.NoError(t, stackErr, "start the integration stack")
	return sharedStack
}

func newStack() (*stack, error) {
	ctx := context.Background()
	temporal, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{})
	if err != nil {
		return nil, err
	}
	s := &stack{temporal: temporal, treezor: newFakeTreezor()}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.client, err = client.Dial(client.Options{HostPort: temporal.HostPort, Logger: tlog.NewStructuredLogger(logger)})
	if err != nil {
		temporal.Stop()
		return nil, fmt.Errorf("dial %s: %w", temporal.HostPort, err)
	}
	s.starter = &starter.Starter{Client: s.client}
	tzClient, err := treezor.New(treezor.Config{
		BaseURL: s.treezor.server.URL, ClientID: "kycflow-test", ClientSecret: "test-secret",
	})
	if err != nil {
		s.close()
		return nil, err
	}
	w := sdkworker.New(s.client, signals.TaskQueue, sdkworker.Options{})
	worker.Register(w, worker.Activities{Treezor: &activities.Treezor{Client: tzClient}})
	if err := w.Start(); err != nil {
		s.close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return s, nil
}

func (s *stack) close() {
	if s.client != nil {
		s.client.Close()
	}
	s.treezor.server.Close()
	s.temporal.Stop()
}

// signal delivers a webhook the way the relay does: a real signal to the workflow of the subject.
func (s *stack) signal(t *testing.T, subject, name string, payload any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.client.SignalWorkflow(ctx, signals.WorkflowID(signals.ProviderTreezor, subject), "", name, payload))
}

// fakeTreezor plays Treezor's API closely enough for the real client: OAuth token, kycliveness, Kycreview, users.
type fakeTreezor struct {
	server *httptest.Server
	mu     sync.Mutex
	calls  []string
}

func newFakeTreezor() *fakeTreezor {
	f := &fakeTreezor{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "client_credentials" || r.FormValue("client_secret") != "test-secret" {
			http.Error(w, `{"errors":[{"message":"bad credentials"}]}`, http.StatusUnauthorized)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "test-token"})
	})
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer test-token" {
				http.Error(w, `{"errors":[{"message":"invalid token"}]}`, http.StatusUnauthorized)
				return
			}
			f.record(r.Method + " " + r.URL.Path)
			h(w, r)
		}
	}
	mux.HandleFunc("POST /v1/users/{userId}/kycliveness", authed(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.PathValue("userId"), "428") {
			http.Error(w, "", http.StatusPreconditionRequired)
			return
		}
		id := "idv-" + r.PathValue("userId")
		writeJSON(w, http.StatusCreated, map[string]any{"identification": map[string]string{
			"identification-id": id, "identification-url": "https://id.example.test/" + id,
		}})
	}))
	identification := func(w http.ResponseWriter, r *http.Request) {
		id := "idn-" + r.PathValue("userId")
		writeJSON(w, http.StatusCreated, map[string]string{
			"identificationId": id, "identificationURL": "https://go.idnow.example.test/" + id,
		})
	}
	mux.HandleFunc("POST /v1/users/{userId}/qes", authed(identification))
	mux.HandleFunc("POST /v1/users/{userId}/videoconference", authed(identification))
	mux.HandleFunc("PUT /v1/users/{userId}/kycliveness", authed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{})
	}))
	mux.HandleFunc("PUT /v1/users/{userId}/Kycreview", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"users": []map[string]any{{"userId": r.PathValue("userId"), "kycReview": "1", "kycLevel": "0"}}})
	}))
	mux.HandleFunc("GET /v1/users/{userId}", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"users": []map[string]any{{"userId": r.PathValue("userId"), "kycReview": "1", "kycLevel": "0"}}})
	}))
	f.server = httptest.NewServer(mux)
	return f
}

func (f *fakeTreezor) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// callsFor lists the API calls made for one user, in order.
func (f *fakeTreezor) callsFor(userID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.Contains(c, "/users/"+userID+"/") || strings.HasSuffix(c, "/users/"+userID) {
			out = append(out, c)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
