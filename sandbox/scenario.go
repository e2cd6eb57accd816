package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kycflow/kycflow/signals"
)

// Scenario is one row of the scenario table: a method, the name that selects it, what the sandbox does, and the
// outcome kycflow must reach. The plan fields say what the sandbox does; Cancel and OmitUserFields say what the
// backend running the scenario does.
type Scenario struct {
	Method signals.Method `json:"method"`
	// Name is the test case that follows the X-AUTOTEST- (or X-MANUALTEST-) prefix in the subject's name.
	Name string `json:"name"`
	// Does says in a line what the sandbox does.
	Does string `json:"does"`
	// Seed is the passage of the provider's documentation the scenario plays, quoted (see scenarioSeeds).
	Seed string `json:"seed"`
	// Expected is the outcome kycflow must reach; Cause is the failed outcome's cause.
	Expected signals.OutcomeStatus `json:"expected"`
	Cause    string                `json:"cause,omitempty"`

	// OmitUserFields are the fields the backend leaves out when it creates the Treezor user or the Solaris person.
	OmitUserFields []string `json:"omitUserFields,omitempty"`
	// Rejected, when set, is the field at fault in a request refused before any verification starts (kycflow's
	// client checks it): the scenario's expected result instead of an outcome.
	Rejected string `json:"rejected,omitempty"`
	// NoAddressOnDocument: the customer identifies with a document that does not show their address (a passport),
	// so Solaris requires a proof of address with the identification. ProofOfAddress: the backend sends one.
	NoAddressOnDocument bool `json:"noAddressOnDocument,omitempty"`
	ProofOfAddress      bool `json:"proofOfAddress,omitempty"`
	// RenewAfter, when set, is when (from the start) the backend asks for a URL again (starter.Renew), as when
	// the user comes back.
	RenewAfter At `json:"-"`
	// StaleSession are kycliveness webhooks of the user's previous session (another identification-id) that
	// Treezor delivers while this one runs: they must change nothing.
	StaleSession []LivenessStep `json:"-"`
	// SEPA: the verification has Treezor's extra validation step (signals.SEPAValidation, on the wallet
	// TreezorWalletID names); SEPATransfer, when set, is when after the initiation the user's transfer reaches the
	// wallet (payin.create PENDING, then payin.update VALIDATED).
	SEPA         bool `json:"sepa,omitempty"`
	SEPATransfer At   `json:"-"`
	// SEPATransferBefore: the user's transfer reached the wallet an hour before the verification started. Treezor
	// holds it VALIDATED (GET /v1/payins lists it); its webhooks went out when no run existed to take them, and
	// the relay's "unwanted" answer means Treezor does not send them again, so none comes now.
	SEPATransferBefore bool `json:"sepaTransferBefore,omitempty"`
	// Cancel: the backend cancels the verification once it has the identification URL.
	Cancel bool `json:"cancel,omitempty"`

	// Unavailable: every API call about the subject answers 503.
	Unavailable bool `json:"-"`
	// Liveness are the kycliveness webhooks after POST kycliveness; DocumentsError, when set, is the error PUT
	// kycliveness answers for a validated session (410, 405).
	Liveness       []LivenessStep `json:"-"`
	DocumentsError int            `json:"-"`
	// Ident are the qes.* or videoConference.* webhooks after the identification is initiated.
	Ident []IdentStep `json:"-"`
	// Review is Treezor's KYC review decision after PUT Kycreview (nil: validated).
	Review *ReviewPlan `json:"-"`
	// Solaris are the identification's status changes after PATCH .../request.
	Solaris []SolarisStep `json:"-"`
	// Yousign is the result of each verification opened for the person: the n-th verification follows
	// Yousign[n-1], the last entry repeating.
	Yousign []YousignStep `json:"-"`
}

// Key names the scenario in logs, tables and test names: "treezor-liveness/HAPPYPATH".
func (s Scenario) Key() string { return string(s.Method) + "/" + s.Name }

// DecidesPastReviewBound reports whether the provider's decision (liveness processing, a QES or video conference
// result, IDnow's second-line review, Treezor's KYC review) comes after the workflow's 24-hour review bound: the
// verification goes overdue before the decision ends it.
func (s Scenario) DecidesPastReviewBound() bool {
	past := func(a At) bool { return a.PastDeadline == reviewBound }
	if s.Review != nil && past(s.Review.At) {
		return true
	}
	for _, l := range s.Liveness {
		if past(l.At) {
			return true
		}
	}
	for _, i := range s.Ident {
		if past(i.At) {
			return true
		}
	}
	for _, st := range s.Solaris {
		if past(st.At) {
			return true
		}
	}
	return false
}

