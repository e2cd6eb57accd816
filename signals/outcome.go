package signals

import "time"

// OutcomeStatus is how a verification ended. One enum for every method.
type OutcomeStatus string

// The outcomes. Their string values are the KycOutcome search attribute values and part of the JSON contract.
const (
	OutcomeApproved       OutcomeStatus = "approved"
	OutcomeRefused        OutcomeStatus = "refused"
	OutcomeFraudSuspected OutcomeStatus = "fraud_suspected"
	// OutcomeAborted: the user gave up.
	OutcomeAborted OutcomeStatus = "aborted"
	// OutcomeCanceled: the provider could not complete the identification; the user should try again.
	OutcomeCanceled OutcomeStatus = "canceled"
	// OutcomeExpired: the URL or the verification's deadline passed.
	OutcomeExpired       OutcomeStatus = "expired"
	OutcomeReviewTimeout OutcomeStatus = "review_timeout"
	// OutcomeFailed: a technical failure; Outcome.Cause says which.
	OutcomeFailed OutcomeStatus = "failed"
	// OutcomeCancelled: the backend cancelled the verification.
	OutcomeCancelled OutcomeStatus = "cancelled"
)

// Typed causes carried by an OutcomeFailed. A backend branches on these.
const (
	CauseUserDataIncomplete   = "user_data_incomplete"
	CauseProviderRejected     = "provider_rejected"
	CauseProviderUnavailable  = "provider_unavailable"
	CauseVerificationFailed   = "verification_failed"
	CauseDocumentsUnavailable = "documents_unavailable"
)

// Outcome is a verification's result: the workflow's return value.
type Outcome struct {
	Status OutcomeStatus `json:"status"`
	Method Method        `json:"method"`
	// ProviderReference is the provider's identifier of the identification (not personal data).
	ProviderReference string `json:"providerReference,omitempty"`
	// Cause is set on OutcomeFailed: one of the Cause constants.
	Cause string `json:"cause,omitempty"`
	// Detail is internal, technical context for operators. Never show it to the end user.
	Detail string `json:"detail,omitempty"`
	// Reasons are the provider's reason codes mapped through the catalogue.
	Reasons []Reason `json:"reasons,omitempty"`
	// UserMessage is safe to display to the end user as is.
	UserMessage string `json:"userMessage"`
	// UserMayRetry tells the backend whether to offer the user another attempt.
	UserMayRetry bool `json:"userMayRetry"`
	// Documents are the documents the provider holds after an approved verification.
	Documents []Document `json:"documents,omitempty"`
	// CompletedAt is workflow time when the outcome was decided.
	CompletedAt time.Time `json:"completedAt"`
	// DecidedBy is set when an operator decided the outcome (close, approve).
	DecidedBy *Decision `json:"decidedBy,omitempty"`
	// OperatorActions are every action operators took on the verification, in order, each with who, why and when:
	// an extension of the overdue limit, a recheck, a first approval and its confirmation, a close. DecidedBy is the
	// one among them that decided. Internal, like DecidedBy.
	OperatorActions []Decision `json:"operatorActions,omitempty"`
	// SessionOpenUntil is set when a Treezor live verification ended (cancelled, closed) while its user could
	// still be in the session: until then a new live verification for the user would replace that session, which
	// Treezor asks not to do, so the starter refuses one (starter.ErrSessionOpen).
	SessionOpenUntil *time.Time `json:"sessionOpenUntil,omitempty"`
}

// Reason is one provider reason code, explained by the catalogue.
type Reason struct {
	Code string `json:"code"`
	// Message is the provider's text for the code: internal detail, may reveal fraud suspicion.
	Message  string         `json:"message"`
	Category ReasonCategory `json:"category"`
	// UserMayRetry: the user can fix this by trying again (better light, valid document, ...).
	UserMayRetry bool `json:"userMayRetry"`
	// UserShowable: UserMessage may be shown to the end user.
	UserShowable bool `json:"userShowable"`
	// UserMessage is empty unless UserShowable.
	UserMessage string `json:"userMessage,omitempty"`
	// Known is false for a code missing from the catalogue; it is kept verbatim, never dropped.
	Known bool `json:"known"`
}

// ReasonCategory groups reason codes by what went wrong.
type ReasonCategory string

// Reason categories shared by all providers' catalogues.
const (
	CategoryUserAbandoned ReasonCategory = "user_abandoned"
	CategoryDocument      ReasonCategory = "document"
	CategorySelfie        ReasonCategory = "selfie"
	CategoryConnection    ReasonCategory = "connection"
	CategoryTechnical     ReasonCategory = "technical"
	CategoryIdentity      ReasonCategory = "identity_mismatch"
	CategoryEligibility   ReasonCategory = "eligibility"
	CategoryFraud         ReasonCategory = "fraud"
	CategoryExpired       ReasonCategory = "expired"
	CategoryOther         ReasonCategory = "other"
	CategoryUnknown       ReasonCategory = "unknown"
)

// Document is a document the provider stored for the user.
type Document struct {
	ID     string `json:"id"`
	TypeID int    `json:"typeId,omitempty"`
	Type   string `json:"type,omitempty"`
}
