package sandbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/activities/yousign"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

func TestSolarisReviewScenario(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	person, err := h.sol.CreatePerson(bg(), solarisPerson(sandbox.SyntheticFirstName(nil), "CHANGEALLREVIEW"))
	require.NoError(t, err)

	created, err := h.sol.CreateIdentification(bg(), person, "DE", nil)
	require.NoError(t, err)
	require.Equal(t, signals.SolarisStatusCreated, created.Status)
	requested, err := h.sol.RequestIdentification(bg(), person, created.ID)
	require.NoError(t, err)
	require.Equal(t, signals.SolarisStatusPending, requested.Status)
	require.Contains(t, requested.URL, "/sessions/"+created.ID)

	wf := "by-reference/" + created.ID
	got := h.waitSignals(4, forWorkflow(wf))
	var statuses []string
	for _, s := range got {
		ev := s.Payload.(signals.SolarisIdentificationEvent)
		require.Equal(t, created.ID, ev.IdentificationID)
		statuses = append(statuses, ev.Status)
	}
	// created is sent on creation, the others in one sequence after the request: only theirs is ordered.
	require.ElementsMatch(t, []string{"created", "pending", "pending_successful", "successful"}, statuses)
	require.Equal(t, []string{"pending", "pending_successful", "successful"}, slices.DeleteFunc(statuses, func(s string) bool { return s == "created" }))

	ident, err := h.sol.GetIdentification(bg(), person, created.ID, true)
	require.NoError(t, err)
	require.Equal(t, signals.SolarisStatusSuccessful, ident.Status)
	require.False(t, ident.CompletedAt.IsZero())
	require.Len(t, ident.Documents, 2)
	require.Equal(t, "KYC_REPORT", ident.Documents[0].Type)

	// The signature header is the hex HMAC of the raw body, with or without "sha256=" (Solaris does not document
	// the layout), with the headers Solaris sends.
	d := h.deliveries(func(d delivery) bool { return d.Path == "/webhooks/solaris" })
	for _, one := range d {
		mac := hmac.New(sha256.New, []byte(sandbox.DevWebhookSecrets().Solaris))
		mac.Write(one.Body)
		want := hex.EncodeToString(mac.Sum(nil))
		require.Contains(t, []string{want, "sha256=" + want}, one.Header.Get("Solaris-Webhook-Signature"))
	}
	require.Equal(t, "IDENTIFICATION", d[0].Header.Get("Solaris-Webhook-Event-Type"))
	require.Equal(t, "1", d[0].Header.Get("Solaris-Webhook-Attempt"))
	require.NotEmpty(t, d[0].Header.Get("Solaris-Webhook-Id"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(d[len(d)-1].Body, &body))
	require.NotContains(t, body, "person_id", "the documented payload names no person")
}

func TestSolarisFailureReason(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	person, err := h.sol.CreatePerson(bg(), solarisPerson("Ada", "ABORTIDENT"))
	require.NoError(t, err)
	id, err := h.sol.CreateIdentification(bg(), person, "", nil)
	require.NoError(t, err)
	_, err = h.sol.RequestIdentification(bg(), person, id.ID)
	require.NoError(t, err)
	h.waitSignals(3, forWorkflow("by-reference/"+id.ID))
	got, err := h.sol.GetIdentification(bg(), person, id.ID, false)
	require.NoError(t, err)
	require.Equal(t, signals.SolarisStatusAborted, got.Status)
	require.Equal(t, "BAD_VIDEO", got.FailureReason)
}

// solarisPerson is a complete person (every mandatory data point of seed 003) for a scenario.
func solarisPerson(first, scenario string) signals.SolarisPerson {
	return sandbox.SolarisPersonFields(sandbox.Scenario{Method: signals.MethodSolarisIDnow, Name: scenario}, first)
}

// TestSolarisPersonMandatoryFields: the sandbox refuses, as seed 003 requires, a person without one of its
// mandatory data points, the consent timestamps included; kycflow's client refuses it before any call.
func TestSolarisPersonMandatoryFields(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	token := h.solarisToken()
	complete := solarisPerson("Ada", "HAPPYPATH")
	for _, field := range []string{"terms_conditions_signed_at", "data_terms_signed_at", "mobile_number", "address", "salutation"} {
		t.Run(field, func(t *testing.T) {
			var body map[string]any
			raw, err := json.Marshal(complete)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &body))
			delete(body, field)
			status, answer := h.solarisPost(token, "/solaris/v1/persons", body)
			require.Equal(t, http.StatusBadRequest, status)
			require.Contains(t, answer, field+" ")

			p := complete
			require.NoError(t, json.Unmarshal(raw, &p))
			switch field {
			case "terms_conditions_signed_at":
				p.TermsConditionsSignedAt = nil
			case "data_terms_signed_at":
				p.DataTermsSignedAt = nil
			case "mobile_number":
				p.Mobile = ""
			case "address":
				p.Address = nil
			case "salutation":
				p.Salutation = ""
			}
			_, err = h.sol.CreatePerson(bg(), p)
			require.Equal(t, providerhttp.ErrTypeInvalidArgument, errType(err), "%v", err)
			require.Contains(t, err.Error(), field)
		})
	}
	t.Run("a consent not in UTC", func(t *testing.T) {
		raw, _ := json.Marshal(complete)
		var body map[string]any
		require.NoError(t, json.Unmarshal(raw, &body))
		body["data_terms_signed_at"] = "2022-01-01T01:00:00+01:00"
		status, answer := h.solarisPost(token, "/solaris/v1/persons", body)
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, answer, "UTC timestamp")
	})
	status, _ := h.solarisPost(token, "/solaris/v1/persons", complete)
	require.Equal(t, http.StatusCreated, status, "the complete person is taken")
}