// LastName is the name that selects the scenario, following IDnow's convention.
func (s Scenario) LastName() string { return AutotestPrefix + s.Name }

// ExpectedText is the expected outcome as the demo prints it: "approved", "failed (user_data_incomplete)", or
// "rejected (terms_conditions_signed_at)" for a request refused before it starts.
func (s Scenario) ExpectedText() string {
	if s.Rejected != "" {
		return RejectedText(s.Rejected)
	}
	return OutcomeText(s.Expected, s.Cause)
}

// RejectedText formats a request refused before it started, naming the field at fault.
func RejectedText(field string) string { return "rejected (" + field + ")" }

// OutcomeText formats an outcome status with its cause, if any.
func OutcomeText(status signals.OutcomeStatus, cause string) string {
	if cause == "" {
		return string(status)
	}
	return fmt.Sprintf("%s (%s)", status, cause)
}

// At is when a step happens, counted from the step before it (or from the call that set the steps off).
type At struct {
	// After is a provider delay; the clock compresses it.
	After time.Duration
	// PastDeadline, when set, puts the step after a workflow deadline of this length has passed, however the clock
	// compresses it (After is then ignored): the step is meant to come too late.
	PastDeadline time.Duration
}

func after(d time.Duration) At        { return At{After: d} }
func pastDeadline(d time.Duration) At { return At{PastDeadline: d} }

// Real is the step's real delay on this clock.
func (c Clock) Real(a At) time.Duration { return c.real(a) }

// real is the step's real delay on this clock.
func (c Clock) real(a At) time.Duration {
	if a.PastDeadline > 0 {
		return c.PastDeadline(a.PastDeadline)
	}
	return c.Duration(a.After)
}

// Reason is a provider reason code with its text.
type Reason struct {
	Code    string
	Message string
}

// LivenessStep is one kycliveness webhook (and the state change it reports).
type LivenessStep struct {
	At    At
	Event string // signals.SignalTreezorKycLivenessCreate or ...Update
	// Status is the kyc-status: processing or processed.
	Status string
	// Score is set once processed: 1 validated, 0 refused, -1 failed.
	Score   *int
	Reasons []Reason
}

// IdentEvent is a step of Treezor's IDnow-backed methods; the webhook name depends on the method (qes.created,
// videoConference.created, ...).
type IdentEvent int

// The QES and video conference events.
const (
	IdentCreated IdentEvent = iota
	IdentProcessing
	IdentAborted
	IdentFinalized
)

// IdentStep is one qes.* or videoConference.* webhook.
type IdentStep struct {
	At     At
	Event  IdentEvent
	Result string
	Reason *Reason
}

// ReviewPlan is Treezor's KYC review: an intermediate user.kycreview (review open) 30 seconds after PUT Kycreview,
// then the decision.
type ReviewPlan struct {
	At        At
	KycReview int // signals.KycReviewValidated or KycReviewRefused
}

// SolarisStep is one status change of a Solaris identification, announced by an IDENTIFICATION webhook.
type SolarisStep struct {
	At            At
	Status        string
	FailureReason string
}

// YousignStep is the result of one Yousign verification, announced by verification.identity_video.done.
type YousignStep struct {
	At     At
	Status string
	Codes  []string
}

// Name prefixes of IDnow's test scenarios. X-AUTOTEST automates the user and the agent; X-MANUALTEST lets a
// person click through, which the sandbox plays the same way.
const (
	AutotestPrefix   = "X-AUTOTEST-"
	ManualtestPrefix = "X-MANUALTEST-"
)

// Timings of the scenarios, in provider time.
const (
	userSession  = 3 * time.Minute  // the user goes through the session
	agentReview  = 2 * time.Minute  // IDnow reviews test identifications "right away (~1-2 minutes delay)"
	kycReview    = 2 * time.Minute  // Treezor's compliance team, in the sandbox
	documentsLag = 20 * time.Second // Treezor stores the live verification documents
	reviewBound  = signals.ReviewBound
	idnowLink    = signals.IDnowURLValidity
	yousignLife  = 7 * 24 * time.Hour
)

