package yousign

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

const (
	testAPIKey = "ys-api-key-value"
	testVerID  = "7b9a6f2e-2f3c-4b4e-9d1a-0c6f3e8d5a11"
	// basePath is the path of Yousign's base URL (https://api-sandbox.yousign.app/v3).
	basePath = "/v3"
)

// apiCall is what the fake Yousign saw of one request.
type apiCall struct {
	Method      string
	Path        string // escaped, exactly as sent
	RawQuery    string
	Auth        string
	ContentType string
	Body        string
}

// fakeYousign plays Yousign: every request is recorded and answered by api.
type fakeYousign struct {
	srv *httptest.Server
	api func(w http.ResponseWriter, r *http.Request, n int)

	mu    sync.Mutex
	calls []apiCall
}

func newFakeYousign(t *testing.T, api func(w http.ResponseWriter, r *http.Request, n int)) *fakeYousign {
	t.Helper()
	f := &fakeYousign{api: api}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, apiCall{
			Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Auth: r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"), Body: string(body),
		})
		n := len(f.calls)
		f.mu.Unlock()
		f.api(w, r, n)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeYousign) Calls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

func (f *fakeYousign) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL: f.srv.URL + basePath + "/", APIKey: testAPIKey,
		HTTP: providerhttp.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond},
	})
	require.NoError(t, err)
	return c
}

// respond answers every call with status and body.
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