func TestSolarisPersonValidation(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	// kycflow's client checks names first; the sandbox checks them too, for other callers.
	_, err := h.sol.CreatePerson(bg(), solarisPerson("Ada", "NOSUCHCASE"))
	require.Equal(t, providerhttp.ErrTypeBadRequest, errType(err), "%v", err)
	require.Contains(t, err.Error(), "NOSUCHCASE")
}

func TestYousignInconclusiveThenVerified(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	first, last := sandbox.SyntheticFirstName(nil), sandbox.AutotestPrefix+"INCONCLUSIVETHENVERIFIED"
	one, err := h.ys.CreateVerification(bg(), first, last, "https://signup.example.test/done")
	require.NoError(t, err)
	require.Equal(t, signals.YousignStatusPending, one.Status)
	done := h.waitSignals(1, forWorkflow("by-reference/"+one.ID))
	ev := done[0].Payload.(signals.YousignVerificationEvent)
	require.Equal(t, signals.YousignStatusInconclusive, ev.Status)
	require.Equal(t, []string{"IDVV_1113"}, ev.StatusCodes)

	two, err := h.ys.CreateVerification(bg(), first, last, "https://signup.example.test/done")
	require.NoError(t, err)
	done = h.waitSignals(1, forWorkflow("by-reference/"+two.ID))
	require.Equal(t, signals.YousignStatusVerified, done[0].Payload.(signals.YousignVerificationEvent).Status)
	got, err := h.ys.GetVerification(bg(), two.ID)
	require.NoError(t, err)
	require.Equal(t, signals.YousignStatusVerified, got.Status)
	got, err = h.ys.GetVerification(bg(), one.ID)
	require.NoError(t, err)
	require.Equal(t, signals.YousignStatusInconclusive, got.Status)

	d := h.deliveries(func(d delivery) bool { return d.Path == "/webhooks/yousign" })
	mac := hmac.New(sha256.New, []byte(sandbox.DevWebhookSecrets().Yousign))
	mac.Write(d[0].Body)
	require.Equal(t, "sha256="+hex.EncodeToString(mac.Sum(nil)), d[0].Header.Get("X-Yousign-Signature-256"))
	require.Equal(t, "0", d[0].Header.Get("X-Yousign-Retry"))
	require.Equal(t, 2, h.stats("yousign/"+sandbox.NameKey(first, last)).Webhooks)
}

func TestYousignNeverFinishedComesAfterTheDeadline(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	start := time.Now()
	v, err := h.ys.CreateVerification(bg(), "Ada", sandbox.AutotestPrefix+"NEVERFINISHED", "https://signup.example.test/done")
	require.NoError(t, err)
	done := h.waitSignals(1, forWorkflow("by-reference/"+v.ID))
	require.GreaterOrEqual(t, time.Since(start), testClock.Deadline(7*24*time.Hour), "after the verification's 7 days")
	require.Equal(t, []string{"IDVV_1199"}, done[0].Payload.(signals.YousignVerificationEvent).StatusCodes)
}

func TestYousignValidation(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	bad, err := yousign.New(yousign.Config{BaseURL: h.api.URL + "/yousign/v3", APIKey: "wrong"})
	require.NoError(t, err)
	_, err = bad.GetVerification(bg(), "nope")
	require.Equal(t, providerhttp.ErrTypeUnauthorized, errType(err), "%v", err)
	_, err = h.ys.GetVerification(bg(), "nope")
	require.Equal(t, providerhttp.ErrTypeNotFound, errType(err), "%v", err)
	_, err = h.ys.CreateVerification(bg(), "Ada", sandbox.AutotestPrefix+"NOSUCHCASE", "https://signup.example.test/done")
	require.Equal(t, providerhttp.ErrTypeBadRequest, errType(err), "%v", err)
}
