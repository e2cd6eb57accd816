package treezor

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

func TestInitiate(t *testing.T) {
	const url = "https://id.ubble.ai/f8048bee-3182-48dc-93e5-7eef9db77050"
	type initiateFunc func(c *Client, ctx context.Context, userID, redirectURL string) (Identification, error)
	liveness := (*Client).InitiateLiveness
	qes := (*Client).InitiateQES
	video := (*Client).InitiateVideoConference
	tests := []struct {
		name     string
		call     initiateFunc
		redirect string
		response string
		wantPath string
		wantBody string
		wantID   string
	}{
		{"liveness, guide shape", liveness, "https://app.example.com/done",
			`{"identification":{"identification-id":"f8048bee","identification-url":"` + url + `","type":"video_certified"}}`,
			"/v1/users/123/kycliveness", `{"redirectUrl":"https://app.example.com/done"}`, "f8048bee"},
		{"liveness, OpenAPI shape", liveness, "",
			`{"user_kyc":[{"identification-id":"f8048bee","identification-url":"` + url + `"}]}`,
			"/v1/users/123/kycliveness", `{}`, "f8048bee"},
		{"qes", qes, "https://app.example.com/done",
			`{"identificationId":"idn-1","identificationURL":"` + url + `"}`,
			"/v1/users/123/qes", `{"redirectUrl":"https://app.example.com/done"}`, "idn-1"},
		{"videoconference", video, "",
			`{"identificationId":"idn-2","identificationURL":"` + url + `"}`,
			"/v1/users/123/videoconference", `{}`, "idn-2"},
		{"qes, wrapped as in the QES guide", qes, "",
			`{"identification":{"identificationId":"idn-3","identificationURL":"` + url + `"}}`,
			"/v1/users/123/qes", `{}`, "idn-3"},
		{"videoconference, numeric ID", video, "",
			`{"identificationId":987,"identificationURL":"` + url + `"}`,
			"/v1/users/123/videoconference", `{}`, "987"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTreezor(t, respond(http.StatusCreated, tt.response))
			id, err := tt.call(f.client(t), t.Context(), "123", tt.redirect)
			require.NoError(t, err)
			assert.Equal(t, Identification{ID: tt.wantID, URL: url}, id)

			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, http.MethodPost, calls[0].Method)
			assert.Equal(t, tt.wantPath, calls[0].Path)
			assert.JSONEq(t, tt.wantBody, calls[0].Body)
		})
	}
}

// TestInitiateUserDataIncomplete: a 428 names the fields the seeds require. Seed 001 (live verification): "At
// least the firstname, lastname, and birthday of the user must be populated"; seeds 000 (video conference) and 002
// (QES): "At least the firstname, lastname, email, country, and phone fields" (no birthday).
func TestInitiateUserDataIncomplete(t *testing.T) {
	tests := []struct {
		name   string
		call   func(c *Client) error
		fields string
	}{
		{"liveness", func(c *Client) error {
			_, err := c.InitiateLiveness(t.Context(), "123", "")
			return err
		}, "the user must have firstname, lastname and birthday set in Treezor"},
		{"qes", func(c *Client) error {
			_, err := c.InitiateQES(t.Context(), "123", "")
			return err
		}, "the user must have firstname, lastname, email, country and phone set in Treezor"},
		{"videoconference", func(c *Client) error {
			_, err := c.InitiateVideoConference(t.Context(), "123", "")
			return err
		}, "the user must have firstname, lastname, email, country and phone set in Treezor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTreezor(t, respond(http.StatusPreconditionRequired,
				`{"errors":[{"type":"invalid_request","code":"precondition","message":"Specified userId is not found in our services"}]}`))
			err := tt.call(f.client(t))
			appErr := requireAppError(t, err, providerhttp.ErrTypeUserDataIncomplete, false)
			assert.Contains(t, appErr.Message(), tt.fields)
			assert.Contains(t, appErr.Message(), "Specified userId is not found")
			assert.Len(t, f.Calls(), 1)
		})
	}
}

