package yousign

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/signals"
)

const verificationURL = "https://id.ubble.ai/6c1a4ad6-2b0f-4c38-8a3c-2f0e8f5b1c7d"

// createdBody is Yousign's answer to POST /verifications/identity_videos, as its API reference documents it.
const createdBody = `{"id":"` + testVerID + `","workspace_id":"ws-1","created_at":"2024-05-01T10:00:00+00:00",
	"updated_at":"2024-05-01T10:00:00+00:00","status":"pending","status_codes":[],"face_recognition":false,
	"data_anonymized":false,"verification_url":"` + verificationURL + `",
	"data":{"extracted_from_document":{"full_name":null,"born_on":null,"type":null,"issuing_country_code":null},
	"evidence":{"document_front_image_url":null,"face_image_url":null}}}`

// doneBody is a finished verification, with what Yousign extracted from the document: personal data that must
// never come out of the client.
func doneBody(status, codes string) string {
	return `{"id":"` + testVerID + `","workspace_id":"ws-1","status":"` + status + `","status_codes":` + codes + `,
	"face_recognition":false,"data_anonymized":false,
	"data":{"extracted_from_document":{"full_name":"JANE MARIE DOE","born_on":"1990-10-29","type":"passport",
	"issuing_country_code":"FRA"},"evidence":{"document_front_image_url":"https://files.example/front.jpg",
	"face_image_url":"https://files.example/face.jpg"}}}`
}

func assertNoPersonalData(t *testing.T, v Verification) {
	t.Helper()
	dump := fmt.Sprintf("%#v", v)
	for _, pd := range []string{"JANE", "1990-10-29", "passport", "FRA", "files.example", "ws-1"} {
		assert.NotContains(t, dump, pd)
	}
}

func TestCreateVerification(t *testing.T) {
	f := newFakeYousign(t, respond(http.StatusCreated, createdBody))
	v, err := f.client(t).CreateVerification(t.Context(), "Jane Marie", "Doe", "https://app.example.com/kyc/done?u=42")
	require.NoError(t, err)
	assert.Equal(t, Verification{ID: testVerID, URL: verificationURL, Status: signals.YousignStatusPending}, v)

	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, http.MethodPost, calls[0].Method)
	assert.Equal(t, basePath+"/verifications/identity_videos", calls[0].Path)
	assert.Empty(t, calls[0].RawQuery)
	assert.Equal(t, "Bearer "+testAPIKey, calls[0].Auth)
	assert.Equal(t, "application/json", calls[0].ContentType)
	assert.JSONEq(t, `{"first_name":"Jane Marie","last_name":"Doe","redirection_url":"https://app.example.com/kyc/done?u=42"}`,
		calls[0].Body)
}

func TestCreateVerificationValidatesBeforeAnyCall(t *testing.T) {
	const redirect = "https://app.example.com/done"
	tests := []struct {
		name                string
		first, last, redirc string
		want                []string
	}{
		{"first name empty", "", "Doe", redirect, []string{"first_name is required"}},
		{"last name blank", "Jane", "  ", redirect, []string{"last_name is required"}},
		{"both names empty", "", "", redirect, []string{"first_name is required", "last_name is required"}},
		{"first name too long", strings.Repeat("é", 256), "Doe", redirect,
			[]string{"first_name is 256 characters long, Yousign accepts at most 255"}},
		{"control character", "Jane\nMarie", "Doe", redirect, []string{"first_name contains a control character"}},
		{"invalid UTF-8", "Jane", "D\xffe", redirect, []string{"last_name is not valid UTF-8"}},
		{"redirect URL missing", "Jane", "Doe", "", []string{"the redirect URL is required by Yousign"}},
		{"redirect URL relative", "Jane", "Doe", "/done", []string{"the redirect URL must be an absolute http(s) URL"}},
		{"redirect URL not web", "Jane", "Doe", "ftp://app.example.com/done", []string{"must be an absolute http(s) URL"}},
		{"redirect URL too long", "Jane", "Doe", redirect + "?q=" + strings.Repeat("a", 2000),
			[]string{"Yousign accepts at most 2000"}},
	}
	f := newFakeYousign(t, respond(http.StatusCreated, createdBody))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.client(t).CreateVerification(t.Context(), tt.first, tt.last, tt.redirc)
			appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
			assert.Contains(t, appErr.Message(), "yousign: create verification: ")
			for _, want := range tt.want {
				assert.Contains(t, appErr.Message(), want)
			}
			for _, name := range []string{tt.first, tt.last} {
				if strings.TrimSpace(name) != "" {
					assert.NotContains(t, appErr.Message(), name, "names are never echoed")
				}
			}
		})
	}
	assert.Empty(t, f.Calls())
}