func score(n int) *int { return &n }

var (
	validated = &ReviewPlan{At: after(kycReview), KycReview: signals.KycReviewValidated}
	refused   = &ReviewPlan{At: after(kycReview), KycReview: signals.KycReviewRefused}

	livenessValidated = []LivenessStep{
		{At: after(userSession), Event: signals.SignalTreezorKycLivenessCreate, Status: signals.LivenessStatusProcessing},
		{At: after(time.Minute), Event: signals.SignalTreezorKycLivenessUpdate, Status: signals.LivenessStatusProcessed, Score: score(1)},
	}
)

// livenessScenarios are Treezor live verification's: the score of the session, then Treezor's KYC review.
var livenessScenarios = []Scenario{
	{Name: "HAPPYPATH", Does: "session done, score 1; documents stored after PUT kycliveness; KYC review validated",
		Expected: signals.OutcomeApproved, Liveness: livenessValidated, Review: validated},
	// Seed 001: Liveness "Requires a video of the end user, their identity proof, and a SEPA transfer into their
	// Treezor Wallet as an extra validation step."
	{Name: "SEPATRANSFER", Does: "score 1; the user's SEPA transfer reaches the wallet after the documents; KYC review validated",
		Expected: signals.OutcomeApproved, Liveness: livenessValidated, Review: validated, SEPA: true,
		SEPATransfer: after(userSession + time.Hour)},
	{Name: "SEPANEVER", Does: "score 1; the SEPA validation transfer never comes: expired",
		Expected: signals.OutcomeExpired, Liveness: livenessValidated, Review: validated, SEPA: true},
	{Name: "SEPABEFORE", Does: "score 1; the user's SEPA transfer reached the wallet before the verification started (no webhook now); KYC review validated",
		Expected: signals.OutcomeApproved, Liveness: livenessValidated, Review: validated, SEPA: true, SEPATransferBefore: true},
	// Treezor's workflow IDs are per user: a previous session's late or redelivered webhooks reach this run. Seed
	// 001: "The newer request replaces the previous one"; its events are another session's, matched by
	// identification-id.
	{Name: "STALESESSION", Does: "a previous session's kycliveness.update (score 0) arrives during this one, which is validated",
		Expected: signals.OutcomeApproved, Liveness: livenessValidated, Review: validated,
		StaleSession: []LivenessStep{{At: after(time.Minute), Event: signals.SignalTreezorKycLivenessUpdate,
			Status: signals.LivenessStatusProcessed, Score: score(0), Reasons: []Reason{{Code: "2101", Message: "expired document"}}}}},
	{Name: "REFUSED", Does: "session done, score 0 (2101 expired document)", Expected: signals.OutcomeRefused,
		Liveness: []LivenessStep{
			{At: after(userSession), Event: signals.SignalTreezorKycLivenessCreate, Status: signals.LivenessStatusProcessing},
			{At: after(time.Minute), Event: signals.SignalTreezorKycLivenessUpdate, Status: signals.LivenessStatusProcessed,
				Score: score(0), Reasons: []Reason{{"2101", "Applicant presented an expired document"}}},
		}},
	{Name: "FAILED", Does: "the user abandons, score -1 (1201 insufficient connection)",
		Expected: signals.OutcomeFailed, Cause: signals.CauseVerificationFailed,
		Liveness: []LivenessStep{
			{At: after(userSession), Event: signals.SignalTreezorKycLivenessCreate, Status: signals.LivenessStatusProcessing},
			{At: after(time.Minute), Event: signals.SignalTreezorKycLivenessUpdate, Status: signals.LivenessStatusProcessed,
				Score: score(-1), Reasons: []Reason{{"1201", "Applicant did not have a sufficient connexion"}}},
		}},
	{Name: "LINKEXPIRED", Does: "the user never opens the link; it expires after 15 minutes", Expected: signals.OutcomeExpired},
	{Name: "KYCREFUSED", Does: "score 1, documents stored; KYC review refused", Expected: signals.OutcomeRefused,
		Liveness: livenessValidated, Review: refused},
	// Treezor: the KYC review takes "about 24h, but may take up to 48h or more (working days only)". A decision
	// after kycflow's 24-hour bound finds the verification overdue and decides it.
	{Name: "KYCLONGREVIEW", Does: "score 1, documents stored; the KYC review validates only after the 24-hour bound",
		Expected: signals.OutcomeApproved, Liveness: livenessValidated,
		Review: &ReviewPlan{At: pastDeadline(reviewBound), KycReview: signals.KycReviewValidated}},
	{Name: "KYCNEVER", Does: "score 1, documents stored; the KYC review stays open (kycReview 6) past the 14-day overdue limit",
		Expected: signals.OutcomeReviewTimeout, Liveness: livenessValidated,
		Review: &ReviewPlan{At: after(kycReview), KycReview: signals.KycReviewOpen}},
	{Name: "NOSCORE", Does: "session done; the partner scores it (1) only after the 24-hour bound; KYC review validated",
		Expected: signals.OutcomeApproved, Liveness: []LivenessStep{
			{At: after(userSession), Event: signals.SignalTreezorKycLivenessCreate, Status: signals.LivenessStatusProcessing},
			{At: pastDeadline(reviewBound), Event: signals.SignalTreezorKycLivenessUpdate, Status: signals.LivenessStatusProcessed, Score: score(1)},
		}, Review: validated},
	{Name: "DOCUMENTSGONE", Does: "score 1; PUT kycliveness answers 410 (identification no longer exists)",
		Expected: signals.OutcomeFailed, Cause: signals.CauseDocumentsUnavailable,
		Liveness: livenessValidated, DocumentsError: http.StatusGone},
	// Treezor's OpenAPI (put-kyc-liveness): "405: The documents can not be stored in our services"; no retry
	// changes that.
	{Name: "DOCUMENTSNOTSTORED", Does: "score 1; PUT kycliveness answers 405 (documents can not be stored)",
		Expected: signals.OutcomeFailed, Cause: signals.CauseDocumentsUnavailable,
		Liveness: livenessValidated, DocumentsError: http.StatusMethodNotAllowed},
	{Name: "INCOMPLETE", Does: "the user has no birthday: POST kycliveness answers 428",
		Expected: signals.OutcomeFailed, Cause: signals.CauseUserDataIncomplete, OmitUserFields: []string{"birthday"}},
}

