// Package testenv is the test environment shared by kycflow's integration tests: a real Temporal dev server from
// bin/ on a free port, a kycflow worker polling it in-process, and fake provider APIs over HTTP (until the
// provider sandbox replaces them). Nothing in it mocks Temporal.
package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/activities/solaris"
	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/activities/yousign"
	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
	"github.com/kycflow/kycflow/worker"
)

// Stack is a real Temporal dev server with a kycflow worker polling it; provider calls go to fake APIs.
type Stack struct {
	Temporal *devstack.Temporal
	Client   client.Client
	Starter  *starter.Starter
	Treezor  *FakeTreezor
	Solaris  *FakeSolaris
	Yousign  *FakeYousign
}

var (
	shared    *Stack
	sharedErr error
	once      sync.Once
)

// testPayloadKey encrypts the integration stack's payloads, as production does with KYCFLOW_PAYLOAD_KEY. It is a
// test key: it protects nothing.
var testPayloadKey = []byte("kycflow-integration-test-key-32b")

// PayloadCodec is the codec of the integration stack, for replaying the histories it records.
func PayloadCodec() *payloadcodec.Codec {
	c, err := payloadcodec.New(testPayloadKey)
	if err != nil {
		panic(err)
	}
	return c
}

// Start returns the package's shared stack, starting it on first use; tests keep apart by using their own
// subject IDs. Short mode skips: `go test -short` is the fast loop without a dev server.
func Start(t testing.TB) *Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server (run `make test`)")
	}
	once.Do(func() { shared, sharedErr = newStack() })
	require.NoError(t, sharedErr, "start the integration stack")
	return shared
}

// Stop stops the shared stack if it was started; call it from TestMain after m.Run.
func Stop() {
	if shared != nil {
		shared.close()
	}
}

func newStack() (*Stack, error) {
	ctx := context.Background()
	temporal, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{})
	if err != nil {
		return nil, err
	}
	s := &Stack{Temporal: temporal}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.Client, err = client.Dial(client.Options{HostPort: temporal.HostPort, Logger: tlog.NewStructuredLogger(logger),
		DataConverter: payloadcodec.DataConverter(PayloadCodec())})
	if err != nil {
		temporal.Stop()
		return nil, fmt.Errorf("dial %s: %w", temporal.HostPort, err)
	}
	s.Starter = &starter.Starter{Client: s.Client}
	// The shared stack's worker runs until the test binary exits; close shuts the fakes down.
	fakes, _, err := StartWorker(s.Client)
	if err != nil {
		s.Client.Close()
		temporal.Stop()
		return nil, err
	}
	s.Treezor, s.Solaris, s.Yousign = fakes.Treezor, fakes.Solaris, fakes.Yousign
	return s, nil
}

// Fakes are the fake provider APIs a worker started by StartWorker calls.
type Fakes struct {
	Treezor *FakeTreezor
	Solaris *FakeSolaris
	Yousign *FakeYousign
}

// StartWorker starts the three fake provider APIs and a kycflow worker polling c in-process, its activities
// calling the fakes with the credentials they accept. The shared stack and the tests that run a dev server of
// their own (the relay's outage test) both use it, so that every in-process worker is wired the same way. stop
// stops the worker, then closes the Yousign, Solaris and Treezor fakes. On error nothing is left running.
func StartWorker(c client.Client) (fakes *Fakes, stop func(), err error) {
	f := &Fakes{Treezor: NewFakeTreezor(), Solaris: NewFakeSolaris(), Yousign: NewFakeYousign()}
	closeFakes := func() {
		f.Yousign.Server.Close()
		f.Solaris.Server.Close()
		f.Treezor.Server.Close()
	}
	tzClient, err := treezor.New(treezor.Config{
		BaseURL: f.Treezor.Server.URL, ClientID: "kycflow-test", ClientSecret: "test-secret",
	})
	if err != nil {
		closeFakes()
		return nil, nil, err
	}
	solClient, err := solaris.New(solaris.Config{
		BaseURL: f.Solaris.Server.URL, TokenURL: f.Solaris.Server.URL + "/oauth2/token", ClientID: "kycflow-test", ClientSecret: "test-secret",
	})
	if err != nil {
		closeFakes()
		return nil, nil, err
	}
	ysClient, err := yousign.New(yousign.Config{BaseURL: f.Yousign.Server.URL, APIKey: "yousign-test-key"})
	if err != nil {
		closeFakes()
		return nil, nil, err
	}
	w := sdkworker.New(c, signals.TaskQueue, sdkworker.Options{})
	aliases := &activities.Aliases{Client: c}
	worker.Register(w, worker.Activities{
		Treezor: &activities.Treezor{Client: tzClient, Aliases: aliases},
		Solaris: &activities.Solaris{Client: solClient, Aliases: aliases},
		Yousign: &activities.Yousign{Client: ysClient, Aliases: aliases},
	})
	if err := w.Start(); err != nil {
		closeFakes()
		return nil, nil, fmt.Errorf("start worker: %w", err)
	}
	return f, func() {
		w.Stop()
		closeFakes()
	}, nil
}

