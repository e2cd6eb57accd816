package sandbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

func TestTreezorLivenessHappyPath(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	user := h.userFor(signals.MethodTreezorLiveness, "HAPPYPATH")
	wf := signals.WorkflowID(signals.ProviderTreezor, user)

	id, err := h.tz.InitiateLiveness(bg(), user, "https://signup.example.test/done")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(id.URL, h.api.URL+"/sessions/"), id.URL)

	got := h.waitSignals(2, forWorkflow(wf))
	require.Equal(t, signals.SignalTreezorKycLivenessCreate, got[0].Name)
	require.Equal(t, signals.SignalTreezorKycLivenessUpdate, got[1].Name)
	update := got[1].Payload.(signals.TreezorLivenessEvent)
	require.Equal(t, signals.LivenessStatusProcessed, update.KycStatus)
	require.Equal(t, 1, *update.Score)
	require.Equal(t, user, update.UserID)

	// Documents only after PUT kycliveness, the review only after PUT Kycreview.
	time.Sleep(100 * time.Millisecond)
	require.Len(t, h.matching(forWorkflow(wf)), 2)
	require.NoError(t, h.tz.RetrieveLivenessDocuments(bg(), user))
	docs := h.waitSignals(2, named(wf, signals.SignalTreezorDocumentCreate))
	// In no promised order (seed 001 does not give one): the synthesis document is one of the two, and GET
	// /v1/documents lists both.
	var types []int
	for _, d := range docs {
		types = append(types, d.Payload.(signals.TreezorDocumentEvent).DocumentTypeID)
	}
	require.ElementsMatch(t, []int{9, signals.DocumentTypeCertifiedLivenessResult}, types)
	listed, err := h.tz.ListDocuments(bg(), user, time.Time{})
	require.NoError(t, err)
	require.Len(t, listed, 2)

	kyc, err := h.tz.RequestKYCReview(bg(), user, "review-1")
	require.NoError(t, err)
	require.Equal(t, signals.KycReviewPending, kyc.KycReview)
	reviews := h.waitSignals(2, named(wf, signals.SignalTreezorKycReview))
	require.Equal(t, signals.KycReviewOpen, reviews[0].Payload.(signals.TreezorKycReviewEvent).KycReview)
	require.Equal(t, signals.KycReviewValidated, reviews[1].Payload.(signals.TreezorKycReviewEvent).KycReview)
	kyc, err = h.tz.GetUserKYC(bg(), user)
	require.NoError(t, err)
	require.Equal(t, signals.KycReviewValidated, kyc.KycReview, "GET reflects the webhook")

	// The same accessTag is the same request: no second review.
	_, err = h.tz.RequestKYCReview(bg(), user, "review-1")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	require.Len(t, h.matching(named(wf, signals.SignalTreezorKycReview)), 2)
}

// TestTreezorSignature checks the signed bytes independently of the relay: object_payload is in PHP's
// json_encode form (non-ASCII as \u escapes, "/" escaped) and object_payload_signature is its base64 HMAC-SHA256.
func TestTreezorSignature(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	user := h.userFor(signals.MethodTreezorLiveness, "HAPPYPATH")
	_, err := h.tz.InitiateLiveness(bg(), user, "")
	require.NoError(t, err)
	h.waitSignals(2, forWorkflow(signals.WorkflowID(signals.ProviderTreezor, user)))

	d := h.deliveries(func(d delivery) bool { return d.Path == "/webhooks/treezor" })
	require.NotEmpty(t, d)
	var env struct {
		Webhook   string          `json:"webhook"`
		WebhookID string          `json:"webhook_id"`
		CreatedAt string          `json:"webhook_created_at"`
		Payload   json.RawMessage `json:"object_payload"`
		Signature string          `json:"object_payload_signature"`
	}
	require.NoError(t, json.Unmarshal(d[0].Body, &env))
	require.Contains(t, string(env.Payload), `V\u00e9rification en cours \/ verification under way`)
	for _, c := range d[0].Body {
		require.Less(t, c, byte(0x80), "the body is ASCII")
	}
	mac := hmac.New(sha256.New, []byte(sandbox.DevWebhookSecrets().Treezor))
	mac.Write(env.Payload)
	require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), env.Signature)
	require.Len(t, env.WebhookID, 36)
	require.Len(t, env.CreatedAt, 14, "10^-4 seconds since the epoch")
	require.Equal(t, 200, d[0].Status)
}