// identCodes are the reason codes of one of Treezor's IDnow-backed methods.
type identCodes struct {
	abort, cancel, fraud Reason
}

var (
	qesCodes = identCodes{
		abort:  Reason{"3013", "USER_CANCELLATION_APP_NOT_RESPONDING"},
		cancel: Reason{"3101", "ID_BLURRY"},
		fraud:  Reason{"3204", "WARNING_MANIPULATED_DATA"},
	}
	videoConferenceCodes = identCodes{
		abort:  Reason{"4011", "USER_CANCELLATION_APP_NOT_RESPONDING"},
		cancel: Reason{"4101", "ID_BLURRY"},
		fraud:  Reason{"4204", "WARNING_MANIPULATED_DATA"},
	}
)

// identSteps is a session the user completes, followed by the provider's result.
func identSteps(processing string, finalAt At, result string, reason *Reason) []IdentStep {
	return []IdentStep{
		{At: after(userSession), Event: IdentCreated, Result: signals.TreezorResultStart},
		{At: after(5 * time.Second), Event: IdentProcessing, Result: processing},
		{At: finalAt, Event: IdentFinalized, Result: result, Reason: reason},
	}
}

// identScenarios are the IDnow test cases as Treezor's QES and video conference report them, then Treezor's KYC
// review. IDnow runs HOLDCERTIFICATE with eSigning (QES) only; FRAUDIDENT, which IDnow does not support with
// eSigning, is played for QES too so that every outcome of the method can be reached.
func identScenarios(codes identCodes, qes bool) []Scenario {
	success := identSteps(signals.TreezorResultReviewPending, after(agentReview), signals.TreezorResultSuccess, nil)
	rows := []Scenario{
		{Name: "HAPPYPATH", Does: "session done, result SUCCESS; KYC review validated", Expected: signals.OutcomeApproved,
			Ident: success, Review: validated},
		{Name: "CHANGEALL", Does: "session done, result SUCCESS_DATA_CHANGE; KYC review validated", Expected: signals.OutcomeApproved,
			Ident:  identSteps(signals.TreezorResultReviewPending, after(agentReview), signals.TreezorResultSuccessDataChange, nil),
			Review: validated},
		{Name: "CHANGEALLREVIEW", Does: "session done, data changed during the review: SUCCESS_DATA_CHANGE; KYC review validated",
			Expected: signals.OutcomeApproved,
			Ident:    identSteps(signals.TreezorResultReviewPending, after(2*agentReview), signals.TreezorResultSuccessDataChange, nil),
			Review:   validated},
		{Name: "ABORTIDENT", Does: fmt.Sprintf("the session is aborted (%s); the user never comes back", codes.abort.Code),
			Expected: signals.OutcomeAborted,
			Ident:    []IdentStep{{At: after(userSession), Event: IdentAborted, Result: signals.TreezorResultAborted, Reason: &codes.abort}}},
		// Seed 000's result table: "START – The verification process has started." then "ABORTED – The end user
		// abandoned the verification process.": the user began, left, and never came back within the 14 days.
		{Name: "STARTABORTED", Does: fmt.Sprintf("the user starts the session (created, START), then aborts it (%s); they never come back", codes.abort.Code),
			Expected: signals.OutcomeAborted,
			Ident: []IdentStep{
				{At: after(time.Minute), Event: IdentCreated, Result: signals.TreezorResultStart},
				{At: after(userSession), Event: IdentAborted, Result: signals.TreezorResultAborted, Reason: &codes.abort},
			}},
		{Name: "FRAUDOK", Does: "FRAUD_SUSPICION_PENDING, cleared by the review: SUCCESS; KYC review validated",
			Expected: signals.OutcomeApproved,
			Ident:    identSteps(signals.TreezorResultFraudSuspicionPending, after(2*agentReview), signals.TreezorResultSuccess, nil),
			Review:   validated},
		{Name: "FRAUDIDENT", Does: fmt.Sprintf("FRAUD_SUSPICION_PENDING, then FRAUD_SUSPICION_CONFIRMED (%s)", codes.fraud.Code),
			Expected: signals.OutcomeFraudSuspected,
			Ident: identSteps(signals.TreezorResultFraudSuspicionPending, after(2*agentReview),
				signals.TreezorResultFraudSuspicionConfirmed, &codes.fraud)},
		{Name: "CANCELED", Does: fmt.Sprintf("session done, the review cancels it: CANCELED (%s)", codes.cancel.Code),
			Expected: signals.OutcomeCanceled,
			Ident:    identSteps(signals.TreezorResultReviewPending, after(agentReview), signals.TreezorResultCanceled, &codes.cancel)},
		// Seed 000/002: FRAUD_SUSPICION_PENDING – "Further verifications are made due to fraud suspicions", with no
		// documented bound: kycflow stays overdue until its hard limit.
		{Name: "FRAUDPENDING", Does: "FRAUD_SUSPICION_PENDING that never resolves, past the 14-day overdue limit",
			Expected: signals.OutcomeReviewTimeout,
			Ident: []IdentStep{
				{At: after(userSession), Event: IdentCreated, Result: signals.TreezorResultStart},
				{At: after(agentReview), Event: IdentFinalized, Result: signals.TreezorResultFraudSuspicionPending},
			}},
		{Name: "LONGREVIEW", Does: "session done; IDnow's review answers SUCCESS only after the 24-hour bound; KYC review validated",
			Expected: signals.OutcomeApproved,
			Ident:    identSteps(signals.TreezorResultReviewPending, pastDeadline(reviewBound), signals.TreezorResultSuccess, nil),
			Review:   validated},
	}
	if qes {
		// Seed 002: "For Germany, this option requires a SEPA transfer into the user's Wallet as an extra validation
		// step."
		rows = append(rows,
			Scenario{Name: "SEPATRANSFER", Does: "session done, SUCCESS; the user's SEPA transfer arrives; KYC review validated",
				Expected: signals.OutcomeApproved, Ident: success, Review: validated, SEPA: true, SEPATransfer: after(userSession + agentReview)},
			Scenario{Name: "SEPANEVER", Does: "session done, SUCCESS; the SEPA validation transfer never comes: expired",
				Expected: signals.OutcomeExpired, Ident: success, Review: validated, SEPA: true},
			Scenario{Name: "SEPABEFORE", Does: "session done, SUCCESS; the user's SEPA transfer reached the wallet before the verification started (no webhook now); KYC review validated",
				Expected: signals.OutcomeApproved, Ident: success, Review: validated, SEPA: true, SEPATransferBefore: true})
		rows = append(rows, Scenario{Name: "HOLDCERTIFICATE", Does: "session done; signed documents and result after 10 minutes: SUCCESS; KYC review validated",
			Expected: signals.OutcomeApproved,
			Ident:    identSteps(signals.TreezorResultReviewPending, after(10*time.Minute), signals.TreezorResultSuccess, nil),
			Review:   validated})
	}
	return append(rows,
		Scenario{Name: "KYCREFUSED", Does: "result SUCCESS; KYC review refused", Expected: signals.OutcomeRefused,
			Ident: success, Review: refused},
		Scenario{Name: "LINKEXPIRED", Does: "the user never opens the link; it expires after 14 days", Expected: signals.OutcomeExpired},
		Scenario{Name: "INCOMPLETE", Does: "the user has no phone: the initiation answers 428",
			Expected: signals.OutcomeFailed, Cause: signals.CauseUserDataIncomplete, OmitUserFields: []string{"phone"}},
	)
}