func TestCreateVerificationAcceptsLongestNames(t *testing.T) {
	f := newFakeYousign(t, respond(http.StatusCreated, createdBody))
	_, err := f.client(t).CreateVerification(t.Context(), strings.Repeat("é", MaxNameLength), "D", "http://localhost/done")
	require.NoError(t, err)
	assert.Len(t, f.Calls(), 1)
}

func TestGetVerification(t *testing.T) {
	tests := []struct {
		name     string
		response string
		want     Verification
	}{
		{"pending", createdBody, Verification{ID: testVerID, URL: verificationURL, Status: signals.YousignStatusPending}},
		{"verified", doneBody("verified", `[]`), Verification{ID: testVerID, Status: signals.YousignStatusVerified}},
		{"failed with codes", doneBody("failed", `["IDVV_2301","IDVV_1410"]`),
			Verification{ID: testVerID, Status: signals.YousignStatusFailed, StatusCodes: []string{"IDVV_2301", "IDVV_1410"}}},
		{"inconclusive", doneBody("inconclusive", `["IDVV_1199"]`),
			Verification{ID: testVerID, Status: signals.YousignStatusInconclusive, StatusCodes: []string{"IDVV_1199"}}},
		{"numeric codes, as the beta API", doneBody("failed", `[62102, "IDVV_1201", ""]`),
			Verification{ID: testVerID, Status: signals.YousignStatusFailed, StatusCodes: []string{"62102", "IDVV_1201"}}},
		{"null codes", doneBody("verified", `null`), Verification{ID: testVerID, Status: signals.YousignStatusVerified}},
		{"no ID in the answer", `{"status":"pending","verification_url":"` + verificationURL + `"}`,
			Verification{ID: testVerID, URL: verificationURL, Status: signals.YousignStatusPending}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeYousign(t, respond(http.StatusOK, tt.response))
			v, err := f.client(t).GetVerification(t.Context(), testVerID)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
			assertNoPersonalData(t, v)

			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, http.MethodGet, calls[0].Method)
			assert.Equal(t, basePath+"/verifications/identity_videos/"+testVerID, calls[0].Path)
			assert.Empty(t, calls[0].RawQuery)
			assert.Empty(t, calls[0].Body)
			assert.Empty(t, calls[0].ContentType)
			assert.Equal(t, "Bearer "+testAPIKey, calls[0].Auth)
		})
	}
}

func TestGetVerificationIDValidatedAndEscaped(t *testing.T) {
	f := newFakeYousign(t, respond(http.StatusOK, `{"id":"a?b;c","status":"pending"}`))
	c := f.client(t)
	for _, id := range []string{"", "a/b", "..", ".", "a b", "a\nb", "ünï", strings.Repeat("a", 201)} {
		_, err := c.GetVerification(t.Context(), id)
		appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
		assert.Contains(t, appErr.Message(), "the Yousign verification ID")
		if len(id) > 1 {
			assert.NotContains(t, appErr.Message(), id)
		}
	}
	assert.Empty(t, f.Calls())

	v, err := c.GetVerification(t.Context(), "a?b;c")
	require.NoError(t, err)
	assert.Equal(t, "a?b;c", v.ID)
	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, basePath+"/verifications/identity_videos/a%3Fb%3Bc", calls[0].Path)
	assert.Empty(t, calls[0].RawQuery)
}

func TestUnusableVerificationResponses(t *testing.T) {
	create := func(c *Client) error {
		_, err := c.CreateVerification(t.Context(), "Jane", "Doe", "https://app.example.com/done")
		return err
	}
	get := func(c *Client) error {
		_, err := c.GetVerification(t.Context(), testVerID)
		return err
	}
	tests := []struct {
		name          string
		call          func(c *Client) error
		response      string
		wantInMessage string
	}{
		{"not JSON", get, `<html></html>`, "not the expected verification object"},
		{"codes not a list", get, `{"id":"` + testVerID + `","status":"failed","status_codes":"IDVV_2301"}`,
			"not the expected verification object"},
		{"codes of another type", get, `{"id":"` + testVerID + `","status":"failed","status_codes":[{"code":1}]}`,
			"not the expected verification object"},
		{"another verification", get, `{"id":"other","status":"verified"}`, "about another verification"},
		{"no status", get, `{"id":"` + testVerID + `"}`, "no verification status"},
		{"URL not web", get, `{"id":"` + testVerID + `","status":"pending","verification_url":"id.ubble.ai/x"}`,
			"not an absolute http(s) URL"},
		{"create without URL", create, `{"id":"` + testVerID + `","status":"pending"}`, "no verification URL"},
		{"create without ID", create, `{"status":"pending","verification_url":"` + verificationURL + `"}`,
			"the verification ID is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeYousign(t, respond(http.StatusOK, tt.response))
			err := tt.call(f.client(t))
			appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidResponse, true)
			assert.Contains(t, appErr.Message(), tt.wantInMessage)
			assert.NotContains(t, appErr.Message(), "Jane")
		})
	}
}
