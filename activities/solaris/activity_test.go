package solaris_test

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
	"github.com/kycflow/kycflow/activities/solaris"
	"github.com/kycflow/kycflow/signals"
)

// The activities in package activities are thin wrappers over this client; they are tested here, next to the
// client, with a minimal fake Solaris that answers by path.
func newActivity(t *testing.T, answers map[string]string) *activities.Solaris {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth2/token" {
			_, _ = io.WriteString(w, `{"access_token":"tok","expires_in":3599,"token_type":"bearer"}`)
			return
		}
		key := r.Method + " " + r.URL.RequestURI()
		body, ok := answers[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"errors":[{"id":"1","status":404,"code":"model_not_found","title":"Model Not Found","detail":"not found"}]}`)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := solaris.New(solaris.Config{BaseURL: srv.URL, TokenURL: srv.URL + "/oauth2/token", ClientID: "id", ClientSecret: "secret",
		HTTP: providerhttp.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}})
	require.NoError(t, err)
	return &activities.Solaris{Client: c}
}

func TestActivities(t *testing.T) {
	const base = "/v1/persons/p1cper/identifications"
	a := newActivity(t, map[string]string{
		"POST " + base:                      `{"id":"i1cidt","reference":null,"url":null,"status":"created"}`,
		"PATCH " + base + "/i1cidt/request": `{"id":"i1cidt","reference":"TST-KCCEY","url":"https://go.test.idnow.de/x","status":"pending"}`,
		"GET " + base + "/i1cidt?include_documents=true": `{"id":"i1cidt","reference":"TST-KCCEY","url":"https://go.test.idnow.de/x",
			"status":"successful","completed_at":"2022-07-14T18:18:28.000Z","documents":[{"id":"d1cdoc","name":"f.pdf","document_type":"KYC_REPORT"}]}`,
		"GET " + base + "/i1cidt": `{"id":"i1cidt","reference":"TST-KCCEY","status":"aborted","failure_reason":"USER_CANCELLATION"}`,
	})

	created, err := a.CreateIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper", Language: "DE"})
	require.NoError(t, err)
	assert.Equal(t, activities.SolarisIdentification{ID: "i1cidt", Status: "created"}, created)

	requested, err := a.RequestIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper", IdentificationID: "i1cidt"})
	require.NoError(t, err)
	// The request's answer carries the reference "for mobile app" (seed 003), as the SDK token for the app.
	assert.Equal(t, activities.SolarisIdentification{ID: "i1cidt", URL: "https://go.test.idnow.de/x", Status: "pending",
		SDKToken: "TST-KCCEY"}, requested)

	done, err := a.GetIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper", IdentificationID: "i1cidt",
		IncludeDocuments: true})
	require.NoError(t, err)
	assert.Equal(t, activities.SolarisIdentification{ID: "i1cidt", URL: "https://go.test.idnow.de/x", Status: "successful",
		Documents: []signals.Document{{ID: "d1cdoc", Type: "KYC_REPORT"}}}, done)

	aborted, err := a.GetIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper", IdentificationID: "i1cidt"})
	require.NoError(t, err)
	assert.Equal(t, activities.SolarisIdentification{ID: "i1cidt", Status: "aborted", FailureReason: "USER_CANCELLATION"}, aborted)

	// Nothing else the workflow records in its history has IDnow's reference.
	for _, v := range []any{created, done, aborted} {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "TST-KCCEY")
		assert.NotContains(t, string(data), "reference")
	}
	data, err := json.Marshal(done)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"i1cidt","url":"https://go.test.idnow.de/x","status":"successful","documents":[{"id":"d1cdoc","type":"KYC_REPORT"}]}`,
		string(data))
}

func TestActivityErrorsAreTheClients(t *testing.T) {
	a := newActivity(t, nil)
	calls := map[string]func() error{
		"create": func() error {
			_, err := a.CreateIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper"})
			return err
		},
		"request": func() error {
			_, err := a.RequestIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper", IdentificationID: "x"})
			return err
		},
		"get": func() error {
			_, err := a.GetIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper", IdentificationID: "x"})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		appErr, ok := err.(*temporal.ApplicationError)
		require.True(t, ok, "%s: the client's *temporal.ApplicationError, unwrapped: %T", name, err)
		assert.Equal(t, providerhttp.ErrTypeNotFound, appErr.Type())
		assert.True(t, appErr.NonRetryable())
	}

	_, err := a.RequestIdentification(t.Context(), activities.SolarisIdentRequest{PersonID: "p1cper"})
	appErr, ok := err.(*temporal.ApplicationError)
	require.True(t, ok)
	assert.Equal(t, providerhttp.ErrTypeInvalidArgument, appErr.Type())
}
