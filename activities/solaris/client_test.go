package solaris

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	testPersonID     = "7cf09c3c5547b974a664201f24b454eecper"
	testIdentID      = "6dc54352d6793a892e0702850d07b831cidt"
	tokenPath        = "/oauth2/token"
)

// apiCall is what the fake Solaris saw of one API request.
type apiCall struct {
	Method      string
	Path        string // escaped, exactly as sent
	RawQuery    string
	Auth        string
	ContentType string
	Body        string
}

// fakeSolaris plays Solaris: POST /oauth2/token issues tok-1, tok-2, ... after checking the Basic auth and the
// form; every other request is checked for a bearer token (401 when reject says so) and then answered by api.
type fakeSolaris struct {
	t      *testing.T
	srv    *httptest.Server
	tokens atomic.Int32
	reject func(token string) bool
	api    func(w http.ResponseWriter, r *http.Request, n int)

	mu    sync.Mutex
	calls []apiCall
}

func newFakeSolaris(t *testing.T, api func(w http.ResponseWriter, r *http.Request, n int)) *fakeSolaris {
	t.Helper()
	f := &fakeSolaris{t: t, api: api}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSolaris) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == tokenPath {
		assert.Equal(f.t, http.MethodPost, r.Method)
		id, secret, ok := r.BasicAuth()
		assert.True(f.t, ok, "credentials in HTTP Basic auth")
		assert.Equal(f.t, testClientID, id)
		assert.Equal(f.t, testClientSecret, secret)
		assert.Equal(f.t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		assert.NoError(f.t, r.ParseForm())
		assert.Equal(f.t, map[string][]string{"grant_type": {"client_credentials"}, "scope": {"partners"}},
			map[string][]string(r.PostForm), "no credentials in the form")
		assert.Empty(f.t, r.URL.RawQuery)
		n := f.tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":3599,"scope":"partners","token_type":"bearer"}`, n)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: string(body),
	})
	n := len(f.calls)
	f.mu.Unlock()

	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if f.reject != nil && f.reject(token) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"id":"a1ex","status":401,"code":"invalid_token","title":"Invalid Token","detail":"The access token is invalid or expired"}]}`)
		return
	}
	f.api(w, r, n)
}

func (f *fakeSolaris) Calls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

func (f *fakeSolaris) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL: f.srv.URL + "/", TokenURL: f.srv.URL + tokenPath, ClientID: testClientID, ClientSecret: testClientSecret,
		HTTP: providerhttp.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond},
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

const pendingBody = `{"id":"` + testIdentID + `","reference":"TST-KCCEY",
	"url":"https://go.test.idnow.de/solarisbankvideoidentsandbox/identifications/` + testIdentID + `",
	"status":"pending","completed_at":null,"method":"idnow","language":"DE","estimated_waiting_time":60}`

func getIdentification(c *Client, ctx context.Context) error {
	_, err := c.GetIdentification(ctx, testPersonID, testIdentID, false)
	return err
}

func TestTokenFetchedOnceAndReused(t *testing.T) {
	f := newFakeSolaris(t, respond(200, pendingBody))
	c := f.client(t)
	for range 3 {
		require.NoError(t, getIdentification(c, t.Context()))
	}
	assert.Equal(t, int32(1), f.tokens.Load())
	for _, call := range f.Calls() {
		assert.Equal(t, "Bearer tok-1", call.Auth)
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	f := newFakeSolaris(t, respond(200, pendingBody))
	f.reject = func(token string) bool { return token == "tok-1" }
	c := f.client(t)

	id, err := c.RequestIdentification(t.Context(), testPersonID, testIdentID)
	require.NoError(t, err)
	assert.Equal(t, "pending", id.Status)

	calls := f.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, "Bearer tok-1", calls[0].Auth)
	assert.Equal(t, "Bearer tok-2", calls[1].Auth)
	assert.Equal(t, calls[0].Path, calls[1].Path)
	assert.Equal(t, int32(2), f.tokens.Load())

	// The fresh token is cached for the next call.
	require.NoError(t, getIdentification(c, t.Context()))
	assert.Equal(t, int32(2), f.tokens.Load())
}

func TestUnauthorizedTwiceIsNonRetryable(t *testing.T) {
	f := newFakeSolaris(t, respond(200, pendingBody))
	f.reject = func(string) bool { return true }
	c := f.client(t)

	_, err := c.CreateIdentification(t.Context(), testPersonID, "EN", nil)
	appErr := requireAppError(t, err, providerhttp.ErrTypeUnauthorized, false)
	assert.Contains(t, appErr.Message(), "solaris: create identification: HTTP 401")
	assert.Contains(t, appErr.Message(), "The access token is invalid or expired (code=invalid_token)")
	assert.Contains(t, appErr.Message(), "rejected again with a fresh access token")
	calls := f.Calls()
	require.Len(t, calls, 2, "exactly one retry with a fresh token")
	assert.Equal(t, calls[0].Body, calls[1].Body, "the body is resent")
	assert.Equal(t, int32(2), f.tokens.Load())
}

func TestTokenEndpointRejectsCredentials(t *testing.T) {
	var apiCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != tokenPath {
			apiCalls.Add(1)
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, TokenURL: srv.URL + tokenPath, ClientID: testClientID, ClientSecret: testClientSecret})
	require.NoError(t, err)

	err = getIdentification(c, t.Context())
	appErr := requireAppError(t, err, providerhttp.ErrTypeUnauthorized, false)
	assert.Contains(t, appErr.Message(), "solaris: get access token")
	assert.Contains(t, appErr.Message(), "invalid_client: Client authentication failed")
	assert.NotContains(t, err.Error(), testClientSecret)
	assert.Zero(t, apiCalls.Load())
}

func TestIDsValidatedBeforeAnyCall(t *testing.T) {
	f := newFakeSolaris(t, respond(200, pendingBody))
	c := f.client(t)
	bad := []string{"", "a/b", "/", "..", ".", "a b", "a\tb", "a\nb", "jane@exämple.com", "ａｂｃ", strings.Repeat("a", 201)}
	for _, id := range bad {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			calls := map[string]error{
				"create, person": func() error { _, err := c.CreateIdentification(t.Context(), id, "EN", nil); return err }(),
				"request, person": func() error {
					_, err := c.RequestIdentification(t.Context(), id, testIdentID)
					return err
				}(),
				"request, identification": func() error {
					_, err := c.RequestIdentification(t.Context(), testPersonID, id)
					return err
				}(),
				"get, person": func() error {
					_, err := c.GetIdentification(t.Context(), id, testIdentID, true)
					return err
				}(),
				"get, identification": func() error {
					_, err := c.GetIdentification(t.Context(), testPersonID, id, false)
					return err
				}(),
			}
			for name, err := range calls {
				appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
				want := "the Solaris person ID"
				if strings.HasSuffix(name, "identification") {
					want = "the Solaris identification ID"
				}
				assert.Contains(t, appErr.Message(), want, name)
				if len(id) > 1 {
					assert.NotContains(t, appErr.Message(), id, "the rejected value is not echoed")
				}
			}
		})
	}
	assert.Empty(t, f.Calls())
	assert.Zero(t, f.tokens.Load())
}

func TestIDsArePathEscaped(t *testing.T) {
	f := newFakeSolaris(t, respond(200, `{"id":"i?d#1","status":"pending","url":"https://go.test.idnow.de/x"}`))
	id, err := f.client(t).RequestIdentification(t.Context(), "p%1;x", "i?d#1")
	require.NoError(t, err)
	assert.Equal(t, "i?d#1", id.ID)
	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "/v1/persons/p%251%3Bx/identifications/i%3Fd%231/request", calls[0].Path)
	assert.Empty(t, calls[0].RawQuery)
}

func TestCancelledContext(t *testing.T) {
	f := newFakeSolaris(t, respond(200, pendingBody))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := getIdentification(f.client(t), ctx)
	require.ErrorIs(t, err, context.Canceled)
	var appErr *temporal.ApplicationError
	assert.False(t, errors.As(err, &appErr))
}

// solarisError is Solaris' error body; status is an integer on Solaris' newer error page and a string on the
// older one.
func solarisError(status any, code, title, detail string) string {
	if s, ok := status.(string); ok {
		status = `"` + s + `"`
	}
	return fmt.Sprintf(`{"errors":[{"id":"24b0e02a-341d-40bc-9e52-0d9f8cc8c6eb","status":%v,"code":%q,"title":%q,"detail":%q,`+
		`"source":{"field":"language","message":"is invalid"}}]}`, status, code, title, detail)
}

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
		{name: "400, integer status", api: respond(400, solarisError(400, "invalid_model", "Invalid Model", "language is not one of DE, EN")),
			wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1,
			wantInMessage: []string{"HTTP 400 Bad Request", "language is not one of DE, EN (code=invalid_model)"}},
		{name: "400, string status", api: respond(400, solarisError("400", "validation_error", "Validation Error", "method is invalid")),
			wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1, wantInMessage: []string{"method is invalid (code=validation_error)"}},
		{name: "400 with title only", api: respond(400, `{"errors":[{"id":"1","status":400,"code":"invalid_json","title":"Invalid JSON"}]}`),
			wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1, wantInMessage: []string{"Invalid JSON (code=invalid_json)"}},
		{name: "403", api: respond(403, solarisError(403, "forbidden", "Forbidden", "Not allowed for this partner")),
			wantType: providerhttp.ErrTypeForbidden, wantCalls: 1, wantInMessage: []string{"HTTP 403 Forbidden", "Not allowed for this partner"}},
		{name: "404", api: respond(404, solarisError(404, "model_not_found", "Model Not Found", "Couldn't find 'Solaris::Person'")),
			wantType: providerhttp.ErrTypeNotFound, wantCalls: 1, wantInMessage: []string{"HTTP 404 Not Found", "code=model_not_found"}},
		{name: "409", api: respond(409, solarisError(409, "conflict", "Conflict", "An identification is already in progress")),
			wantType: providerhttp.ErrTypeConflict, wantCalls: 1, wantInMessage: []string{"An identification is already in progress"}},
		{name: "422", api: respond(422, solarisError(422, "unprocessable_entity", "Unprocessable Entity", "Person is not eligible")),
			wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1, wantInMessage: []string{"HTTP 422", "Person is not eligible"}},
		{name: "429 with Retry-After", api: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, solarisError(429, "too_many_requests", "Too Many Requests", "Rate limit exceeded"))
		}, wantType: providerhttp.ErrTypeRateLimited, wantRetryable: true, wantRetryDelay: 30 * time.Second, wantCalls: 1,
			wantInMessage: []string{"Rate limit exceeded"}},
		{name: "500 is left to Temporal", api: respond(500, solarisError(500, "generic_error", "Internal Server Error", "Something went wrong")),
			wantType: providerhttp.ErrTypeUnavailable, wantRetryable: true, wantCalls: 1, wantInMessage: []string{"Something went wrong"}},
		{name: "502 beyond the in-process budget", api: respond(502, `<html>Bad Gateway</html>`),
			wantType: providerhttp.ErrTypeUnavailable, wantRetryable: true, wantCalls: 3},
		{name: "503 with Retry-After", api: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, wantType: providerhttp.ErrTypeUnavailable, wantRetryable: true, wantRetryDelay: 2 * time.Minute, wantCalls: 3},
	}
	endpoints := []struct {
		op   string
		call func(c *Client) error
	}{
		{"solaris: create identification", func(c *Client) error {
			_, err := c.CreateIdentification(t.Context(), testPersonID, "DE", nil)
			return err
		}},
		{"solaris: request identification", func(c *Client) error {
			_, err := c.RequestIdentification(t.Context(), testPersonID, testIdentID)
			return err
		}},
		{"solaris: get identification", func(c *Client) error {
			_, err := c.GetIdentification(t.Context(), testPersonID, testIdentID, true)
			return err
		}},
	}
	for _, tt := range tests {
		for _, ep := range endpoints {
			t.Run(tt.name+"/"+ep.op, func(t *testing.T) {
				f := newFakeSolaris(t, tt.api)
				err := ep.call(f.client(t))
				appErr := requireAppError(t, err, tt.wantType, tt.wantRetryable)
				assert.Equal(t, tt.wantRetryDelay, appErr.NextRetryDelay())
				assert.Contains(t, appErr.Message(), ep.op+": HTTP ")
				for _, want := range tt.wantInMessage {
					assert.Contains(t, appErr.Message(), want)
				}
				assert.Len(t, f.Calls(), tt.wantCalls)
				assert.Equal(t, int32(1), f.tokens.Load())
			})
		}
	}
}

func TestServerErrorsRetriedInsideOneCall(t *testing.T) {
	f := newFakeSolaris(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusBadGateway)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			respond(201, `{"id":"`+testIdentID+`","reference":null,"url":null,"status":"created","method":"idnow"}`)(w, r, n)
		}
	})
	id, err := f.client(t).CreateIdentification(t.Context(), testPersonID, "EN", nil)
	require.NoError(t, err)
	assert.Equal(t, Identification{ID: testIdentID, Status: "created"}, id)
	calls := f.Calls()
	require.Len(t, calls, 3)
	for _, call := range calls {
		assert.JSONEq(t, `{"method":"idnow","language":"EN"}`, call.Body, "the body is resent on every attempt")
	}
	assert.Equal(t, int32(1), f.tokens.Load())
}

func TestNewValidatesConfig(t *testing.T) {
	const (
		base  = "https://api.solaris-sandbox.de"
		token = "https://auth.solaris-sandbox.de/oauth2/token"
	)
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{"empty", Config{}, []string{"BaseURL is required", "TokenURL is required", "ClientID is required", "ClientSecret is required"}},
		{"secret missing", Config{BaseURL: base, TokenURL: token, ClientID: "id"}, []string{"ClientSecret is required"}},
		{"plain http base", Config{BaseURL: "http://api.solaris-sandbox.de", TokenURL: token, ClientID: "id", ClientSecret: testClientSecret},
			[]string{"BaseURL must use https"}},
		{"plain http token URL", Config{BaseURL: base, TokenURL: "http://auth.solaris-sandbox.de/oauth2/token", ClientID: "id",
			ClientSecret: testClientSecret}, []string{"TokenURL must use https"}},
		{"relative base", Config{BaseURL: "api.solaris-sandbox.de", TokenURL: token, ClientID: "id", ClientSecret: testClientSecret},
			[]string{"BaseURL must be an absolute https URL"}},
		{"token URL with query", Config{BaseURL: base, TokenURL: token + "?x=1", ClientID: "id", ClientSecret: testClientSecret},
			[]string{"TokenURL must not have a query"}},
		{"valid", Config{BaseURL: base + "/", TokenURL: token, ClientID: "id", ClientSecret: testClientSecret}, nil},
		{"loopback http for tests", Config{BaseURL: "http://127.0.0.1:8080", TokenURL: "http://localhost:8080/oauth2/token",
			ClientID: "id", ClientSecret: testClientSecret}, nil},
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
			assert.True(t, strings.HasPrefix(err.Error(), "solaris: invalid config: "), err.Error())
			for _, want := range tt.wantErr {
				assert.Contains(t, err.Error(), want)
			}
			if tt.cfg.ClientSecret != "" {
				assert.NotContains(t, err.Error(), tt.cfg.ClientSecret)
			}
		})
	}
}
