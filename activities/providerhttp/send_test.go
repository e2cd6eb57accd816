package providerhttp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// apiCall is what the test API server saw of one request.
type apiCall struct {
	method, uri, auth, contentType, accept, body string
}

// apiServer answers every request with the next status of statuses (repeating the last) and records the calls.
func apiServer(t *testing.T, statuses ...int) (*httptest.Server, func() []apiCall) {
	t.Helper()
	var (
		mu    sync.Mutex
		calls []apiCall
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, apiCall{r.Method, r.RequestURI, r.Header.Get("Authorization"),
			r.Header.Get("Content-Type"), r.Header.Get("Accept"), string(body)})
		status := statuses[min(len(calls), len(statuses))-1]
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []apiCall {
		mu.Lock()
		defer mu.Unlock()
		return append([]apiCall(nil), calls...)
	}
}

func TestSendJSON(t *testing.T) {
	tests := []struct {
		name       string
		statuses   []int
		static     bool // APIKey instead of a TokenSource
		req        Request
		wantStatus int // 0: an error is expected
		wantErr    string
		wantCalls  []apiCall
	}{
		{"GET with query, no body", []int{200}, false,
			Request{Op: "p: get", Method: http.MethodGet, Path: "/v1/x", Query: url.Values{"a": {"1 2"}}}, 200, "",
			[]apiCall{{method: "GET", uri: "/v1/x?a=1+2", auth: "Bearer token-1", accept: "application/json"}}},
		{"POST with JSON body", []int{201}, false,
			Request{Op: "p: create", Method: http.MethodPost, Path: "/v1/x", Body: map[string]string{"k": "v"}}, 201, "",
			[]apiCall{{"POST", "/v1/x", "Bearer token-1", "application/json", "application/json", `{"k":"v"}`}}},
		{"401 then fresh token", []int{401, 200}, false,
			Request{Op: "p: get", Method: http.MethodGet, Path: "/v1/x"}, 200, "",
			[]apiCall{
				{method: "GET", uri: "/v1/x", auth: "Bearer token-1", accept: "application/json"},
				{method: "GET", uri: "/v1/x", auth: "Bearer token-2", accept: "application/json"},
			}},
		{"401 twice is final", []int{401}, false,
			Request{Op: "p: get", Method: http.MethodGet, Path: "/v1/x"}, 0, "rejected again with a fresh access token",
			[]apiCall{
				{method: "GET", uri: "/v1/x", auth: "Bearer token-1", accept: "application/json"},
				{method: "GET", uri: "/v1/x", auth: "Bearer token-2", accept: "application/json"},
			}},
		{"API key 401 is returned, not retried", []int{401}, true,
			Request{Op: "p: get", Method: http.MethodGet, Path: "/v1/x"}, 401, "",
			[]apiCall{{method: "GET", uri: "/v1/x", auth: "Bearer key-1", accept: "application/json"}}},
		{"other statuses are returned", []int{404}, false,
			Request{Op: "p: get", Method: http.MethodGet, Path: "/v1/x"}, 404, "",
			[]apiCall{{method: "GET", uri: "/v1/x", auth: "Bearer token-1", accept: "application/json"}}},
		{"unencodable body", []int{200}, true,
			Request{Op: "p: create", Method: http.MethodPost, Path: "/v1/x", Body: func() {}}, 0, "p: create: encode request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := apiServer(t, tt.statuses...)
			var auth Auth = APIKey("key-1")
			if !tt.static {
				auth = newSource(t, newTokenServer(t, 3600).URL, CredentialsInForm)
			}
			resp, body, err := New(fastOptions()).SendJSON(t.Context(), srv.URL, auth, tt.req)
			if tt.wantStatus == 0 {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.wantStatus, resp.StatusCode)
				assert.JSONEq(t, `{"ok":true}`, string(body))
			}
			assert.Equal(t, tt.wantCalls, calls())
		})
	}
}