func TestInitiateErrors(t *testing.T) {
	tests := []struct {
		name           string
		api            func(http.ResponseWriter, *http.Request, int)
		wantType       string
		wantRetryable  bool
		wantRetryDelay time.Duration
		wantCalls      int
		wantInMessage  string
	}{
		{name: "no URL in the response", api: respond(201, `{"identification":{"identification-id":"x"}}`),
			wantType: providerhttp.ErrTypeInvalidResponse, wantRetryable: true, wantCalls: 1,
			wantInMessage: "no identification URL"},
		{name: "not JSON", api: respond(201, `<html></html>`),
			wantType: providerhttp.ErrTypeInvalidResponse, wantRetryable: true, wantCalls: 1},
		{name: "relative URL", api: respond(201, `{"identificationId":"x","identificationURL":"/relative"}`),
			wantType: providerhttp.ErrTypeInvalidResponse, wantRetryable: true, wantCalls: 1},
		{name: "400 quotes Treezor's message", api: respond(400,
			`{"errors":[{"type":"invalid_request","code":"input_validation_error","message":"redirectUrl is invalid","requestId":"r-1"}]}`),
			wantType: providerhttp.ErrTypeBadRequest, wantCalls: 1, wantInMessage: "redirectUrl is invalid (code=input_validation_error, requestId=r-1)"},
		{name: "403", api: respond(403, ``), wantType: providerhttp.ErrTypeForbidden, wantCalls: 1},
		{name: "429 with Retry-After", api: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		}, wantType: providerhttp.ErrTypeRateLimited, wantRetryable: true, wantRetryDelay: 30 * time.Second, wantCalls: 1},
		{name: "500 is left to Temporal", api: respond(500, ``), wantType: providerhttp.ErrTypeUnavailable,
			wantRetryable: true, wantCalls: 1},
		{name: "504 beyond the in-process budget", api: respond(504, ``), wantType: providerhttp.ErrTypeUnavailable,
			wantRetryable: true, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTreezor(t, tt.api)
			_, err := f.client(t).InitiateLiveness(t.Context(), "123", "")
			appErr := requireAppError(t, err, tt.wantType, tt.wantRetryable)
			assert.Equal(t, tt.wantRetryDelay, appErr.NextRetryDelay())
			assert.Contains(t, appErr.Message(), "treezor: initiate liveness")
			assert.Contains(t, appErr.Message(), tt.wantInMessage)
			assert.Len(t, f.Calls(), tt.wantCalls)
		})
	}
}

func TestServerErrorsRetriedInsideOneCall(t *testing.T) {
	f := newFakeTreezor(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		respond(201, `{"identificationId":"idn","identificationURL":"https://idnow.example/x"}`)(w, r, n)
	})
	id, err := f.client(t).InitiateVideoConference(t.Context(), "123", "")
	require.NoError(t, err)
	assert.Equal(t, "idn", id.ID)
	calls := f.Calls()
	require.Len(t, calls, 3)
	for _, call := range calls {
		assert.Equal(t, `{}`, call.Body, "the body is resent on every attempt")
	}
	assert.Equal(t, int32(1), f.tokens.Load())
}

func TestRetrieveLivenessDocuments(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		wantType      string // "" for success
		wantRetryable bool
	}{
		{"200", 200, "", false},
		{"406 not processed yet", 406, ErrTypeLivenessNotProcessed, true},
		{"410 gone", 410, providerhttp.ErrTypeGone, false},
		{"405 documents can not be stored", 405, ErrTypeDocumentsNotStored, false},
		{"404 no identification", 404, providerhttp.ErrTypeNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTreezor(t, respond(tt.status, `{}`))
			err := f.client(t).RetrieveLivenessDocuments(t.Context(), "123")
			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, http.MethodPut, calls[0].Method)
			assert.Equal(t, "/v1/users/123/kycliveness", calls[0].Path)
			assert.Empty(t, calls[0].Body)
			if tt.wantType == "" {
				require.NoError(t, err)
				return
			}
			appErr := requireAppError(t, err, tt.wantType, tt.wantRetryable)
			assert.Contains(t, appErr.Message(), "treezor: retrieve liveness documents")
		})
	}
}