// solarisScenarios are IDnow's test cases as Solaris reports them.
var solarisScenarios = []Scenario{
	{Name: "HAPPYPATH", Does: "status successful; the KYC report is fetched", Expected: signals.OutcomeApproved,
		Solaris: []SolarisStep{{At: after(userSession + agentReview), Status: signals.SolarisStatusSuccessful}}},
	{Name: "CHANGEALL", Does: "status successful, with data changed during the identification", Expected: signals.OutcomeApproved,
		Solaris: []SolarisStep{{At: after(userSession + agentReview), Status: signals.SolarisStatusSuccessful}}},
	{Name: "CHANGEALLREVIEW", Does: "pending_successful, data changed in the second-line review, then successful",
		Expected: signals.OutcomeApproved, Solaris: []SolarisStep{
			{At: after(userSession), Status: signals.SolarisStatusPendingSuccessful},
			{At: after(agentReview), Status: signals.SolarisStatusSuccessful},
		}},
	{Name: "ABORTIDENT", Does: "the agent aborts (BAD_VIDEO); the user never comes back before the link expires",
		Expected: signals.OutcomeAborted,
		Solaris:  []SolarisStep{{At: after(userSession), Status: signals.SolarisStatusAborted, FailureReason: "BAD_VIDEO"}}},
	{Name: "FRAUDOK", Does: "pending_failed (fraud suspicion), cleared by the review: successful", Expected: signals.OutcomeApproved,
		Solaris: []SolarisStep{
			{At: after(userSession), Status: signals.SolarisStatusPendingFailed},
			{At: after(agentReview), Status: signals.SolarisStatusSuccessful},
		}},
	{Name: "FRAUDIDENT", Does: "pending_failed (fraud suspicion), confirmed by the review: failed", Expected: signals.OutcomeRefused,
		Solaris: []SolarisStep{
			{At: after(userSession), Status: signals.SolarisStatusPendingFailed},
			{At: after(agentReview), Status: signals.SolarisStatusFailed},
		}},
	// Seed 003: "IDnow provides a reason for the canceled and aborted status. No reason can be disclosed for the
	// final failed status." The API may still return one with failed: kycflow must keep it from the user.
	{Name: "FAILEDREASON", Does: "failed, and the API returns a failure_reason (DATA_ID_EXPIRED) that must not reach the user",
		Expected: signals.OutcomeRefused,
		Solaris: []SolarisStep{{At: after(userSession + agentReview), Status: signals.SolarisStatusFailed,
			FailureReason: "DATA_ID_EXPIRED"}}},
	{Name: "CANCELED", Does: "the review cancels the identification (BAD_PHOTO_QUALITY); the user never uses the link again",
		Expected: signals.OutcomeAborted,
		Solaris: []SolarisStep{{At: after(userSession + agentReview), Status: signals.SolarisStatusCanceled,
			FailureReason: "BAD_PHOTO_QUALITY"}}},
	// IDnow: the second-line review "can take up to 24 hours" after pending_successful.
	{Name: "LONGREVIEW", Does: "pending_successful; the second-line review answers successful only after the 24-hour bound",
		Expected: signals.OutcomeApproved, Solaris: []SolarisStep{
			{At: after(userSession), Status: signals.SolarisStatusPendingSuccessful},
			{At: pastDeadline(reviewBound), Status: signals.SolarisStatusSuccessful},
		}},
	{Name: "REVIEWNEVER", Does: "pending_successful; the second-line review never answers, past the 14-day overdue limit",
		Expected: signals.OutcomeReviewTimeout, Solaris: []SolarisStep{
			{At: after(userSession), Status: signals.SolarisStatusPendingSuccessful},
		}},
	{Name: "LINKEXPIRED", Does: "the user never opens the link; it expires after 14 days", Expected: signals.OutcomeExpired},
	// Seed 003: "Collect the customer's consent to Solarisbank's Terms and Conditions and store the timestamp in
	// the terms_conditions_signed_at field" ("you must pass each timestamp").
	{Name: "NOCONSENT", Does: "the backend creates the person without the Terms and Conditions consent: refused before any call",
		Rejected: "terms_conditions_signed_at", OmitUserFields: []string{"terms_conditions_signed_at"}},
	// Seed 003: proof_of_address_type and proof_of_address_issued_at are "mandatory if the customer's
	// identification document does not include their address".
	{Name: "PASSPORTNOPOA", Does: "a passport (no address on it) and no proof of address: Solaris refuses the identification (400)",
		Expected: signals.OutcomeFailed, Cause: signals.CauseUserDataIncomplete, NoAddressOnDocument: true},
	{Name: "PASSPORTPOA", Does: "a passport with a proof of address issued a month ago: successful",
		Expected: signals.OutcomeApproved, NoAddressOnDocument: true, ProofOfAddress: true,
		Solaris: []SolarisStep{{At: after(userSession + agentReview), Status: signals.SolarisStatusSuccessful}}},
}

