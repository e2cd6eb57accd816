package treezor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

const (
	testClientID     = "client-id"
	testClientSecret = "client-secret-value"
)

// apiCall is what the fake Treezor saw of one API request.
type apiCall struct {
	Method   string
	Path     string // escaped, exactly as sent
	RawQuery string
	Query    map[string][]string
	Auth     string
	Body     string
}

// fakeTreezor plays Treezor: POST /oauth/token issues tok-1, tok-2, ...; every other request is checked for a
// bearer token (401 when reject says so) and then answered by api.
type fakeTreezor struct {
	t      *testing.T
	srv    *httptest.Server
	tokens atomic.Int32
	reject func(token string) bool
	api    func(w http.ResponseWriter, r *http.Request, n int)

	mu    sync.Mutex
	calls []apiCall
}

func newFakeTreezor(t *testing.T, api func(w http.ResponseWriter, r *http.Request, n int)) *fakeTreezor {
	t.Helper()
	f := &fakeTreezor{t: t, api: api}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTreezor) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		assert.Equal(f.t, http.MethodPost, r.Method)
		// Treezor's OpenAPI declares multipart/form-data for postAuth.
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		assert.Equal(f.t, "multipart/form-data", mt)
		assert.NoError(f.t, r.ParseMultipartForm(1<<20))
		assert.Equal(f.t, "client_credentials", r.PostFormValue("grant_type"))
		assert.Equal(f.t, testClientID, r.PostFormValue("client_id"))
		assert.Equal(f.t, testClientSecret, r.PostFormValue("client_secret"))
		assert.Equal(f.t, "read_write", r.PostFormValue("scope"))
		n := f.tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"tok-%d"}`, n)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
		Auth: r.Header.Get("Authorization"), Body: string(body),
	})
	n := len(f.calls)
	f.mu.Unlock()

	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if f.reject != nil && f.reject(token) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"type":"unauthorized","code":"invalid_token","message":"The access token is invalid"}]}`)
		return
	}
	f.api(w, r, n)
}

func (f *fakeTreezor) Calls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

func (f *fakeTreezor) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL: f.srv.URL + "/", ClientID: testClientID, ClientSecret: testClientSecret, Scope: "read_write",
		HTTP: providerhttp.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Second},
	})
	require.NoError(t, err)
	return c
}

// respond answers every API call with status and body.
func respond(status int, body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func requireAppError(t *testing.T, err error, wantType string, wantRetryable bool) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	// Returned as is, not wrapped: the activity hands it straight to Temporal.
	require.Same(t, appErr, err)
	assert.Equal(t, wantType, appErr.Type())
	assert.Equal(t, !wantRetryable, appErr.NonRetryable())
	return appErr
}

const userBody = `{"users":[{"userId":123,"firstname":"Alice","lastname":"Martin","birthday":"1990-10-29",
	"email":"alice@example.com","kycReview":2,"kycLevel":2,"kycReviewComment":"ok"}]}`

func TestTokenFetchedOnceAndReused(t *testing.T) {
	f := newFakeTreezor(t, respond(200, userBody))
	c := f.client(t)
	for range 3 {
		_, err := c.GetUserKYC(t.Context(), "123")
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), f.tokens.Load())
	for _, call := range f.Calls() {
		assert.Equal(t, "Bearer tok-1", call.Auth)
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	f := newFakeTreezor(t, respond(200, userBody))
	f.reject = func(token string) bool { return token == "tok-1" }
	c := f.client(t)

	kyc, err := c.GetUserKYC(t.Context(), "123")
	require.NoError(t, err)
	assert.Equal(t, UserKYC{UserID: "123", KycReview: 2, KycLevel: 2}, kyc)

	calls := f.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, "Bearer tok-1", calls[0].Auth)
	assert.Equal(t, "Bearer tok-2", calls[1].Auth)
	assert.Equal(t, int32(2), f.tokens.Load())

	// The fresh token is cached for the next call.
	_, err = c.GetUserKYC(t.Context(), "123")
	require.NoError(t, err)
	assert.Equal(t, int32(2), f.tokens.Load())
}