// validationError is Yousign's 4xx body.
const validationError = `{"type":"validation.error","detail":"The request is invalid.",
	"invalid_params":[{"name":"redirection_url","reason":"This value is not a valid URL."},{"name":"last_name","reason":"This value should not be blank."}]}`

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name           string
		api            func(http.ResponseWriter, *http.Request, int)
		wantType       string
		wantRetryable  bool
		wantRetryDelay time.Duration
		wantCalls      int
		wantInMessage  []string
	}{
		{name: "400 with invalid_params", api: respond(400, validationError), wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1,
			wantInMessage: []string{"HTTP 400 Bad Request: The request is invalid. (type=validation.error); invalid parameters: " +
				"redirection_url: This value is not a valid URL., last_name: This value should not be blank."}},
		{name: "400 without invalid_params", api: respond(400, `{"type":"bad_request","detail":"Malformed JSON"}`),
			wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1, wantInMessage: []string{"Malformed JSON (type=bad_request)"}},
		{name: "401 is not refreshed", api: respond(401, `{"type":"unauthorized","detail":"Unauthorized"}`),
			wantType: providerhttp.ErrTypeUnauthorized, wantCalls: 1,
			wantInMessage: []string{"HTTP 401 Unauthorized: Unauthorized (type=unauthorized)", "created for this environment"}},
		{name: "403", api: respond(403, `{"type":"forbidden","detail":"Access denied"}`), wantType: providerhttp.ErrTypeForbidden,
			wantCalls: 1, wantInMessage: []string{"Access denied", "Full-Access"}},
		{name: "404", api: respond(404, `{"type":"not_found","detail":"Resource not found"}`), wantType: providerhttp.ErrTypeNotFound,
			wantCalls: 1, wantInMessage: []string{"HTTP 404 Not Found: Resource not found"}},
		{name: "409", api: respond(409, `{"type":"conflict","detail":"Conflict"}`), wantType: providerhttp.ErrTypeConflict, wantCalls: 1},
		{name: "422", api: respond(422, validationError), wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1,
			wantInMessage: []string{"HTTP 422", "last_name: This value should not be blank."}},
		{name: "405", api: respond(405, ``), wantType: providerhttp.ErrTypeUnexpectedStatus, wantRetryable: true, wantCalls: 1},
		{name: "429 with Retry-After", api: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "30")
			w.Header().Set("X-Ratelimit-Remaining-Minute", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"type":"too_many_requests","detail":"Rate limit reached"}`)
		}, wantType: providerhttp.ErrTypeRateLimited, wantRetryable: true, wantRetryDelay: 30 * time.Second, wantCalls: 1,
			wantInMessage: []string{"Rate limit reached"}},
		{name: "429 without Retry-After", api: respond(429, ``), wantType: providerhttp.ErrTypeRateLimited, wantRetryable: true,
			wantRetryDelay: providerhttp.DefaultRateLimitDelay, wantCalls: 1},
		{name: "500 is left to Temporal", api: respond(500, `{"type":"internal_error","detail":"Internal error"}`),
			wantType: providerhttp.ErrTypeUnavailable, wantRetryable: true, wantCalls: 1, wantInMessage: []string{"Internal error"}},
		{name: "503 beyond the in-process budget", api: respond(503, ``), wantType: providerhttp.ErrTypeUnavailable,
			wantRetryable: true, wantCalls: 3},
	}
	endpoints := []struct {
		op   string
		call func(c *Client) error
	}{
		{"yousign: create verification", func(c *Client) error {
			_, err := c.CreateVerification(t.Context(), "Jane", "Doe", "https://app.example.com/done")
			return err
		}},
		{"yousign: get verification", func(c *Client) error {
			_, err := c.GetVerification(t.Context(), testVerID)
			return err
		}},
	}
	for _, tt := range tests {
		for _, ep := range endpoints {
			t.Run(tt.name+"/"+ep.op, func(t *testing.T) {
				f := newFakeYousign(t, tt.api)
				err := ep.call(f.client(t))
				appErr := requireAppError(t, err, tt.wantType, tt.wantRetryable)
				assert.Equal(t, tt.wantRetryDelay, appErr.NextRetryDelay())
				assert.Contains(t, appErr.Message(), ep.op+": HTTP ")
				for _, want := range tt.wantInMessage {
					assert.Contains(t, appErr.Message(), want)
				}
				assert.NotContains(t, appErr.Message(), testAPIKey)
				assert.Len(t, f.Calls(), tt.wantCalls)
			})
		}
	}
}

func TestErrorsRedactNames(t *testing.T) {
	f := newFakeYousign(t, respond(400, `{"type":"validation.error","detail":"Name Jane Doe-Roe rejected",
		"invalid_params":[{"name":"first_name","reason":"\"Jane\" contains invalid characters"},{"name":"last_name"},{"reason":"odd\nline"}]}`))
	_, err := f.client(t).CreateVerification(t.Context(), "Jane", "Doe-Roe", "https://app.example.com/done")
	appErr := requireAppError(t, err, providerhttp.ErrTypeBadRequest, false)
	assert.Contains(t, appErr.Message(), `Name [redacted] [redacted] rejected`)
	assert.Contains(t, appErr.Message(), `first_name: "[redacted]" contains invalid characters, last_name, odd line`)
	assert.NotContains(t, appErr.Message(), "Jane")
	assert.NotContains(t, appErr.Message(), "Doe-Roe")
}

func TestInvalidParamsTruncated(t *testing.T) {
	long := strings.Repeat("x", 400)
	f := newFakeYousign(t, respond(400, `{"type":"validation.error","invalid_params":[{"name":"first_name","reason":"`+long+`"}]}`))
	_, err := f.client(t).GetVerification(t.Context(), testVerID)
	appErr := requireAppError(t, err, providerhttp.ErrTypeBadRequest, false)
	assert.Contains(t, appErr.Message(), "invalid parameters: first_name: xxx")
	assert.Contains(t, appErr.Message(), "…")
	assert.NotContains(t, appErr.Message(), long)
}

func TestServerErrorsRetriedInsideOneCall(t *testing.T) {
	f := newFakeYousign(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusBadGateway)
		case 2:
			w.WriteHeader(http.StatusGatewayTimeout)
		default:
			respond(201, createdBody)(w, r, n)
		}
	})
	v, err := f.client(t).CreateVerification(t.Context(), "Jane", "Doe", "https://app.example.com/done")
	require.NoError(t, err)
	assert.Equal(t, testVerID, v.ID)
	calls := f.Calls()
	require.Len(t, calls, 3)
	for _, call := range calls {
		assert.JSONEq(t, `{"first_name":"Jane","last_name":"Doe","redirection_url":"https://app.example.com/done"}`, call.Body,
			"the body is resent on every attempt")
	}
}

func TestCancelledContext(t *testing.T) {
	f := newFakeYousign(t, respond(200, createdBody))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.client(t).GetVerification(ctx, testVerID)
	require.ErrorIs(t, err, context.Canceled)
	var appErr *temporal.ApplicationError
	assert.False(t, errors.As(err, &appErr))
	assert.Empty(t, f.Calls())
}

func TestNewValidatesConfig(t *testing.T) {
	const base = "https://api-sandbox.yousign.app/v3"
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{"empty", Config{}, []string{"BaseURL is required", "APIKey is required"}},
		{"key missing", Config{BaseURL: base}, []string{"APIKey is required"}},
		{"key with a trailing newline", Config{BaseURL: base, APIKey: testAPIKey + "\n"},
			[]string{"APIKey must be printable ASCII without spaces or line breaks"}},
		{"plain http", Config{BaseURL: "http://api-sandbox.yousign.app/v3", APIKey: testAPIKey}, []string{"BaseURL must use https"}},
		{"relative", Config{BaseURL: "api-sandbox.yousign.app/v3", APIKey: testAPIKey},
			[]string{"BaseURL must be an absolute https URL"}},
		{"fragment", Config{BaseURL: base + "#x", APIKey: testAPIKey}, []string{"BaseURL must not have a query or fragment"}},
		{"valid", Config{BaseURL: base + "/", APIKey: testAPIKey}, nil},
		{"loopback http for tests", Config{BaseURL: "http://localhost:8080/v3", APIKey: testAPIKey}, nil},
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
			assert.True(t, strings.HasPrefix(err.Error(), "yousign: invalid config: "), err.Error())
			for _, want := range tt.wantErr {
				assert.Contains(t, err.Error(), want)
			}
			assert.NotContains(t, err.Error(), testAPIKey)
		})
	}
}