// yousignScenarios are Yousign's verification results.
var yousignScenarios = []Scenario{
	{Name: "VERIFIED", Does: "verified; the result is fetched", Expected: signals.OutcomeApproved,
		Yousign: []YousignStep{{At: after(userSession), Status: signals.YousignStatusVerified}}},
	{Name: "FAILED", Does: "failed (IDVV_2101 expired document)", Expected: signals.OutcomeRefused,
		Yousign: []YousignStep{{At: after(userSession), Status: signals.YousignStatusFailed, Codes: []string{"IDVV_2101"}}}},
	// Seed 004's inconclusive codes: IDVV_1112 "did not have their document with them". The user must come back;
	// no new URL is burnt while nobody asks for one, and nobody does here.
	{Name: "INCONCLUSIVE", Does: "inconclusive (IDVV_1112 no document); nobody asks for a new URL within the 7 days",
		Expected: signals.OutcomeAborted,
		Yousign:  []YousignStep{{At: after(2 * time.Minute), Status: signals.YousignStatusInconclusive, Codes: []string{"IDVV_1112"}}}},
	// IDVV_1113 "did not give access to the camera": fixable at once, so a new verification opens at once.
	{Name: "INCONCLUSIVETHENVERIFIED", Does: "the first verification inconclusive (IDVV_1113 camera refused), a new one opens at once and is verified",
		Expected: signals.OutcomeApproved, Yousign: []YousignStep{
			{At: after(2 * time.Minute), Status: signals.YousignStatusInconclusive, Codes: []string{"IDVV_1113"}},
			{At: after(userSession), Status: signals.YousignStatusVerified},
		}},
	// IDVV_1111 "wanted to perform the identity verification later": the backend asks for a URL when the user
	// is back, and only then does a new verification open.
	{Name: "LATERTHENRENEW", Does: "inconclusive (IDVV_1111 later); the backend asks for a URL once the first one has expired; the new verification is verified",
		Expected: signals.OutcomeApproved, RenewAfter: pastDeadline(15 * time.Minute), Yousign: []YousignStep{
			{At: after(2 * time.Minute), Status: signals.YousignStatusInconclusive, Codes: []string{"IDVV_1111"}},
			{At: after(userSession), Status: signals.YousignStatusVerified},
		}},
	// IDVV_1121 "left the process before the capture phase and the verification URL expired (after 15 minutes)".
	{Name: "LINKTOOLATE", Does: "the user comes back to the link after its 15 minutes: inconclusive (IDVV_1121); no new URL is burnt unasked",
		Expected: signals.OutcomeAborted, Yousign: []YousignStep{
			{At: pastDeadline(15 * time.Minute), Status: signals.YousignStatusInconclusive, Codes: []string{"IDVV_1121"}},
		}},
	// IDVV_3001 "explicitly refused to do the verification process".
	{Name: "REFUSEDBYUSER", Does: "the user refuses the verification (IDVV_3001): it ends, no new one opens",
		Expected: signals.OutcomeAborted, Yousign: []YousignStep{
			{At: after(2 * time.Minute), Status: signals.YousignStatusInconclusive, Codes: []string{"IDVV_3001"}},
		}},
	{Name: "NEVERFINISHED", Does: "the user never finishes; inconclusive (IDVV_1199) once the verification's 7 days are over",
		Expected: signals.OutcomeExpired, Yousign: []YousignStep{
			{At: pastDeadline(yousignLife), Status: signals.YousignStatusInconclusive, Codes: []string{"IDVV_1199"}},
		}},
}

