package solaris

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/signals"
)

// TestCheckName follows the rules of Solaris' video identification guide for first_name and last_name: not
// longer than 50 characters, not starting with whitespace, no symbols or emojis.
func TestCheckName(t *testing.T) {
	valid := []struct{ name, value string }{
		{"plain", "Jane"},
		{"sandbox test scenario", "X-MANUALTEST-HAPPYPATH"},
		{"hyphenated", "Jean-Luc"},
		{"apostrophe", "O'Brien"},
		{"leading apostrophe", "'t Hooft"},
		{"typographic apostrophe", "D’Angelo"},
		{"middle names", "Anna Maria Luise"},
		{"period", "St. John"},
		{"umlaut", "Müller-Lüdenscheidt"},
		{"combining diaeresis", "Zoe\u0308"},
		{"Polish", "Łukasz Żółć"},
		{"Cyrillic", "Дмитрий"},
		{"Greek", "Σωκράτης"},
		{"CJK", "王小明"},
		{"Arabic", "محمد"},
		{"modifier letter apostrophe", "Haʻaheo"},
		{"trailing space is not forbidden", "Jane "},
		{"exactly 50", strings.Repeat("a", 50)},
		{"50 multi-byte characters", strings.Repeat("é", 50)},
		{"single letter", "J"},
	}
	for _, tt := range valid {
		t.Run("valid/"+tt.name, func(t *testing.T) {
			assert.NoError(t, CheckName("first_name", tt.value))
		})
	}

	invalid := []struct {
		name, value, want string
	}{
		{"empty", "", "last_name is required"},
		{"51 characters", strings.Repeat("a", 51), "last_name is 51 characters long, Solaris accepts at most 50"},
		{"51 multi-byte characters", strings.Repeat("ü", 51), "is 51 characters long"},
		{"leading space", " Doe", "last_name must not start with whitespace"},
		{"only spaces", "   ", "must not start with whitespace"},
		{"leading tab", "\tDoe", "must not start with whitespace"},
		{"leading no-break space", "\u00a0Doe", "must not start with whitespace"},
		{"leading ideographic space", "\u3000Doe", "must not start with whitespace"},
		{"emoji", "Doe😀", "at position 4"},
		{"emoji with variation selector", "Doe❤️", "at position 4"},
		{"variation selector after a letter", "Doe\ufe0f", "at position 4"},
		{"zero width joiner", "Do\u200de", "at position 3"},
		{"flag", "Doe🇩🇪", "at position 4"},
		{"at sign", "D@e", "at position 2"},
		{"exclamation mark", "Doe!", "at position 4"},
		{"dollar", "Doe$", "at position 4"},
		{"plus", "Doe+Roe", "at position 4"},
		{"caret", "Doe^", "at position 4"},
		{"copyright", "Doe©", "at position 4"},
		{"underscore", "Doe_Roe", "at position 4"},
		{"slash", "Doe/Roe", "at position 4"},
		{"ampersand", "Doe & Roe", "at position 5"},
		{"digit", "Doe2", "at position 4"},
		{"newline", "Doe\nRoe", "at position 4"},
		{"tab inside", "Doe\tRoe", "at position 4"},
		{"no-break space inside", "Doe\u00a0Roe", "at position 4"},
		{"control character", "Doe\x00", "at position 4"},
		{"invalid UTF-8", "Do\xffe", "last_name is not valid UTF-8"},
	}
	for _, tt := range invalid {
		t.Run("invalid/"+tt.name, func(t *testing.T) {
			err := CheckName("last_name", tt.value)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "last_name")
			assert.Contains(t, err.Error(), tt.want)
			if strings.TrimSpace(tt.value) != "" {
				assert.NotContains(t, err.Error(), strings.TrimSpace(tt.value), "the name is never echoed")
			}
		})
	}
}

func testPerson() signals.SolarisPerson {
	return signals.SolarisPerson{
		Salutation: "MS", FirstName: "Jane", LastName: "Doe", Mobile: "+49301234567", BirthDate: "1992-12-11",
		Nationality: "DE", Address: &signals.SolarisAddress{Line1: "Amrumerstrasse", Line2: "14", PostalCode: "13353",
			City: "Berlin", Country: "DE"},
		TermsConditionsSignedAt: &consentedAt, DataTermsSignedAt: &consentedAt,
	}
}

var consentedAt = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// TestCreatePersonRequiresMandatoryFields: seed 003's "POST Create person" lists the mandatory data points,
// consents included ("you must pass each timestamp"); a person without one is refused before any call, naming
// every missing field.
func TestCreatePersonRequiresMandatoryFields(t *testing.T) {
	tests := []struct {
		name   string
		change func(*signals.SolarisPerson)
		want   string
	}{
		{"no consent at all", func(p *signals.SolarisPerson) { p.TermsConditionsSignedAt, p.DataTermsSignedAt = nil, nil },
			"missing mandatory data_terms_signed_at, terms_conditions_signed_at"},
		{"no data processing consent", func(p *signals.SolarisPerson) { p.DataTermsSignedAt = nil }, "missing mandatory data_terms_signed_at"},
		{"no address", func(p *signals.SolarisPerson) { p.Address = nil }, "missing mandatory address"},
		{"no city", func(p *signals.SolarisPerson) { p.Address.City = "" }, "missing mandatory address.city"},
		{"no salutation nor mobile", func(p *signals.SolarisPerson) { p.Salutation, p.Mobile = "", "" },
			"missing mandatory salutation, mobile_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSolaris(t, respond(http.StatusCreated, personResponse))
			p := testPerson()
			addr := *p.Address
			p.Address = &addr
			tt.change(&p)
			_, err := f.client(t).CreatePerson(t.Context(), p)
			appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
			assert.Contains(t, appErr.Message(), tt.want)
			assert.Empty(t, f.Calls())
		})
	}
}

