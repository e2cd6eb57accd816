package providerhttp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

func TestClassify(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	treezorBody := `{"errors":[{"type":"invalid_request","code":"input_validation_error","message":"The userId field is required","requestId":"req-42"}]}`
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		body           string
		wantType       string
		wantRetryable  bool
		wantRetryDelay time.Duration
		wantInMessage  []string
		// wantBenign: an answer about the user that the workflow turns into an outcome; nobody is alerted.
		wantBenign bool
	}{
		{name: "400", status: 400, body: treezorBody, wantType: ErrTypeBadRequest,
			wantInMessage: []string{"treezor: initiate liveness", "HTTP 400 Bad Request", "The userId field is required", "requestId=req-42"}},
		{name: "422", status: 422, wantType: ErrTypeBadRequest},
		{name: "401", status: 401, wantType: ErrTypeUnauthorized},
		{name: "403", status: 403, wantType: ErrTypeForbidden},
		{name: "404", status: 404, wantType: ErrTypeNotFound},
		{name: "409", status: 409, wantType: ErrTypeConflict},
		{name: "410", status: 410, wantType: ErrTypeGone, wantBenign: true},
		{name: "501 feature not enabled", status: 501, wantType: ErrTypeNotEnabled},
		{name: "428", status: 428, wantType: ErrTypeUserDataIncomplete, wantInMessage: []string{"HTTP 428 Precondition Required"}, wantBenign: true},
		{name: "429 with seconds", status: 429, retryAfter: "42", wantType: ErrTypeRateLimited, wantRetryable: true,
			wantRetryDelay: 42 * time.Second},
		{name: "429 with HTTP-date", status: 429, retryAfter: "Sun, 01 Jun 2025 12:02:00 GMT", wantType: ErrTypeRateLimited,
			wantRetryable: true, wantRetryDelay: 2 * time.Minute},
		{name: "429 without Retry-After", status: 429, wantType: ErrTypeRateLimited, wantRetryable: true,
			wantRetryDelay: DefaultRateLimitDelay},
		{name: "429 with zero Retry-After", status: 429, retryAfter: "0", wantType: ErrTypeRateLimited, wantRetryable: true,
			wantRetryDelay: DefaultRateLimitDelay},
		{name: "500", status: 500, wantType: ErrTypeUnavailable, wantRetryable: true},
		{name: "502", status: 502, wantType: ErrTypeUnavailable, wantRetryable: true},
		{name: "503 with Retry-After", status: 503, retryAfter: "30", wantType: ErrTypeUnavailable, wantRetryable: true,
			wantRetryDelay: 30 * time.Second},
		{name: "504", status: 504, wantType: ErrTypeUnavailable, wantRetryable: true},
		{name: "522", status: 522, wantType: ErrTypeUnavailable, wantRetryable: true},
		{name: "302", status: 302, wantType: ErrTypeUnexpectedStatus, wantRetryable: true},
		{name: "405", status: 405, wantType: ErrTypeUnexpectedStatus, wantRetryable: true},
		{name: "418", status: 418, wantType: ErrTypeUnexpectedStatus, wantRetryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			if tt.retryAfter != "" {
				resp.Header.Set("Retry-After", tt.retryAfter)
			}
			err := classify(resp, []byte(tt.body), "treezor: initiate liveness", now)
			require.Error(t, err)

			// Wrapped the way an activity might, the type must stay reachable.
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, fmt.Errorf("outer: %w", err), &appErr)
			assert.Equal(t, tt.wantType, appErr.Type())
			assert.Equal(t, !tt.wantRetryable, appErr.NonRetryable())
			assert.Equal(t, tt.wantRetryDelay, appErr.NextRetryDelay())
			assert.Equal(t, tt.wantBenign, appErr.Category() == temporal.ApplicationErrorCategoryBenign)
			assert.Contains(t, appErr.Message(), fmt.Sprintf("HTTP %d", tt.status))
			for _, want := range tt.wantInMessage {
				assert.Contains(t, appErr.Message(), want)
			}
		})
	}
}

func TestClassifySuccess(t *testing.T) {
	for _, status := range []int{200, 201, 204, 299} {
		assert.NoError(t, Classify(&http.Response{StatusCode: status}, []byte(`{"errors":[{"message":"x"}]}`), "op"))
	}
}

func TestClassifyRetryAfterFromClock(t *testing.T) {
	resp := &http.Response{StatusCode: 429, Header: http.Header{}}
	resp.Header.Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(Classify(resp, nil, "op"), &appErr))
	assert.InDelta(t, time.Hour.Seconds(), appErr.NextRetryDelay().Seconds(), 2)
}

func TestProviderMessage(t *testing.T) {
	long := strings.Repeat("é", 500)
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", "", ""},
		{"treezor", `{"errors":[{"type":"invalid_request","code":"resource_not_found_error","message":"User not found","docUrl":"https://docs.treezor.com","requestId":"abc"}]}`,
			"User not found (code=resource_not_found_error, requestId=abc)"},
		{"treezor numeric code", `{"errors":[{"code":12,"message":"Nope"}]}`, "Nope (code=12)"},
		{"treezor several errors", `{"errors":[{"message":"a"},{"message":"b"}]}`, "a; b"},
		{"treezor type only", `{"errors":[{"type":"unauthorized"}]}`, "(type=unauthorized)"},
		{"solaris", `{"errors":[{"id":"1","status":400,"code":"validation_error","title":"Validation Error","detail":"first_name is missing"}]}`,
			"first_name is missing (code=validation_error)"},
		{"yousign", `{"type":"about:blank","detail":"The signer is not ready"}`, "The signer is not ready (type=about:blank)"},
		{"oauth", `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			"invalid_client: Client authentication failed"},
		{"unknown JSON is not quoted", `{"users":[{"firstname":"Alice"}]}`, ""},
		{"plain text", "upstream   connect\nerror", "upstream connect error"},
		{"control characters dropped", `{"errors":[{"message":"line1\nline2"}]}`, "line1 line2"},
		{"binary", "\xff\xfe\x00", ""},
		{"truncated", `{"errors":[{"message":"` + long + `"}]}`, strings.Repeat("é", 299) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ProviderMessage([]byte(tt.body))
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, utf8.RuneCountInString(got), maxProviderMessage)
		})
	}
}

func TestHelpersErrors(t *testing.T) {
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, InvalidResponse("op", "no URL"), &appErr)
	assert.Equal(t, ErrTypeInvalidResponse, appErr.Type())
	assert.False(t, appErr.NonRetryable())

	require.ErrorAs(t, InvalidArgument("op", "bad user ID"), &appErr)
	assert.Equal(t, ErrTypeInvalidArgument, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Equal(t, "op: bad user ID", appErr.Message())
}