func TestTreezorRequiredFields(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	liveness := h.userFor(signals.MethodTreezorLiveness, "INCOMPLETE")
	_, err := h.tz.InitiateLiveness(bg(), liveness, "")
	require.Equal(t, providerhttp.ErrTypeUserDataIncomplete, errType(err), "%v", err)
	require.Contains(t, err.Error(), "birthday")

	qes := h.userFor(signals.MethodTreezorQES, "INCOMPLETE")
	_, err = h.tz.InitiateQES(bg(), qes, "")
	require.Equal(t, providerhttp.ErrTypeUserDataIncomplete, errType(err), "%v", err)
	require.Contains(t, err.Error(), "phone")

	// A liveness user needs no phone; an IDnow user no birthday.
	sc, _ := sandbox.Lookup(signals.MethodTreezorVideoConference, "HAPPYPATH")
	fields := sandbox.TreezorUserFields(sc, "Ada")
	delete(fields, "birthday")
	_, err = h.tz.InitiateVideoConference(bg(), h.treezorUser(fields), "")
	require.NoError(t, err)
}

func TestTreezorDocumentsWaitForProcessing(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	user := h.userFor(signals.MethodTreezorLiveness, "LINKEXPIRED")
	require.Error(t, h.tz.RetrieveLivenessDocuments(bg(), user), "no session yet")
	_, err := h.tz.InitiateLiveness(bg(), user, "")
	require.NoError(t, err)
	err = h.tz.RetrieveLivenessDocuments(bg(), user)
	require.Equal(t, treezor.ErrTypeLivenessNotProcessed, errType(err), "%v", err)

	gone := h.userFor(signals.MethodTreezorLiveness, "DOCUMENTSGONE")
	_, err = h.tz.InitiateLiveness(bg(), gone, "")
	require.NoError(t, err)
	h.waitSignals(2, forWorkflow(signals.WorkflowID(signals.ProviderTreezor, gone)))
	err = h.tz.RetrieveLivenessDocuments(bg(), gone)
	require.Equal(t, providerhttp.ErrTypeGone, errType(err), "%v", err)
}

func TestTreezorIdentScenarios(t *testing.T) {
	tests := []struct {
		method   signals.Method
		scenario string
		want     []string
		result   string
		reason   string
	}{
		{signals.MethodTreezorQES, "HAPPYPATH", []string{"qes.created", "qes.processing", "qes.finalized"}, signals.TreezorResultSuccess, ""},
		{signals.MethodTreezorQES, "ABORTIDENT", []string{"qes.aborted"}, signals.TreezorResultAborted, "3013"},
		{signals.MethodTreezorVideoConference, "CANCELED", []string{"videoConference.created", "videoConference.processing",
			"videoConference.finalized"}, signals.TreezorResultCanceled, "4101"},
		{signals.MethodTreezorVideoConference, "FRAUDIDENT", []string{"videoConference.created", "videoConference.processing",
			"videoConference.finalized"}, signals.TreezorResultFraudSuspicionConfirmed, "4204"},
	}
	h := newHarness(t, sandbox.Config{})
	for _, tc := range tests {
		t.Run(string(tc.method)+"/"+tc.scenario, func(t *testing.T) {
			user := h.userFor(tc.method, tc.scenario)
			var (
				ident treezor.Identification
				err   error
			)
			if tc.method == signals.MethodTreezorQES {
				ident, err = h.tz.InitiateQES(bg(), user, "")
			} else {
				ident, err = h.tz.InitiateVideoConference(bg(), user, "")
			}
			require.NoError(t, err)
			// The events name no user (seeds 000 and 002 list only result and reason): the relay finds the run by
			// the identification.
			got := h.waitSignals(len(tc.want), forWorkflow("by-reference/"+ident.ID))
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			require.Equal(t, tc.want, names)
			last := got[len(got)-1].Payload.(signals.TreezorIdentEvent)
			require.Equal(t, tc.result, last.Result)
			if tc.reason != "" {
				require.Equal(t, tc.reason, last.Reason.Code)
			}
		})
	}
}

func TestTreezorAuth(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	bad, err := treezor.New(treezor.Config{BaseURL: h.api.URL + "/treezor", ClientID: "kycflow-dev", ClientSecret: "wrong"})
	require.NoError(t, err)
	_, err = bad.GetUserKYC(bg(), "1")
	require.Equal(t, providerhttp.ErrTypeUnauthorized, errType(err), "%v", err)
	_, err = h.tz.GetUserKYC(bg(), "1")
	require.Equal(t, providerhttp.ErrTypeNotFound, errType(err), "%v", err)
}

