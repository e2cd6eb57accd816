package solaris

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/signals"
)

const idnowURL = "https://go.test.idnow.de/solarisbankvideoidentsandbox/identifications/" + testIdentID

// The identification as the seed documents it after POST .../identifications.
const createdBody = `{"id":"` + testIdentID + `","reference":null,"url":null,"status":"created","completed_at":null,
	"method":"idnow","proof_of_address_type":"GAS_BILL","proof_of_address_issued_at":"2022-03-03","language":"DE",
	"iban":null,"terms_and_conditions_signed_at":null,"authorization_expires_at":null,"confirmation_expires_at":null}`

// The identification as the seed documents it after GET .../identifications/{id}?include_documents=true: with
// IDnow's reference and the person's address, which must never come out of the client.
const successfulBody = `{"id":"` + testIdentID + `","reference":"TST-KCCEY","url":"` + idnowURL + `",
	"status":"successful","completed_at":"2022-07-14T18:18:28.000Z","method":"idnow","proof_of_address_type":"GAS_BILL",
	"proof_of_address_issued_at":"2022-03-03","language":"DE","person_id":"` + testPersonID + `",
	"address":{"line_1":"Amrumerstrasse","line_2":"14","postal_code":"13353","city":"Berlin","country":"DE"},
	"documents":[
		{"id":"448b75fa1c57eecda41d91c66c22faa6cdoc","name":"file1.pdf","content_type":"application/json","document_type":"KYC_REPORT","size":803580},
		{"id":"94eb22a9311be9a1fbb698c448b0b337cdoc","name":"file2.jpg","content_type":"image/jpeg","document_type":"SIGNATURE","size":25349}]}`

// assertNothingInternal checks that no field the client must not return made it into v.
func assertNothingInternal(t *testing.T, v any) {
	t.Helper()
	dump := fmt.Sprintf("%#v", v)
	for _, secret := range []string{"TST-KCCEY", "Amrumerstrasse", "13353", "Berlin", "file1.pdf", testPersonID} {
		assert.NotContains(t, dump, secret)
	}
}