func TestRequestKYCReview(t *testing.T) {
	tests := []struct {
		name      string
		accessTag string
		response  string
		wantRaw   string
		want      UserKYC
	}{
		{"string values, as in webhooks", "kycflow-treezor-liveness-123",
			`{"users":[{"userId":"123","firstname":"Alice","kycReview":"1","kycLevel":"0"}]}`,
			"accessTag=kycflow-treezor-liveness-123", UserKYC{UserID: "123", KycReview: 1, KycLevel: 0}},
		{"numeric values, as in the OpenAPI", "a/b c&d=e",
			`{"users":[{"userId":123,"kycReview":1,"kycLevel":2}]}`,
			"accessTag=a%2Fb+c%26d%3De", UserKYC{UserID: "123", KycReview: 1, KycLevel: 2}},
		{"no accessTag", "",
			`{"users":[{"userId":123,"kycReview":1,"kycLevel":null}]}`,
			"", UserKYC{UserID: "123", KycReview: 1, KycLevel: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTreezor(t, respond(200, tt.response))
			kyc, err := f.client(t).RequestKYCReview(t.Context(), "123", tt.accessTag)
			require.NoError(t, err)
			assert.Equal(t, tt.want, kyc)

			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, http.MethodPut, calls[0].Method)
			assert.Equal(t, "/v1/users/123/Kycreview", calls[0].Path)
			assert.Equal(t, tt.wantRaw, calls[0].RawQuery)
			if tt.accessTag != "" {
				assert.Equal(t, []string{tt.accessTag}, calls[0].Query["accessTag"])
			}
			assert.Empty(t, calls[0].Body)
		})
	}
}

func TestRequestKYCReviewRejectsLongAccessTag(t *testing.T) {
	f := newFakeTreezor(t, respond(200, userBody))
	_, err := f.client(t).RequestKYCReview(t.Context(), "123", strings.Repeat("a", MaxAccessTagLength+1))
	requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
	assert.Empty(t, f.Calls())
}

func TestGetUserKYC(t *testing.T) {
	tests := []struct {
		name          string
		response      string
		want          UserKYC
		wantType      string
		wantRetryable bool
	}{
		{name: "numbers", response: userBody, want: UserKYC{UserID: "123", KycReview: 2, KycLevel: 2}},
		{name: "strings", response: `{"users":[{"userId":"123","kycReview":"3","kycLevel":"4"}]}`,
			want: UserKYC{UserID: "123", KycReview: 3, KycLevel: 4}},
		{name: "no users", response: `{"users":[]}`, wantType: providerhttp.ErrTypeNotFound},
		{name: "another user", response: `{"users":[{"userId":"999","kycReview":"2","kycLevel":"2"}]}`,
			wantType: providerhttp.ErrTypeInvalidResponse, wantRetryable: true},
		{name: "kycReview not a number", response: `{"users":[{"userId":123,"firstname":"Alice","kycReview":"validated"}]}`,
			wantType: providerhttp.ErrTypeInvalidResponse, wantRetryable: true},
		{name: "not a User object", response: `{"users":"nope"}`,
			wantType: providerhttp.ErrTypeInvalidResponse, wantRetryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTreezor(t, respond(200, tt.response))
			kyc, err := f.client(t).GetUserKYC(t.Context(), "123")

			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, http.MethodGet, calls[0].Method)
			assert.Equal(t, "/v1/users/123", calls[0].Path)
			assert.Empty(t, calls[0].RawQuery)

			if tt.wantType == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, kyc)
				return
			}
			requireAppError(t, err, tt.wantType, tt.wantRetryable)
			assert.NotContains(t, err.Error(), "Alice", "personal data never reaches an error")
		})
	}
}