// TestTreezorSEPATransferPayins: GET /v1/payins lists the payins into the user's wallet as the webhooks announce
// them (PENDING, then VALIDATED); a transfer made before the verification (SEPABEFORE) is listed VALIDATED at once
// and announces nothing.
func TestTreezorSEPATransferPayins(t *testing.T) {
	h := newHarness(t, sandbox.Config{})

	before := h.userFor(signals.MethodTreezorLiveness, "SEPABEFORE")
	_, err := h.tz.InitiateLiveness(bg(), before, "")
	require.NoError(t, err)
	payins, err := h.tz.ListValidatedPayins(bg(), sandbox.TreezorWalletID(before), time.Now().Add(-2*time.Hour))
	require.NoError(t, err)
	require.Len(t, payins, 1)
	require.Equal(t, treezor.Payin{ID: payins[0].ID, WalletID: sandbox.TreezorWalletID(before), UserID: before,
		Status: signals.PayinStatusValidated, PaymentMethodID: signals.PaymentMethodSEPACreditTransfer, Created: payins[0].Created}, payins[0])
	require.WithinDuration(t, time.Now().Add(-time.Hour), payins[0].Created, time.Minute, "made an hour before")
	wf := signals.WorkflowID(signals.ProviderTreezor, before)
	h.waitSignals(2, forWorkflow(wf)) // the liveness session's
	require.Empty(t, h.matching(named(wf, signals.SignalTreezorPayinCreate)), "no payin webhook now")
	require.Empty(t, h.matching(named(wf, signals.SignalTreezorPayinUpdate)))
	later, err := h.tz.ListValidatedPayins(bg(), sandbox.TreezorWalletID(before), time.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.Empty(t, later, "made an hour ago: not since a minute ago")
	other, err := h.tz.ListValidatedPayins(bg(), sandbox.TreezorWalletID(before)+"1", time.Time{})
	require.NoError(t, err)
	require.Empty(t, other, "another wallet's listing")

	during := h.userFor(signals.MethodTreezorLiveness, "SEPATRANSFER")
	_, err = h.tz.InitiateLiveness(bg(), during, "")
	require.NoError(t, err)
	wf = signals.WorkflowID(signals.ProviderTreezor, during)
	update := h.waitSignals(1, named(wf, signals.SignalTreezorPayinUpdate))[0].Payload.(signals.TreezorPayinEvent)
	require.Equal(t, signals.PayinStatusValidated, update.PayinStatus)
	payins, err = h.tz.ListValidatedPayins(bg(), sandbox.TreezorWalletID(during), time.Time{})
	require.NoError(t, err)
	require.Len(t, payins, 1)
	require.Equal(t, update.PayinID, payins[0].ID)
}

// TestTreezorReviewOnlyOnceEveryDocumentIsAnnounced: seed 001, "You can make your KYC Review request only once
// you've received all the document creation webhooks." A request made before is refused (400), counted in the
// subject's earlyReviews; once every document.create has gone out it is taken.
func TestTreezorReviewOnlyOnceEveryDocumentIsAnnounced(t *testing.T) {
	clock, err := sandbox.NewClock(2e-3) // 20 s of provider time until the first document: 40 ms here
	require.NoError(t, err)
	h := newHarness(t, sandbox.Config{Clock: clock})
	user := h.userFor(signals.MethodTreezorLiveness, "HAPPYPATH")
	wf := signals.WorkflowID(signals.ProviderTreezor, user)
	_, err = h.tz.InitiateLiveness(bg(), user, "https://signup.example.test/done")
	require.NoError(t, err)
	h.waitSignals(2, forWorkflow(wf))
	require.NoError(t, h.tz.RetrieveLivenessDocuments(bg(), user))

	_, err = h.tz.RequestKYCReview(bg(), user, "early")
	require.ErrorContains(t, err, "400")
	require.ErrorContains(t, err, "before Treezor sent the document.create webhooks of 2 of the user's documents")
	require.Equal(t, 1, h.stats("treezor/"+user).EarlyReviews)

	h.waitSignals(2, named(wf, signals.SignalTreezorDocumentCreate))
	kyc, err := h.tz.RequestKYCReview(bg(), user, "on-time")
	require.NoError(t, err)
	require.Equal(t, signals.KycReviewPending, kyc.KycReview)
	require.Equal(t, 1, h.stats("treezor/"+user).EarlyReviews)
}