// commonScenarios apply to every method.
var commonScenarios = []Scenario{
	{Name: "UNAVAILABLE", Does: "every API call answers 503 until kycflow's retries run out",
		Expected: signals.OutcomeFailed, Cause: signals.CauseProviderUnavailable, Unavailable: true},
	{Name: "CANCELLED", Does: "the user never opens the link; the backend cancels the verification",
		Expected: signals.OutcomeCancelled, Cancel: true},
}

// Scenarios is the scenario table: every scenario of every method, in signals.Methods order.
var Scenarios = buildTable()

// seedOf is the scenario's entry of scenarioSeeds: its method's, else the Treezor IDnow methods' shared one, else
// the one every method shares.
func seedOf(s Scenario) string {
	keys := []string{string(s.Method) + "/" + s.Name}
	if s.Method == signals.MethodTreezorQES || s.Method == signals.MethodTreezorVideoConference {
		keys = append(keys, "treezor-ident/"+s.Name)
	}
	for _, k := range append(keys, "common/"+s.Name) {
		if seed, ok := scenarioSeeds[k]; ok {
			return seed
		}
	}
	return ""
}

func buildTable() []Scenario {
	perMethod := map[signals.Method][]Scenario{
		signals.MethodTreezorLiveness:        livenessScenarios,
		signals.MethodTreezorQES:             identScenarios(qesCodes, true),
		signals.MethodTreezorVideoConference: identScenarios(videoConferenceCodes, false),
		signals.MethodSolarisIDnow:           solarisScenarios,
		signals.MethodYousignVideo:           yousignScenarios,
	}
	var table []Scenario
	for _, m := range signals.Methods {
		for _, s := range append(slices.Clone(perMethod[m]), commonScenarios...) {
			s.Method = m
			s.Seed = seedOf(s)
			table = append(table, s)
		}
	}
	return table
}

