package relay

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

func TestHealthAndReadiness(t *testing.T) {
	fake := &fakeSignaler{}
	h, _ := newTestHandler(t, fake)
	status, body := serve(t, h, httptest.NewRequest(http.MethodGet, PathHealthz, nil))
	require.Equal(t, 200, status)
	require.Equal(t, "ok", body["status"])

	status, _ = serve(t, h.Admin(), httptest.NewRequest(http.MethodGet, PathReadyz, nil))
	require.Equal(t, 200, status, "Temporal answers")

	fake.healthErr = errUnavailable
	status, body = serve(t, h.Admin(), httptest.NewRequest(http.MethodGet, PathReadyz, nil))
	require.Equal(t, 503, status)
	require.Equal(t, "temporal unreachable", body["error"])

	status, _ = serve(t, h, httptest.NewRequest(http.MethodGet, PathHealthz, nil))
	require.Equal(t, 200, status, "the process is up all the same")
}

func TestRoutes(t *testing.T) {
	h, _ := newTestHandler(t, &fakeSignaler{})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, PathTreezor, http.StatusMethodNotAllowed},
		{http.MethodPut, PathSolaris, http.StatusMethodNotAllowed},
		{http.MethodPost, "/webhooks/other", http.StatusNotFound},
		{http.MethodPost, PathHealthz, http.StatusMethodNotAllowed},
		// Readiness and metrics are on the admin address only.
		{http.MethodGet, PathReadyz, http.StatusNotFound},
		{http.MethodGet, PathMetrics, http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		require.Equal(t, tc.want, rec.Code, "%s %s", tc.method, tc.path)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	fake := &fakeSignaler{}
	h, _ := newTestHandler(t, fake)
	serve(t, h, treezorRequest(signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old")))
	serve(t, h, treezorRequest(`not json`))

	rec := httptest.NewRecorder()
	h.Admin().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathMetrics, nil))
	require.Equal(t, 200, rec.Code)
	text := rec.Body.String()
	require.Contains(t, text, `kycflow_relay_requests_total{event="kycliveness.update",provider="treezor",result="signalled"} 1`)
	require.Contains(t, text, `kycflow_relay_requests_total{event="other",provider="treezor",result="malformed"} 1`)
	require.Contains(t, text, `kycflow_relay_signal_seconds_count{provider="treezor"} 1`)
	require.Contains(t, text, "go_goroutines")
	// Only kycflow's own series: the runtime's counters may contain any digits.
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "kycflow_") {
			require.NotContains(t, line, "1001", "no user IDs in labels")
			require.NotContains(t, line, "wh-1", "no event IDs in labels")
		}
	}
	require.Equal(t, 1, testutil.CollectAndCount(h.metrics.signal))
}

func TestEventLabelsAreBounded(t *testing.T) {
	h, _ := newTestHandler(t, &fakeSignaler{})
	for _, event := range []string{"user.1001.secret", "card.create", strings.Repeat("x", 500)} {
		serve(t, h, treezorRequest(signedTreezor(event, "wh", `{"userId":"1"}`, "tz-secret-old")))
	}
	require.Equal(t, 3.0, counter(h, "treezor", eventOther, ResultUnwanted))
	require.Equal(t, 1, testutil.CollectAndCount(h.metrics.requests), "one series for every unknown event type")
}