func TestSendJSONSecondUnauthorizedIsUnwrappedApplicationError(t *testing.T) {
	srv, _ := apiServer(t, http.StatusUnauthorized)
	src := newSource(t, newTokenServer(t, 3600).URL, CredentialsInForm)
	_, _, err := New(fastOptions()).SendJSON(t.Context(), srv.URL, src, Request{Op: "p: get", Method: http.MethodGet, Path: "/x"})
	appErr, ok := err.(*temporal.ApplicationError)
	require.True(t, ok, "%T %v", err, err)
	assert.Equal(t, ErrTypeUnauthorized, appErr.Type())
	assert.True(t, appErr.NonRetryable())
}

func TestCheckBaseURL(t *testing.T) {
	hint := URLHint{Example: "https://api.example.com", Exposed: "the API key"}
	tests := []struct {
		raw, want string // want "": valid
	}{
		{"https://api.example.com/v3", ""},
		{"http://localhost:8080", ""},
		{"http://127.0.0.1:8080/v1", ""},
		{"http://[::1]:8080", ""},
		{"", "BaseURL is required"},
		{"://nope", "BaseURL is not a URL: "},
		{"api.example.com", "BaseURL must be an absolute https URL, e.g. https://api.example.com"},
		{"ftp://api.example.com", "BaseURL must be an absolute https URL, e.g. https://api.example.com"},
		{"http://api.example.com", "BaseURL must use https: the API key would travel in clear text"},
		{"https://api.example.com?x=1", "BaseURL must not have a query or fragment"},
		{"https://api.example.com#x", "BaseURL must not have a query or fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			err := CheckBaseURL("BaseURL", tt.raw, hint)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestIsWebURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://a.example/x": true, "http://a.example": true, "/relative": false, "ftp://a.example": false,
		"https://": false, "": false,
	} {
		assert.Equal(t, want, IsWebURL(s), s)
	}
}

func TestPathID(t *testing.T) {
	tests := []struct {
		id, wantPath, wantProblem string
	}{
		{"4d0fc9e8c5e1c1b6e8d0a2a0b3d36f9ccper", "4d0fc9e8c5e1c1b6e8d0a2a0b3d36f9ccper", ""},
		{"a:b", "a:b", ""},
		{"", "", "is empty"},
		{string(make([]byte, 201)), "", "is 201 bytes long, 200 at most"},
		{"..", "", "is a relative path segment"},
		{"a/b", "", "must not contain '/'"},
		{"a b", "", "must be printable ASCII without spaces"},
		{"jané", "", "must be printable ASCII without spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.wantProblem, func(t *testing.T) {
			assert.Equal(t, tt.wantProblem, IDProblem(tt.id))
			path, err := PathID("p: get", "person ID", tt.id)
			if tt.wantProblem == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.wantPath, path)
				return
			}
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			assert.Equal(t, ErrTypeInvalidArgument, appErr.Type())
			assert.Contains(t, appErr.Message(), "the person ID "+tt.wantProblem)
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		msg    string
		values []string
		want   string
	}{
		{"name Jane Doe is invalid", []string{"Jane", " Doe "}, "name [redacted] [redacted] is invalid"},
		{"country D is invalid", []string{"D"}, "country D is invalid"},
		{"nothing to hide", nil, "nothing to hide"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Redact(tt.msg, tt.values...))
	}
}

func TestReword(t *testing.T) {
	plain := errors.New("p: boom")
	assert.Same(t, plain, Reword(plain, func(string) string { return "changed" }))

	orig := temporal.NewNonRetryableApplicationError("p: Jane rejected", ErrTypeBadRequest, nil)
	assert.Same(t, orig, Reword(orig, func(msg string) string { return msg }), "unchanged message keeps the error")

	got := Reword(orig, func(msg string) string { return Redact(msg, "Jane") })
	appErr, ok := got.(*temporal.ApplicationError)
	require.True(t, ok, "%T", got)
	assert.Equal(t, "p: [redacted] rejected", appErr.Message())
	assert.Equal(t, ErrTypeBadRequest, appErr.Type())
	assert.True(t, appErr.NonRetryable())
}