// Lookup finds a method's scenario by name (case-insensitive).
func Lookup(m signals.Method, name string) (Scenario, bool) {
	name = strings.ToUpper(strings.TrimSpace(name))
	for _, s := range Scenarios {
		if s.Method == m && s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// ScenarioNames lists a method's scenario names, in table order.
func ScenarioNames(m signals.Method) []string {
	var names []string
	for _, s := range Scenarios {
		if s.Method == m {
			names = append(names, s.Name)
		}
	}
	return names
}

// DefaultScenario is played for a subject whose names carry no test case: the provider's happy path.
func DefaultScenario(m signals.Method) string {
	if m == signals.MethodYousignVideo {
		return "VERIFIED"
	}
	return "HAPPYPATH"
}

// ScenarioFromNames reads the test case from a subject's names, IDnow's way: the last name, else the first name,
// starting with X-AUTOTEST- or X-MANUALTEST-, up to the first space. Empty when neither carries one.
func ScenarioFromNames(first, last string) string {
	for _, n := range []string{last, first} {
		for _, prefix := range []string{AutotestPrefix, ManualtestPrefix} {
			for _, word := range strings.Fields(n) {
				if rest, ok := strings.CutPrefix(strings.ToUpper(word), prefix); ok && rest != "" {
					return rest
				}
			}
		}
	}
	return ""
}

// knownScenario reports whether any method has a scenario of this name.
func knownScenario(name string) bool {
	for _, s := range Scenarios {
		if s.Name == name {
			return true
		}
	}
	return false
}