// TestModuleServesAndStops runs the fx application against a Temporal that is down: it starts, answers /healthz,
// says not ready, answers webhooks 503, and shuts down.
func TestModuleServesAndStops(t *testing.T) {
	cfg := testConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.Temporal.Options.HostPort = closedAddress(t)
	cfg.SignalTimeout = 500 * time.Millisecond
	var srv *Server
	app := fxtest.New(t, Module(cfg), fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }), fx.Populate(&srv))
	app.RequireStart()
	base, admin := "http://"+srv.Addr().String(), "http://"+srv.AdminAddr().String()

	get := func(url string) int {
		resp, err := http.Get(url)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 200, get(base+PathHealthz))
	require.Equal(t, 404, get(base+PathReadyz), "readiness is not on the webhook port")
	require.Equal(t, 404, get(base+PathMetrics), "nor are metrics")
	require.Equal(t, 200, get(admin+PathHealthz))
	require.Equal(t, 503, get(admin+PathReadyz))
	require.Equal(t, 200, get(admin+PathMetrics))

	body := signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old")
	resp, err := http.Post(base+PathTreezor, "text/plain", strings.NewReader(body))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "Temporal down: the provider must retry")

	app.RequireStop()
	_, err = http.Get(base + PathHealthz)
	require.Error(t, err, "the server is closed")
}

func TestModuleFailsOnATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	cfg := testConfig()
	cfg.Addr = ln.Addr().String()
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.Temporal.Options.HostPort = closedAddress(t)
	app := fx.New(Module(cfg), fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = app.Start(ctx)
	require.ErrorContains(t, err, "KYCFLOW_RELAY_ADDR")
	_ = app.Stop(ctx)
}

// closedAddress is a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestOversizedBodyAlwaysGets413 sends bodies over the limit over real TCP, with and without a Content-Length, at
// the pace of a provider on the internet (a few MB/s). Go's server waits 500 ms after answering before it closes a
// connection whose body it did not read; a client still writing after that gets a reset while sending, gives up
// without reading the 413 and retries a webhook that will never fit. The relay must read and drop a bounded amount
// first.
func TestOversizedBodyAlwaysGets413(t *testing.T) {
	h, _ := newTestHandler(t, &fakeSignaler{})
	h.cfg.MaxBodyBytes = 64 << 10
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := strings.Repeat("x", 3<<20)
	for _, chunked := range []bool{false, true} {
		for i := range 3 {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			head := "POST " + PathTreezor + " HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
			payload := body
			if chunked {
				head += "Transfer-Encoding: chunked\r\n\r\n"
				payload = strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n"
			} else {
				head += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
			}
			data := []byte(head + payload)
			for len(data) > 0 {
				n := min(len(data), 128<<10)
				// Many clients (Python's http.client among them) give up on a failed write without reading the
				// answer: the whole request must go through.
				_, err := conn.Write(data[:n])
				require.NoError(t, err, "attempt %d (chunked %v): reset while sending", i, chunked)
				data = data[n:]
				time.Sleep(25 * time.Millisecond)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err, "attempt %d (chunked %v): the client must read the answer", i, chunked)
			require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			resp.Body.Close()
			conn.Close()
		}
	}
}

// TestUnwantedSaysWhichCase: a verified event nobody wants is answered with the reason, so that whoever reads the
// provider's delivery log or the relay's tells a late event (the verification was decided) from an early one
// (visibility has not caught up: retried) and from one for nobody (a wrong user).
func TestUnwantedSaysWhichCase(t *testing.T) {
	young := map[string]string{"sign": "sol-secret-old", HeaderSolarisEventType: "IDENTIFICATION", HeaderSolarisID: "d-1", HeaderSolarisAttempt: "1"}
	closedTreezor := fmt.Errorf("signal: %w", ErrClosed)
	tests := []struct {
		name       string
		fake       *fakeSignaler
		req        func() *http.Request
		wantStatus int
		wantBody   map[string]string
	}{
		{"Solaris, verification closed: unwanted at once", &fakeSignaler{closed: map[string]bool{solarisRef: true}},
			func() *http.Request { return solarisRequest(solarisBody, young) },
			200, map[string]string{"result": ResultUnwanted, "reason": "the verification for this reference has already closed"}},
		{"Solaris, no verification yet: retry", &fakeSignaler{},
			func() *http.Request { return solarisRequest(solarisBody, young) },
			503, map[string]string{"error": "no running workflow for this reference yet, retry later"}},
		{"Treezor, verification closed", &fakeSignaler{signalErr: closedTreezor},
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"))
			},
			200, map[string]string{"result": ResultUnwanted, "reason": "the verification has already closed"}},
		{"Treezor, no verification for the user", &fakeSignaler{signalErr: fmt.Errorf("signal: %w", ErrNotFound)},
			func() *http.Request {
				return treezorRequest(signedTreezor("kycliveness.update", "wh-1", livenessPayload, "tz-secret-old"))
			},
			200, map[string]string{"result": ResultUnwanted, "reason": "no verification for this subject"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, tt.fake)
			h.cfg.LookupWait = time.Millisecond
			status, body := serve(t, h, tt.req())
			require.Equal(t, tt.wantStatus, status)
			require.Equal(t, tt.wantBody, body)
		})
	}
}