func TestInitiateRejectsBadRedirectURL(t *testing.T) {
	f := newFakeTreezor(t, respond(201, `{}`))
	_, err := f.client(t).InitiateLiveness(t.Context(), "123", "not a url")
	requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
	assert.Empty(t, f.Calls())
}

// TestListDocuments: GET /v1/documents with userId and createdDateFrom ("YYYY-MM-DD HH:mm:ss"), numbers or
// strings, documents of another user skipped, and nothing but the IDs kept.
func TestListDocuments(t *testing.T) {
	f := newFakeTreezor(t, respond(http.StatusOK, `{"documents":[`+
		`{"documentId":901,"documentTypeId":9,"userId":123,"name":"aoak_identity_card.pdf","userFirstname":"Alice"},`+
		`{"documentId":"902","documentTypeId":"26","userId":"123"},`+
		`{"documentId":"999","documentTypeId":"9","userId":"456"}]}`))
	docs, err := f.client(t).ListDocuments(t.Context(), "123", time.Date(2026, 11, 30, 9, 5, 7, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, []Document{{ID: "901", TypeID: 9}, {ID: "902", TypeID: 26}}, docs)
	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, http.MethodGet, calls[0].Method)
	assert.Equal(t, "/v1/documents", calls[0].Path)
	assert.Equal(t, "createdDateFrom=2026-11-30+09%3A05%3A07&userId=123", calls[0].RawQuery)
}

// TestListValidatedPayins: GET /v1/payins with walletId, payinStatus=VALIDATED and createdDateFrom (getPayins);
// numbers or strings, amounts and names skipped, a payin into another wallet or dated before since dropped (should
// Treezor ignore the filter), a wallet ID that is not one never sent.
func TestListValidatedPayins(t *testing.T) {
	f := newFakeTreezor(t, respond(http.StatusOK, `{"payins":[`+
		`{"payinId":5001,"walletId":777,"userId":123,"payinStatus":"VALIDATED","paymentMethodId":20,"amount":"10.00","userName":"ALEX OAK","createdDate":"2026-11-30 09:10:00"},`+
		`{"payinId":"5002","walletId":"777","userId":"123","payinStatus":"VALIDATED","paymentMethodId":"21"},`+
		`{"payinId":"5003","walletId":"778","userId":"123","payinStatus":"VALIDATED","paymentMethodId":"20"},`+
		`{"payinId":"5004","walletId":"777","userId":"123","payinStatus":"VALIDATED","paymentMethodId":"20","createdDate":"2026-11-01 08:00:00"}]}`))
	since := time.Date(2026, 11, 30, 9, 5, 7, 0, time.UTC)
	payins, err := f.client(t).ListValidatedPayins(t.Context(), "777", since)
	require.NoError(t, err)
	assert.Equal(t, []Payin{
		{ID: "5001", WalletID: "777", UserID: "123", Status: "VALIDATED", PaymentMethodID: "20", Created: time.Date(2026, 11, 30, 9, 10, 0, 0, time.UTC)},
		{ID: "5002", WalletID: "777", UserID: "123", Status: "VALIDATED", PaymentMethodID: "21"},
	}, payins)
	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, http.MethodGet, calls[0].Method)
	assert.Equal(t, "/v1/payins", calls[0].Path)
	assert.Equal(t, "createdDateFrom=2026-11-30+09%3A05%3A07&payinStatus=VALIDATED&walletId=777", calls[0].RawQuery)

	for _, wallet := range []string{"", "12a", "alice@example.com", "12345678901234567890"} {
		_, err := f.client(t).ListValidatedPayins(t.Context(), wallet, since)
		require.Error(t, err, "wallet %q", wallet)
		assert.NotContains(t, err.Error(), "alice", "the value is not quoted")
	}
	assert.Len(t, f.Calls(), 1, "an invalid wallet ID is never sent")
}