// personResponse is the seed's answer to POST /v1/persons (shortened): the whole person.
const personResponse = `{"id":"` + testPersonID + `","salutation":"MS","title":null,"first_name":"Jane","last_name":"Doe",
	"address":{"line_1":"Amrumerstrasse","line_2":"14","postal_code":"13353","city":"Berlin","country":"DE","state":null},
	"mobile_number":"+49301234567","birth_date":"1992-12-11","nationality":"DE","screening_progress":"NOT_SCREENED"}`

func TestCreatePerson(t *testing.T) {
	f := newFakeSolaris(t, respond(http.StatusCreated, personResponse))
	id, err := f.client(t).CreatePerson(t.Context(), testPerson())
	require.NoError(t, err)
	assert.Equal(t, testPersonID, id)

	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, http.MethodPost, calls[0].Method)
	assert.Equal(t, "/v1/persons", calls[0].Path)
	assert.Empty(t, calls[0].RawQuery)
	assert.Equal(t, "application/json", calls[0].ContentType)
	assert.Equal(t, "Bearer tok-1", calls[0].Auth)
	assert.JSONEq(t, `{"salutation":"MS","first_name":"Jane","last_name":"Doe","mobile_number":"+49301234567",
		"birth_date":"1992-12-11","nationality":"DE",
		"address":{"line_1":"Amrumerstrasse","line_2":"14","postal_code":"13353","city":"Berlin","country":"DE"},
		"terms_conditions_signed_at":"2022-01-01T00:00:00Z","data_terms_signed_at":"2022-01-01T00:00:00Z"}`, calls[0].Body)
}

func TestCreatePersonValidatesNamesBeforeAnyCall(t *testing.T) {
	f := newFakeSolaris(t, respond(http.StatusCreated, personResponse))
	p := testPerson()
	p.FirstName = " Jane😀"
	p.LastName = strings.Repeat("Doe", 17)
	_, err := f.client(t).CreatePerson(t.Context(), p)
	appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidArgument, false)
	assert.Contains(t, appErr.Message(), "solaris: create person: first_name must not start with whitespace")
	assert.Contains(t, appErr.Message(), "last_name is 51 characters long")
	assert.NotContains(t, appErr.Message(), "Jane")
	assert.NotContains(t, appErr.Message(), "DoeDoe")
	assert.Empty(t, f.Calls())
	assert.Zero(t, f.tokens.Load())
}

func TestCreatePersonErrors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		wantType      string
		wantRetryable bool
		wantIn        []string
		wantNotIn     []string
	}{
		{name: "residency country, as in the seed", status: 400,
			body: `{"errors":[{"id":"24b0e02a-341d-40bc-9e52-0d9f8cc8c6eb","status":400,"code":"invalid_model","title":"Invalid Model",` +
				`"detail":"country Residency Country is not allowed for this branch,allowed residency country values for branch \"null\" are [\"DE\", \"FR\"]",` +
				`"source":{"field":"country","message":"Residency Country is not allowed for this branch"}}]}`,
			wantType: providerhttp.ErrTypeBadRequest,
			wantIn:   []string{"solaris: create person: HTTP 400", `are ["DE", "FR"] (code=invalid_model)`}},
		{name: "personal data quoted back is redacted", status: 422,
			body: `{"errors":[{"id":"1","status":422,"code":"validation_error","title":"Validation Error",` +
				`"detail":"first_name 'Jane' does not match, birth_date 1992-12-11 invalid, city Berlin, mobile +49301234567"}]}`,
			wantType:  providerhttp.ErrTypeBadRequest,
			wantIn:    []string{"first_name '[redacted]' does not match", "birth_date [redacted] invalid", "(code=validation_error)"},
			wantNotIn: []string{"Jane", "1992-12-11", "Berlin", "+49301234567"}},
		{name: "duplicate", status: 409, body: `{"errors":[{"id":"1","status":409,"code":"conflict","title":"Conflict","detail":"Person Jane Doe exists"}]}`,
			wantType: providerhttp.ErrTypeConflict, wantNotIn: []string{"Jane", "Doe"}},
		{name: "429 keeps its delay", status: 429, body: `{"errors":[{"id":"1","status":429,"code":"x","detail":"slow down, Jane"}]}`,
			wantType: providerhttp.ErrTypeRateLimited, wantRetryable: true, wantNotIn: []string{"Jane"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSolaris(t, respond(tt.status, tt.body))
			_, err := f.client(t).CreatePerson(t.Context(), testPerson())
			appErr := requireAppError(t, err, tt.wantType, tt.wantRetryable)
			for _, want := range tt.wantIn {
				assert.Contains(t, appErr.Message(), want)
			}
			for _, notWant := range tt.wantNotIn {
				assert.NotContains(t, appErr.Message(), notWant)
			}
			if tt.status == http.StatusTooManyRequests {
				assert.Equal(t, providerhttp.DefaultRateLimitDelay, appErr.NextRetryDelay())
			}
		})
	}
}

func TestCreatePersonUnusableResponse(t *testing.T) {
	for _, body := range []string{`{"first_name":"Jane"}`, `{"id":""}`, `not json`, `{"id":"a/b","first_name":"Jane"}`} {
		f := newFakeSolaris(t, respond(http.StatusCreated, body))
		_, err := f.client(t).CreatePerson(t.Context(), testPerson())
		appErr := requireAppError(t, err, providerhttp.ErrTypeInvalidResponse, true)
		assert.NotContains(t, appErr.Message(), "Jane")
	}
}
