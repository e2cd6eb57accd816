package yousign_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/activities/yousign"
)

// The activities in package activities are thin wrappers over this client; they are tested here, next to the
// client, with a minimal fake Yousign.
func newActivity(t *testing.T, handler http.HandlerFunc) *activities.Yousign {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	c, err := yousign.New(yousign.Config{BaseURL: srv.URL + "/v3", APIKey: "key",
		HTTP: providerhttp.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}})
	require.NoError(t, err)
	return &activities.Yousign{Client: c}
}

func TestActivities(t *testing.T) {
	a := newActivity(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "POST /v3/verifications/identity_videos":
			body, _ := io.ReadAll(r.Body)
			assert.JSONEq(t, `{"first_name":"Jane","last_name":"Doe","redirection_url":"https://app.example.com/done"}`, string(body))
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"v1","status":"pending","status_codes":[],"verification_url":"https://id.ubble.ai/v1"}`)
		case "GET /v3/verifications/identity_videos/v1":
			_, _ = io.WriteString(w, `{"id":"v1","status":"failed","status_codes":["IDVV_2301"],
				"data":{"extracted_from_document":{"full_name":"JANE DOE","born_on":"1990-10-29"}}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"type":"not_found","detail":"Resource not found"}`)
		}
	})

	created, err := a.CreateVerification(t.Context(), activities.YousignCreateRequest{FirstName: "Jane", LastName: "Doe",
		RedirectURL: "https://app.example.com/done"})
	require.NoError(t, err)
	assert.Equal(t, activities.YousignVerification{ID: "v1", URL: "https://id.ubble.ai/v1", Status: "pending"}, created)

	done, err := a.GetVerification(t.Context(), "v1")
	require.NoError(t, err)
	assert.Equal(t, activities.YousignVerification{ID: "v1", Status: "failed", StatusCodes: []string{"IDVV_2301"}}, done)
	data, err := json.Marshal(done)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"v1","status":"failed","statusCodes":["IDVV_2301"]}`, string(data))

	_, err = a.GetVerification(t.Context(), "missing")
	appErr, ok := err.(*temporal.ApplicationError)
	require.True(t, ok, "the client's *temporal.ApplicationError, unwrapped: %T", err)
	assert.Equal(t, providerhttp.ErrTypeNotFound, appErr.Type())
	assert.True(t, appErr.NonRetryable())

	_, err = a.CreateVerification(t.Context(), activities.YousignCreateRequest{FirstName: "Jane", LastName: "Doe"})
	appErr, ok = err.(*temporal.ApplicationError)
	require.True(t, ok, "the client's *temporal.ApplicationError, unwrapped: %T", err)
	assert.Equal(t, providerhttp.ErrTypeInvalidArgument, appErr.Type())
	assert.True(t, appErr.NonRetryable())
}