func TestUnauthorizedTwiceIsNonRetryable(t *testing.T) {
	f := newFakeTreezor(t, respond(200, userBody))
	f.reject = func(string) bool { return true }
	c := f.client(t)

	_, err := c.InitiateLiveness(t.Context(), "123", "")
	appErr := requireAppError(t, err, providerhttp.ErrTypeUnauthorized, false)
	assert.Contains(t, appErr.Message(), "treezor: initiate liveness: HTTP 401")
	assert.Contains(t, appErr.Message(), "The access token is invalid")
	assert.Len(t, f.Calls(), 2, "exactly one retry with a fresh token")
	assert.Equal(t, int32(2), f.tokens.Load())
}

func TestTokenEndpointRejectsCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, ClientID: testClientID, ClientSecret: testClientSecret})
	require.NoError(t, err)

	_, err = c.GetUserKYC(t.Context(), "123")
	appErr := requireAppError(t, err, providerhttp.ErrTypeUnauthorized, false)
	assert.Contains(t, appErr.Message(), "treezor: get access token")
	assert.NotContains(t, err.Error(), testClientSecret)
}

func TestUserIDValidatedBeforeAnyCall(t *testing.T) {
	f := newFakeTreezor(t, respond(200, userBody))
	c := f.client(t)
	for _, userID := range []string{"", "abc", "12a", "-1", "+1", "1 2", "../1", "１２", "alice@example.com",
		strings.Repeat("9", 20)} {
		t.Run(userID, func(t *testing.T) {
			calls := map[string]error{
				"liveness": func() error { _, err := c.InitiateLiveness(t.Context(), userID, ""); return err }(),
				"qes":      func() error { _, err := c.InitiateQES(t.Context(), userID, ""); return err }(),
				"video":    func() error { _, err := c.InitiateVideoConference(t.Context(), userID, ""); return err }(),
				"retrieve": c.RetrieveLivenessDocuments(t.Context(), userID),
				"review":   func() error { _, err := c.RequestKYCReview(t.Context(), userID, "tag"); return err }(),
				"get":      func() error { _, err := c.GetUserKYC(t.Context(), userID); return err }(),
			}
			for name, err := range calls {
				appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
				assert.Contains(t, appErr.Message(), "Treezor user ID", name)
				if userID != "" {
					assert.NotContains(t, appErr.Message(), userID, "the rejected value is not echoed")
				}
			}
		})
	}
	assert.Empty(t, f.Calls())
	assert.Equal(t, int32(0), f.tokens.Load())
}

func TestCancelledContext(t *testing.T) {
	f := newFakeTreezor(t, respond(200, userBody))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.client(t).GetUserKYC(ctx, "123")
	require.ErrorIs(t, err, context.Canceled)
	var appErr *temporal.ApplicationError
	assert.False(t, errors.As(err, &appErr))
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{"empty", Config{}, []string{"BaseURL is required", "ClientID is required", "ClientSecret is required"}},
		{"secret missing", Config{BaseURL: "https://acme.sandbox.treezor.co", ClientID: "id"},
			[]string{"ClientSecret is required"}},
		{"plain http", Config{BaseURL: "http://acme.sandbox.treezor.co", ClientID: "id", ClientSecret: testClientSecret},
			[]string{"BaseURL must use https"}},
		{"relative", Config{BaseURL: "acme.sandbox.treezor.co", ClientID: "id", ClientSecret: testClientSecret},
			[]string{"BaseURL must be an absolute https URL"}},
		{"query", Config{BaseURL: "https://acme.sandbox.treezor.co?x=1", ClientID: "id", ClientSecret: testClientSecret},
			[]string{"BaseURL must not have a query"}},
		{"valid", Config{BaseURL: "https://acme.sandbox.treezor.co/", ClientID: "id", ClientSecret: testClientSecret}, nil},
		{"loopback http for tests", Config{BaseURL: "http://127.0.0.1:8080", ClientID: "id", ClientSecret: testClientSecret}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.Contains(t, err.Error(), want)
			}
			if tt.cfg.ClientSecret != "" {
				assert.NotContains(t, err.Error(), tt.cfg.ClientSecret)
			}
		})
	}
}