func (s *Stack) close() {
	if s.Client != nil {
		s.Client.Close()
	}
	s.Treezor.Server.Close()
	s.Solaris.Server.Close()
	s.Yousign.Server.Close()
	s.Temporal.Stop()
}

// FindByProviderReference finds the running workflow whose KycProviderReference is ref, as the relay does for
// Solaris and Yousign webhooks (visibility is eventually consistent, so it waits a little).
func (s *Stack) FindByProviderReference(t testing.TB, ref string) string {
	t.Helper()
	var id string
	query := fmt.Sprintf("%s = '%s' AND ExecutionStatus = 'Running'", signals.AttrProviderReference.GetName(), ref)
	require.Eventually(t, func() bool {
		resp, err := s.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil || len(resp.GetExecutions()) != 1 {
			return false
		}
		id = resp.GetExecutions()[0].GetExecution().GetWorkflowId()
		return true
	}, 15*time.Second, 50*time.Millisecond, "visibility query %s", query)
	return id
}

// Signal sends a signal to a workflow by ID.
func (s *Stack) Signal(t testing.TB, workflowID, name string, payload any) {
	t.Helper()
	// The provider's API shows the final result its webhook announces, as the workflow reads it to confirm one.
	switch ev := payload.(type) {
	case signals.SolarisIdentificationEvent:
		if ev.Status == signals.SolarisStatusSuccessful || ev.Status == signals.SolarisStatusFailed || ev.Status == signals.SolarisStatusExpired {
			s.Solaris.SetStatus(ev.IdentificationID, ev.Status)
		}
	case signals.YousignVerificationEvent:
		if ev.Status == signals.YousignStatusVerified || ev.Status == signals.YousignStatusFailed {
			s.Yousign.SetStatus(ev.VerificationID, ev.Status, ev.StatusCodes...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Client.SignalWorkflow(ctx, workflowID, "", name, payload))
}

// SignalTreezor delivers a Treezor webhook the way the relay does: a real signal to the user's workflow.
func (s *Stack) SignalTreezor(t testing.TB, userID, name string, payload any) {
	t.Helper()
	if d, ok := payload.(signals.TreezorDocumentEvent); ok {
		// Treezor holds the document it announces.
		s.Treezor.AddDocument(userID, d.DocumentID, d.DocumentTypeID)
	}
	if r, ok := payload.(signals.TreezorKycReviewEvent); ok && r.Decided() {
		// And its API shows the decision it announces.
		s.Treezor.SetKycReview(userID, r.KycReview)
	}
	s.Signal(t, signals.WorkflowID(signals.ProviderTreezor, userID), name, payload)
}

// FakeTreezor plays Treezor's API closely enough for the real client: OAuth token, kycliveness, qes,
// videoconference, Kycreview, users. On initiation, a user ID starting with 428 gets HTTP 428 (incomplete data)
// and one starting with 404 gets Treezor's 404 for a user that does not exist, and one starting with 503 gets a 503
// (Retry-After: 1, to keep the retries short) every time, and one starting with 408 is answered only after 25 s
// (Abandoned tells when the caller gave up on it).
type FakeTreezor struct {
	Server *httptest.Server
	mu     sync.Mutex
	calls  []string
	// abandoned holds, per user ID, how long a slow (408...) initiation ran before its caller went away.
	abandoned map[string]time.Duration
	// documents are the documents the fake holds per user (GET /v1/documents): those of the document.create
	// webhooks signalled through Stack.SignalTreezor, and those added with AddDocument.
	documents map[string][]signals.Document
	// reviews are the users' decided kycReview (GET /v1/users/{id}); 1 (pending) otherwise.
	reviews map[string]int
	// validatedPayins are the validated SEPA transfers into each wallet (GET /v1/payins).
	validatedPayins map[string][]fakePayin
}

// AddValidatedTransfer makes the fake hold a validated SEPA credit transfer into the wallet, made at created, as
// GET /v1/payins lists it, whatever webhooks were sent.
func (f *FakeTreezor) AddValidatedTransfer(walletID, payinID string, created time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.validatedPayins[walletID] = append(f.validatedPayins[walletID], fakePayin{payinID, created})
}

// treezorDateLayout is how Treezor writes and filters dates ("YYYY-MM-DD HH:mm:ss", UTC here).
const treezorDateLayout = "2006-01-02 15:04:05"

type fakePayin struct {
	id      string
	created time.Time
}

// SetKycReview makes the fake's user show a KYC review decision, as Treezor's API does once it sent user.kycreview.
func (f *FakeTreezor) SetKycReview(userID string, kycReview int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reviews[userID] = kycReview
}

func (f *FakeTreezor) kycReview(userID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.reviews[userID]; ok {
		return r
	}
	return signals.KycReviewPending
}

// AddDocument makes the fake hold a document for the user, as GET /v1/documents lists it.
func (f *FakeTreezor) AddDocument(userID, documentID string, typeID int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.documents[userID] = append(f.documents[userID], signals.Document{ID: documentID, TypeID: typeID})
}

// Abandoned reports how long the slow initiation of a user ran before the caller abandoned it, if it did.
func (f *FakeTreezor) Abandoned(userID string) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.abandoned[userID]
	return d, ok
}

// NewFakeTreezor starts the fake on a loopback port.
func NewFakeTreezor() *FakeTreezor {
	f := &FakeTreezor{abandoned: map[string]time.Duration{}, documents: map[string][]signals.Document{}, reviews: map[string]int{},
		validatedPayins: map[string][]fakePayin{}}
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
		switch {
		case strings.HasPrefix(r.PathValue("userId"), "428"):
			http.Error(w, "", http.StatusPreconditionRequired)
			return
		case strings.HasPrefix(r.PathValue("userId"), "408"):
			began := time.Now()
			// Go's server notices a client that went away only once the request body has been read.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
				f.mu.Lock()
				f.abandoned[r.PathValue("userId")] = time.Since(began)
				f.mu.Unlock()
				return
			case <-time.After(25 * time.Second):
			}
		case strings.HasPrefix(r.PathValue("userId"), "503"):
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"errors":[{"message":"Service Unavailable"}]}`, http.StatusServiceUnavailable)
			return
		case strings.HasPrefix(r.PathValue("userId"), "404"):
			http.Error(w, `{"errors":[{"type":"invalid_request","code":"resource_not_found_error","message":"The user does not exist"}]}`, http.StatusNotFound)
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
	mux.HandleFunc("GET /v1/documents", authed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		docs := []map[string]any{}
		for _, d := range f.documents[r.URL.Query().Get("userId")] {
			docs = append(docs, map[string]any{"documentId": d.ID, "documentTypeId": d.TypeID, "userId": r.URL.Query().Get("userId")})
		}
		writeJSON(w, http.StatusOK, map[string]any{"documents": docs})
	}))
	mux.HandleFunc("GET /v1/payins", authed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		payins := []map[string]any{}
		wallet := r.URL.Query().Get("walletId")
		from, _ := time.Parse(treezorDateLayout, r.URL.Query().Get("createdDateFrom"))
		if r.URL.Query().Get("payinStatus") == signals.PayinStatusValidated {
			for _, p := range f.validatedPayins[wallet] {
				if p.created.Before(from) {
					continue
				}
				payins = append(payins, map[string]any{"payinId": p.id, "walletId": wallet, "payinStatus": signals.PayinStatusValidated,
					"paymentMethodId": signals.PaymentMethodSEPACreditTransfer, "createdDate": p.created.UTC().Format(treezorDateLayout)})
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"payins": payins})
	}))
	mux.HandleFunc("GET /v1/users/{userId}", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"users": []map[string]any{{"userId": r.PathValue("userId"),
			"kycReview": strconv.Itoa(f.kycReview(r.PathValue("userId"))), "kycLevel": "0"}}})
	}))
	f.Server = httptest.NewServer(mux)
	return f
}

func (f *FakeTreezor) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// CallsFor lists the API calls made for one user, in order.
func (f *FakeTreezor) CallsFor(userID string) []string {
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
