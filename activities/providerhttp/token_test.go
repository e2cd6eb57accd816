package providerhttp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

const testSecret = "s3cr3t-value"

// tokenServer issues "token-1", "token-2", ... with the given lifetime, and counts requests. check inspects each
// request; gate, when non-nil, holds every answer until it is closed.
type tokenServer struct {
	*httptest.Server
	requests  atomic.Int32
	expiresIn int
	check     func(t *testing.T, r *http.Request)
	gate      chan struct{}
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	t.Helper()
	ts := &tokenServer{expiresIn: expiresIn}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.requests.Add(1)
		if ts.check != nil {
			ts.check(t, r)
		}
		if ts.gate != nil {
			<-ts.gate
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%d,"access_token":"token-%d"}`, ts.expiresIn, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func newSource(t *testing.T, url string, in CredentialsIn) *TokenSource {
	t.Helper()
	src, err := NewTokenSource(New(fastOptions()), TokenConfig{
		URL: url, ClientID: "client-1", ClientSecret: testSecret, Scope: "read_write", CredentialsIn: in,
		Operation: "treezor: get access token",
	})
	require.NoError(t, err)
	return src
}

// fakeClock is a settable clock for the token cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestTokenFormCredentials(t *testing.T) {
	ts := newTokenServer(t, 3600)
	ts.check = func(t *testing.T, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		assert.Empty(t, r.Header.Get("Authorization"))
		assert.NoError(t, r.ParseForm())
		assert.Equal(t, "client_credentials", r.PostForm.Get("grant_type"))
		assert.Equal(t, "client-1", r.PostForm.Get("client_id"))
		assert.Equal(t, testSecret, r.PostForm.Get("client_secret"))
		assert.Equal(t, "read_write", r.PostForm.Get("scope"))
	}
	src := newSource(t, ts.URL+"/oauth/token", CredentialsInForm)
	for range 10 {
		tok, err := src.Token(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "token-1", tok)
	}
	assert.Equal(t, int32(1), ts.requests.Load(), "the token is cached")
}

func TestTokenBasicAuthCredentials(t *testing.T) {
	ts := newTokenServer(t, 3599)
	ts.check = func(t *testing.T, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		assert.True(t, ok)
		assert.Equal(t, "client-1", id)
		assert.Equal(t, testSecret, secret)
		assert.NoError(t, r.ParseForm())
		assert.Equal(t, "client_credentials", r.PostForm.Get("grant_type"))
		assert.Equal(t, "partners", r.PostForm.Get("scope"))
		assert.False(t, r.PostForm.Has("client_id"))
		assert.False(t, r.PostForm.Has("client_secret"))
	}
	src, err := NewTokenSource(New(fastOptions()), TokenConfig{
		URL: ts.URL, ClientID: "client-1", ClientSecret: testSecret, Scope: "partners",
		CredentialsIn: CredentialsInBasicAuth,
	})
	require.NoError(t, err)
	tok, err := src.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "token-1", tok)
}

func TestTokenRefreshAfterExpiry(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int
		stillOK   time.Duration // still cached at this age
		refreshAt time.Duration // refreshed at this age
	}{
		{"one hour: 60s margin", 3600, 3539 * time.Second, 3540 * time.Second},
		{"100s: a tenth as margin", 100, 89 * time.Second, 90 * time.Second},
		{"missing expires_in: short default", 0, 269 * time.Second, 270 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, tt.expiresIn)
			src := newSource(t, ts.URL, CredentialsInForm)
			clock := &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
			src.now = clock.Now

			tok, err := src.Token(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok)

			clock.Advance(tt.stillOK)
			tok, err = src.Token(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok)

			clock.Advance(tt.refreshAt - tt.stillOK)
			tok, err = src.Token(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "token-2", tok)
			assert.Equal(t, int32(2), ts.requests.Load())
		})
	}
}

func TestTokenInvalidate(t *testing.T) {
	ts := newTokenServer(t, 3600)
	src := newSource(t, ts.URL, CredentialsInForm)

	first, err := src.Token(t.Context())
	require.NoError(t, err)

	src.Invalidate(first)
	second, err := src.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "token-2", second)

	// A late 401 for the old token must not throw away the new one.
	src.Invalidate(first)
	third, err := src.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, second, third)
	assert.Equal(t, int32(2), ts.requests.Load())
}

func TestTokenConcurrentCallersShareOneFetch(t *testing.T) {
	ts := newTokenServer(t, 3600)
	ts.gate = make(chan struct{})
	src := newSource(t, ts.URL, CredentialsInForm)

	const callers = 50
	var wg sync.WaitGroup
	tokens := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { tokens[i], errs[i] = src.Token(t.Context()) })
	}
	// Let the callers pile up behind the first fetch before it answers.
	require.Eventually(t, func() bool { return ts.requests.Load() == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	close(ts.gate)
	wg.Wait()

	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "token-1", tokens[i])
	}
	assert.Equal(t, int32(1), ts.requests.Load())

	// Concurrent invalidations with the same rejected token cause one refetch, not one each.
	for range callers {
		wg.Go(func() {
			src.Invalidate("token-1")
			_, err := src.Token(t.Context())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int32(2), ts.requests.Load())
}

func TestTokenWaiterCancelledFetchStillCompletes(t *testing.T) {
	ts := newTokenServer(t, 3600)
	ts.gate = make(chan struct{})
	src := newSource(t, ts.URL, CredentialsInForm)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := src.Token(ctx)
		done <- err
	}()
	require.Eventually(t, func() bool { return ts.requests.Load() == 1 }, time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	// The shared fetch was not cancelled with the first caller: the next caller gets its result.
	close(ts.gate)
	tok, err := src.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "token-1", tok)
	assert.Equal(t, int32(1), ts.requests.Load())
}

func TestTokenEndpointErrors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		wantType      string
		wantRetryable bool
	}{
		{"bad credentials", 401, `{"error":"invalid_client","error_description":"Client authentication failed"}`, ErrTypeUnauthorized, false},
		{"bad request", 400, `{"errors":[{"message":"invalid grant"}]}`, ErrTypeBadRequest, false},
		{"down", 500, ``, ErrTypeUnavailable, true},
		{"no access token", 200, `{"token_type":"Bearer","expires_in":3600}`, ErrTypeInvalidResponse, true},
		{"not JSON", 200, `<html>maintenance</html>`, ErrTypeInvalidResponse, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			src := newSource(t, srv.URL, CredentialsInForm)

			_, err := src.Token(t.Context())
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			assert.Equal(t, tt.wantType, appErr.Type())
			assert.Equal(t, !tt.wantRetryable, appErr.NonRetryable())
			assert.Contains(t, err.Error(), "treezor: get access token")
			assert.NotContains(t, err.Error(), testSecret)

			// Failures are not cached: the next call asks again.
			_, _ = src.Token(t.Context())
			assert.Equal(t, int32(2), n.Load())
		})
	}
}

func TestNewTokenSourceValidates(t *testing.T) {
	_, err := NewTokenSource(New(Options{}), TokenConfig{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "URL, ClientID, ClientSecret")

	_, err = NewTokenSource(New(Options{}), TokenConfig{URL: "http://x", ClientID: "a", ClientSecret: "b", CredentialsIn: 7})
	require.Error(t, err)
}
