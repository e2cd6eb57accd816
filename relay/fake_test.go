package relay

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

// sent is one signal the fake received.
type sent struct {
	WorkflowID, RunID, Signal string
	Payload                   any
}

// fakeSignaler plays Temporal for the handler tests.
type fakeSignaler struct {
	mu sync.Mutex
	// signalErr is returned by Signal (nil: accepted and recorded).
	signalErr error
	sent      []sent
	// keys are the signal keys (signalKeyContext) the signals were sent with, in order.
	keys []string
	// aliases maps a provider reference to the workflow ID its alias names, and running to the workflow ID
	// visibility finds for it (run ID "run-" + workflow ID, either way); closed holds the references of closed
	// workflows.
	aliases map[string]string
	running map[string]string
	closed  map[string]bool
	// closedRuns are run IDs a signal to which answers ErrClosed; visibilityRuns the run ID visibility gives a
	// reference (default "run-" + workflow ID): a reset replaced the run its alias names.
	closedRuns     map[string]bool
	visibilityRuns map[string]string
	// findErr is returned by both lookups when set; lagFinds makes the first alias reads miss, as an alias not
	// started yet does. finds counts alias reads, visibilityFinds visibility queries.
	findErr         error
	lagFinds        int
	finds           int
	visibilityFinds int
	// healthErr is returned by CheckHealth.
	healthErr error
}

func (f *fakeSignaler) Signal(ctx context.Context, workflowID, runID, signal string, payload any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.signalErr != nil {
		return f.signalErr
	}
	if f.closedRuns[runID] {
		return fmt.Errorf("signal %s: %w", runID, ErrClosed)
	}
	f.sent = append(f.sent, sent{workflowID, runID, signal, payload})
	key, _ := ctx.Value(signalKeyContext{}).(string)
	f.keys = append(f.keys, key)
	return nil
}

func (f *fakeSignaler) FindByAlias(_ context.Context, _ signals.Provider, ref string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finds++
	if f.findErr != nil {
		return "", "", f.findErr
	}
	if f.finds <= f.lagFinds {
		return "", "", fmt.Errorf("alias not started yet: %w", ErrNotFound)
	}
	id, ok := f.aliases[ref]
	if !ok {
		return "", "", fmt.Errorf("no alias for %s: %w", ref, ErrNotFound)
	}
	return id, "run-" + id, nil
}

func (f *fakeSignaler) FindRunning(_ context.Context, ref string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.visibilityFinds++
	if f.findErr != nil {
		return "", "", f.findErr
	}
	id, ok := f.running[ref]
	if !ok {
		return "", "", fmt.Errorf("reference %s: %w", ref, ErrNotFound)
	}
	if run, ok := f.visibilityRuns[ref]; ok {
		return id, run, nil
	}
	return id, "run-" + id, nil
}

func (f *fakeSignaler) ClosedWithReference(_ context.Context, ref string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.findErr != nil {
		return false, f.findErr
	}
	return f.closed[ref], nil
}

func (f *fakeSignaler) CheckHealth(context.Context) error { return f.healthErr }

func (f *fakeSignaler) signals() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.sent...)
}

func (f *fakeSignaler) lookups() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.finds
}

// errUnavailable stands for a Temporal that does not answer.
var errUnavailable = errors.New("connection refused")

// Test secrets: the second of each list stands for a rotated-in secret.
var (
	treezorSecrets = Secrets{"tz-secret-old", "tz-secret-new"}
	solarisSecrets = Secrets{"sol-secret-old", "sol-secret-new"}
	yousignSecrets = Secrets{"ys-secret-old-0123456789abcdef01", "ys-secret-new-0123456789abcdef01"}
)

func testConfig() Config {
	return Config{
		TreezorSecrets: treezorSecrets,
		SolarisSecrets: solarisSecrets,
		YousignSecrets: yousignSecrets,
		MaxBodyBytes:   8 << 10,
		SignalTimeout:  time.Second,
		LookupWait:     20 * time.Millisecond,
		GraceAttempts:  3,
	}
}

// webhookCase is one row of a provider's table test: a request, the fake's state, and what must come of it.
type webhookCase struct {
	name    string
	body    string
	headers map[string]string
	// fake is nil for the test's default fake.
	fake       *fakeSignaler
	wantStatus int
	wantResult string
	// wantEvent is the event label the request is counted under.
	wantEvent string
	// wantSignal is nil when nothing may be signalled.
	wantSignal *sent
}

// logBuffer collects the handler's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestHandler(t testing.TB, fake *fakeSignaler) (*Handler, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	return NewHandler(testConfig(), fake, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), logs
}

// serve runs one request through the handler and returns the status and decoded JSON body.
func serve(t testing.TB, h http.Handler, req *http.Request) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	var out map[string]string
	require.NoError(t, json.Unmarshal(body, &out), "response body %q", body)
	return rec.Code, out
}

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func hmacBase64(secret, payload string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// counter reads kycflow_relay_requests_total for one label set.
func counter(h *Handler, provider, event, result string) float64 {
	return testutil.ToFloat64(h.metrics.requests.WithLabelValues(provider, event, result))
}