func TestCreateIdentification(t *testing.T) {
	tests := []struct {
		language string
		wantBody string
	}{
		{"", `{"method":"idnow","language":"EN"}`},
		{"EN", `{"method":"idnow","language":"EN"}`},
		{"DE", `{"method":"idnow","language":"DE"}`},
		{"de", `{"method":"idnow","language":"DE"}`},
		{" en ", `{"method":"idnow","language":"EN"}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.language), func(t *testing.T) {
			f := newFakeSolaris(t, respond(http.StatusCreated, createdBody))
			id, err := f.client(t).CreateIdentification(t.Context(), testPersonID, tt.language, nil)
			require.NoError(t, err)
			assert.Equal(t, Identification{ID: testIdentID, Status: signals.SolarisStatusCreated}, id)

			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, http.MethodPost, calls[0].Method)
			assert.Equal(t, "/v1/persons/"+testPersonID+"/identifications", calls[0].Path)
			assert.Empty(t, calls[0].RawQuery)
			assert.Equal(t, "application/json", calls[0].ContentType)
			assert.JSONEq(t, tt.wantBody, calls[0].Body)
		})
	}
}

// TestCreateIdentificationProofOfAddress: seed 003 makes proof_of_address_type and proof_of_address_issued_at
// "mandatory if the customer's identification document does not include their address", the document "must NOT
// be older than 6 months". A proof is sent as given; one too old is refused before the call; Solaris' 400 about a
// missing proof is the customer's missing data (user_data_incomplete), not kycflow's fault.
func TestCreateIdentificationProofOfAddress(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		proof    *signals.ProofOfAddress
		answer   func(http.ResponseWriter, *http.Request, int)
		wantBody string
		wantType string
		wantIn   string
	}{
		{name: "sent with the identification", proof: &signals.ProofOfAddress{Type: "GAS_BILL", IssuedAt: "2026-10-30"},
			answer:   respond(http.StatusCreated, createdBody),
			wantBody: `{"method":"idnow","language":"EN","proof_of_address_type":"GAS_BILL","proof_of_address_issued_at":"2026-10-30"}`},
		{name: "issued 6 months ago to the day", proof: &signals.ProofOfAddress{Type: "GAS_BILL", IssuedAt: "2026-05-30"},
			answer:   respond(http.StatusCreated, createdBody),
			wantBody: `{"method":"idnow","language":"EN","proof_of_address_type":"GAS_BILL","proof_of_address_issued_at":"2026-05-30"}`},
		{name: "older than 6 months", proof: &signals.ProofOfAddress{Type: "GAS_BILL", IssuedAt: "2026-05-29"},
			wantType: providerhttp.ErrTypeInvalidArgument, wantIn: "proof_of_address_issued_at: issuedAt 2026-05-29 is more than 6 months ago"},
		{name: "Solaris wants a proof", answer: respond(http.StatusBadRequest,
			`{"errors":[{"status":400,"code":"invalid_model","title":"Invalid Model","detail":"proof_of_address_type is mandatory",`+
				`"source":{"field":"proof_of_address_type"}}]}`),
			wantType: providerhttp.ErrTypeUserDataIncomplete, wantIn: "send a proof of address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := tt.answer
			if answer == nil {
				answer = respond(http.StatusCreated, createdBody)
			}
			f := newFakeSolaris(t, answer)
			c := f.client(t)
			c.clock = func() time.Time { return now }
			_, err := c.CreateIdentification(t.Context(), testPersonID, "", tt.proof)
			if tt.wantType != "" {
				appErr := requireAppError(t, err, tt.wantType, false)
				assert.Contains(t, appErr.Message(), tt.wantIn)
				return
			}
			require.NoError(t, err)
			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.JSONEq(t, tt.wantBody, calls[0].Body)
		})
	}
}

func TestCreateIdentificationRejectsLanguage(t *testing.T) {
	f := newFakeSolaris(t, respond(http.StatusCreated, createdBody))
	for _, lang := range []string{"FR", "english", "D"} {
		_, err := f.client(t).CreateIdentification(t.Context(), testPersonID, lang, nil)
		appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
		assert.Contains(t, appErr.Message(), "the language must be EN or DE")
	}
	assert.Empty(t, f.Calls())
}

func TestRequestIdentification(t *testing.T) {
	f := newFakeSolaris(t, respond(http.StatusOK, pendingBody))
	id, err := f.client(t).RequestIdentification(t.Context(), testPersonID, testIdentID)
	require.NoError(t, err)
	// Seed 003: the request answers with the url "for web browser" and the reference "for mobile app"; the
	// reference is kept for the app's IDnow SDK, and nothing else about the person is.
	assert.Equal(t, Identification{ID: testIdentID, URL: idnowURL, Status: signals.SolarisStatusPending, Reference: "TST-KCCEY"}, id)
	id.Reference = ""
	assertNothingInternal(t, id)

	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, http.MethodPatch, calls[0].Method)
	assert.Equal(t, "/v1/persons/"+testPersonID+"/identifications/"+testIdentID+"/request", calls[0].Path)
	assert.Empty(t, calls[0].RawQuery)
	assert.Empty(t, calls[0].Body)
	assert.Empty(t, calls[0].ContentType)
}

func TestGetIdentification(t *testing.T) {
	tests := []struct {
		name             string
		includeDocuments bool
		response         string
		wantQuery        string
		want             Identification
	}{
		{name: "with documents", includeDocuments: true, response: successfulBody, wantQuery: "include_documents=true",
			want: Identification{ID: testIdentID, URL: idnowURL, Status: signals.SolarisStatusSuccessful,
				CompletedAt: time.Date(2022, 7, 14, 18, 18, 28, 0, time.UTC),
				Documents: []signals.Document{
					{ID: "448b75fa1c57eecda41d91c66c22faa6cdoc", Type: "KYC_REPORT"},
					{ID: "94eb22a9311be9a1fbb698c448b0b337cdoc", Type: "SIGNATURE"},
				}}},
		{name: "without documents", response: `{"id":"` + testIdentID + `","reference":"TST-KCCEY","url":"` + idnowURL +
			`","status":"canceled","failure_reason":"TECH_PHOTO","completed_at":null}`,
			want: Identification{ID: testIdentID, URL: idnowURL, Status: signals.SolarisStatusCanceled, FailureReason: "TECH_PHOTO"}},
		{name: "failure reason of another shape, odd timestamp", response: `{"id":"` + testIdentID +
			`","status":"failed","failure_reason":{"code":"X"},"completed_at":"14.07.2022"}`,
			want: Identification{ID: testIdentID, Status: signals.SolarisStatusFailed}},
		{name: "timestamp with offset", response: `{"id":"` + testIdentID +
			`","status":"pending_successful","completed_at":"2022-07-14T20:18:28+02:00","documents":null}`,
			want: Identification{ID: testIdentID, Status: signals.SolarisStatusPendingSuccessful,
				CompletedAt: time.Date(2022, 7, 14, 18, 18, 28, 0, time.UTC)}},
		{name: "no ID in the answer", response: `{"status":"pending","url":"` + idnowURL + `"}`,
			want: Identification{ID: testIdentID, URL: idnowURL, Status: signals.SolarisStatusPending}},
		{name: "document without ID skipped", includeDocuments: true, wantQuery: "include_documents=true",
			response: `{"id":"` + testIdentID + `","status":"successful","documents":[{"document_type":"KYC_REPORT"},{"id":"d1cdoc","document_type":null}]}`,
			want: Identification{ID: testIdentID, Status: signals.SolarisStatusSuccessful,
				Documents: []signals.Document{{ID: "d1cdoc"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSolaris(t, respond(http.StatusOK, tt.response))
			id, err := f.client(t).GetIdentification(t.Context(), testPersonID, testIdentID, tt.includeDocuments)
			require.NoError(t, err)
			assert.Equal(t, tt.want, id)
			assertNothingInternal(t, id)

			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, http.MethodGet, calls[0].Method)
			assert.Equal(t, "/v1/persons/"+testPersonID+"/identifications/"+testIdentID, calls[0].Path)
			assert.Equal(t, tt.wantQuery, calls[0].RawQuery)
			assert.Empty(t, calls[0].Body)
		})
	}
}

func TestUnusableIdentificationResponses(t *testing.T) {
	type call func(c *Client) (Identification, error)
	create := func(c *Client) (Identification, error) {
		return c.CreateIdentification(t.Context(), testPersonID, "EN", nil)
	}
	request := func(c *Client) (Identification, error) {
		return c.RequestIdentification(t.Context(), testPersonID, testIdentID)
	}
	get := func(c *Client) (Identification, error) {
		return c.GetIdentification(t.Context(), testPersonID, testIdentID, true)
	}
	tests := []struct {
		name          string
		call          call
		response      string
		wantInMessage string
	}{
		{"not JSON", get, `<html>maintenance</html>`, "not the expected identification object"},
		{"not an object", get, `[]`, "not the expected identification object"},
		{"another identification", get, `{"id":"0000cidt","status":"pending"}`, "about another identification"},
		{"no status", get, `{"id":"` + testIdentID + `","url":"` + idnowURL + `"}`, "no identification status"},
		{"URL not http", get, `{"id":"` + testIdentID + `","status":"pending","url":"javascript:alert(1)"}`,
			"not an absolute http(s) URL"},
		{"request without URL", request, `{"id":"` + testIdentID + `","reference":"TST-KCCEY","status":"pending","url":null}`,
			"no identification URL"},
		{"create without ID", create, `{"reference":null,"status":"created"}`, "the identification ID is empty"},
		{"create with an unusable ID", create, `{"id":"a/b","status":"created"}`, "the identification ID must not contain '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSolaris(t, respond(http.StatusOK, tt.response))
			_, err := tt.call(f.client(t))
			appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidResponse, true)
			assert.Contains(t, appErr.Message(), "unusable provider response")
			assert.Contains(t, appErr.Message(), tt.wantInMessage)
			assert.NotContains(t, appErr.Message(), "TST-KCCEY", "the IDnow reference never reaches an error")
		})
	}
}