// TestReferenceWebhooksRouteByAliasAlone: a Solaris or Yousign webhook names only the provider's reference; its
// alias names the run, so the relay signals it without asking visibility, which a production server rate limits.
func TestReferenceWebhooksRouteByAliasAlone(t *testing.T) {
	fake := &fakeSignaler{aliases: map[string]string{solarisRef: "kyc/solaris/p1", yousignRef: "kyc/yousign/u1"}}
	h, _ := newTestHandler(t, fake)
	status, resp := serve(t, h, solarisRequest(solarisBody, map[string]string{"sign": "sol-secret-old", HeaderSolarisAttempt: "1"}))
	require.Equal(t, 200, status, "response %v", resp)
	status, resp = serve(t, h, yousignRequest(yousignBody, map[string]string{
		HeaderYousignSignature: "sha256=" + hmacHex("ys-secret-old-0123456789abcdef01", yousignBody)}))
	require.Equal(t, 200, status, "response %v", resp)
	got := fake.signals()
	require.Len(t, got, 2)
	require.Equal(t, "kyc/solaris/p1", got[0].WorkflowID)
	require.Equal(t, "run-kyc/solaris/p1", got[0].RunID, "the alias names the run")
	require.Equal(t, "kyc/yousign/u1", got[1].WorkflowID)
	require.Zero(t, fake.visibilityFinds, "no visibility query")
}

// TestAliasOfAResetRun: the alias names the run that opened the provider session; after an operator's reset that
// run is closed and another carries the reference. The relay then asks visibility once and signals the new run,
// instead of answering "already closed" to an event the verification still waits for.
func TestAliasOfAResetRun(t *testing.T) {
	wf := "kyc/solaris/p1"
	fake := &fakeSignaler{aliases: map[string]string{solarisRef: wf}, running: map[string]string{solarisRef: wf},
		closedRuns: map[string]bool{"run-" + wf: true}, visibilityRuns: map[string]string{solarisRef: "run-after-reset"}}
	h, _ := newTestHandler(t, fake)
	status, resp := serve(t, h, solarisRequest(solarisBody, map[string]string{"sign": "sol-secret-old", HeaderSolarisAttempt: "1"}))
	require.Equal(t, 200, status, "response %v", resp)
	require.Equal(t, ResultSignalled, resp["result"])
	got := fake.signals()
	require.Len(t, got, 1)
	require.Equal(t, "run-after-reset", got[0].RunID)
	require.Equal(t, 1, fake.visibilityFinds)

	// A run that simply closed: visibility finds nothing running, and the event is late.
	closed := &fakeSignaler{aliases: map[string]string{solarisRef: wf}, closedRuns: map[string]bool{"run-" + wf: true}}
	h, _ = newTestHandler(t, closed)
	status, resp = serve(t, h, solarisRequest(solarisBody, map[string]string{"sign": "sol-secret-old", HeaderSolarisAttempt: "1"}))
	require.Equal(t, 200, status)
	require.Equal(t, ResultUnwanted, resp["result"])
	require.Equal(t, "the verification has already closed", resp["reason"])
}
