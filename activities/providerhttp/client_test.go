package providerhttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// reply is one canned response of a scripted test server.
type reply struct {
	status     int
	retryAfter string
	body       string
}

// scriptedServer answers with replies in order, repeating the last one, and counts requests. It checks that
// every attempt carries the same request body, since retries must rewind it.
func scriptedServer(t *testing.T, replies ...reply) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost {
			assert.Equal(t, `{"k":"v"}`, string(body), "attempt %d", i+1)
		}
		rep := replies[min(i, len(replies)-1)]
		if rep.retryAfter != "" {
			w.Header().Set("Retry-After", rep.retryAfter)
		}
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func fastOptions() Options {
	return Options{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Second, Timeout: 5 * time.Second}
}

func post(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{"k":"v"}`))
	require.NoError(t, err)
	return req
}

func TestNewAppliesDefaults(t *testing.T) {
	c := New(Options{})
	assert.Equal(t, DefaultRetryMax, c.rc.RetryMax)
	assert.Equal(t, DefaultRetryWaitMin, c.rc.RetryWaitMin)
	assert.Equal(t, DefaultRetryWaitMax, c.rc.RetryWaitMax)
	assert.Equal(t, DefaultTimeout, c.rc.HTTPClient.Timeout)
	assert.Nil(t, c.rc.Logger, "retryablehttp's default logger would print URLs on every retry")
	assert.NotNil(t, c.rc.ErrorHandler, "the last response must be passed through, not drained")

	assert.Equal(t, 0, New(Options{RetryMax: -1}).rc.RetryMax)
}

func TestDoInProcessRetries(t *testing.T) {
	inAnHour := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	longAgo := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name         string
		replies      []reply
		wantAttempts int32
		wantStatus   int
		wantBody     string
	}{
		{"503 then success", []reply{{status: 503}, {status: 200, body: "ok"}}, 2, 200, "ok"},
		{"502 504 then success", []reply{{status: 502}, {status: 504}, {status: 201, body: "ok"}}, 3, 201, "ok"},
		{"503 beyond the budget keeps the last body", []reply{{status: 503, body: "down"}}, 3, 503, "down"},
		{"400 is not retried", []reply{{status: 400, body: "bad"}}, 1, 400, "bad"},
		{"500 is not retried in-process", []reply{{status: 500}}, 1, 500, ""},
		{"501 is not retried", []reply{{status: 501}}, 1, 501, ""},
		{"401 is not retried", []reply{{status: 401}}, 1, 401, ""},
		{"429 with short Retry-After is retried", []reply{{status: 429, retryAfter: "0"}, {status: 200}}, 2, 200, ""},
		{"429 with Retry-After equal to the cap is retried", []reply{{status: 429, retryAfter: "1"}, {status: 200}}, 2, 200, ""},
		{"429 with long Retry-After is returned", []reply{{status: 429, retryAfter: "120", body: "slow down"}}, 1, 429, "slow down"},
		{"429 without Retry-After is returned", []reply{{status: 429}}, 1, 429, ""},
		{"429 with future HTTP-date is returned", []reply{{status: 429, retryAfter: inAnHour}}, 1, 429, ""},
		{"429 with past HTTP-date is retried", []reply{{status: 429, retryAfter: longAgo}, {status: 200}}, 2, 200, ""},
		{"429 with garbage Retry-After is returned", []reply{{status: 429, retryAfter: "soon"}}, 1, 429, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, n := scriptedServer(t, tt.replies...)
			resp, body, err := New(fastOptions()).Do(post(t, srv.URL), "test op")
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantBody, string(body))
			assert.Equal(t, tt.wantAttempts, n.Load())
		})
	}
}

func TestDoRetriesOnlyWithinBudget(t *testing.T) {
	srv, n := scriptedServer(t, reply{status: 503})
	opts := fastOptions()
	opts.RetryMax = -1
	resp, _, err := New(opts).Do(post(t, srv.URL), "op")
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, int32(1), n.Load())
}

func TestDoNetworkError(t *testing.T) {
	// A server that accepts connections and hangs up before answering.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = conn.Close()
		}
	}()

	_, _, err = New(fastOptions()).Do(post(t, "http://"+ln.Addr().String()+"/x"), "treezor: get user")
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrTypeUnavailable, appErr.Type())
	assert.False(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Message(), "treezor: get user")
	assert.Equal(t, int32(3), accepted.Load(), "one attempt and two in-process retries")
}

func TestDoTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	_, _, err := New(Options{RetryMax: -1, Timeout: 50 * time.Millisecond}).Do(post(t, srv.URL), "op")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrTypeUnavailable, appErr.Type())
	assert.False(t, appErr.NonRetryable())
}

func TestDoContextCancelled(t *testing.T) {
	srv, _ := scriptedServer(t, reply{status: 503})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	_, _, err = New(fastOptions()).Do(req, "op")
	require.ErrorIs(t, err, context.Canceled)
	var appErr *temporal.ApplicationError
	assert.False(t, errors.As(err, &appErr), "a cancelled activity is not a provider failure")
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	resp, _, err := New(fastOptions()).Do(post(t, srv.URL), "op")
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
}

func TestCappedBackoff(t *testing.T) {
	backoff := cappedBackoff(time.Now)
	withRetryAfter := func(status int, v string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {v}}}
	}
	tests := []struct {
		name    string
		attempt int
		resp    *http.Response
		want    time.Duration
	}{
		{"first retry waits min", 0, &http.Response{StatusCode: 503}, 100 * time.Millisecond},
		{"second retry doubles", 1, &http.Response{StatusCode: 503}, 200 * time.Millisecond},
		{"capped at max", 10, &http.Response{StatusCode: 503}, time.Second},
		{"huge attempt does not overflow", 200, nil, time.Second},
		{"Retry-After honoured", 0, withRetryAfter(429, "1"), time.Second},
		{"Retry-After never exceeds max", 0, withRetryAfter(429, "3600"), time.Second},
		{"Retry-After on 503 capped too", 0, withRetryAfter(503, "3600"), time.Second},
		{"zero Retry-After waits min", 0, withRetryAfter(429, "0"), 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, backoff(100*time.Millisecond, time.Second, tt.attempt, tt.resp))
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"Sun, 01 Jun 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Sunday, 01-Jun-25 12:00:30 GMT", 30 * time.Second, true},
		{"Sun, 01 Jun 2025 11:00:00 GMT", 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			got, ok := retryAfter(h, now)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// A steady load of concurrent calls reuses its connections: the second wave of calls opens none.
func TestDoReusesConnectionsUnderConcurrentLoad(t *testing.T) {
	const inFlight = 16
	var opened atomic.Int32
	arrived := make(chan struct{}, inFlight)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, `{}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := New(fastOptions())

	// Each wave holds every call on the server until all have arrived, so that they are truly concurrent.
	wave := func() {
		done := make(chan error, inFlight)
		for range inFlight {
			go func() {
				_, _, err := c.Do(post(t, srv.URL), "op")
				done <- err
			}()
		}
		for range inFlight {
			<-arrived
		}
		for range inFlight {
			release <- struct{}{}
		}
		for range inFlight {
			require.NoError(t, <-done)
		}
	}
	wave()
	require.EqualValues(t, inFlight, opened.Load(), "first wave")
	wave()
	assert.EqualValues(t, inFlight, opened.Load(), "the second wave reuses the first wave's connections")
}
