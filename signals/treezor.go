package signals

import "time"

// Signal names for Treezor webhooks: each is the webhook's own event name, so the relay forwards an event under
// the name Treezor gave it.
const (
	SignalTreezorKycLivenessCreate = "kycliveness.create"
	SignalTreezorKycLivenessUpdate = "kycliveness.update"
	SignalTreezorDocumentCreate    = "document.create"
	SignalTreezorKycReview         = "user.kycreview"
)

// Webhook is what every webhook signal carries: the provider's event ID, for deduplicating redeliveries, and when
// the provider emitted it, for ordering.
type Webhook struct {
	// EventID is Treezor's webhook_id, Yousign's event_id, Solaris' delivery id (or a hash of the body).
	EventID string `json:"eventId"`
	// EmittedAt is the provider's emission time (Treezor webhook_created_at); zero when unknown.
	EmittedAt time.Time `json:"emittedAt,omitzero"`
}

// ProviderReason is a reason code as the provider sent it.
type ProviderReason struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// Treezor kyc-status values of kycliveness webhooks.
const (
	LivenessStatusProcessing = "processing"
	LivenessStatusProcessed  = "processed"
)

// Treezor live verification scores (kycliveness.update, kyc-status processed).
const (
	LivenessScoreValidated = 1
	LivenessScoreRefused   = 0
	LivenessScoreFailed    = -1
)

// TreezorLivenessEvent is the payload of kycliveness.create and kycliveness.update.
type TreezorLivenessEvent struct {
	Webhook
	UserID    string `json:"userId"`
	KycStatus string `json:"kycStatus"`
	// Score is set on kycliveness.update once kycStatus is processed.
	Score   *int             `json:"score,omitempty"`
	Reasons []ProviderReason `json:"reasons,omitempty"`
}

// Treezor documentTypeId values of the live verification synthesis document.
const (
	DocumentTypeLivenessResult          = 26
	DocumentTypeCertifiedLivenessResult = 34
)

// TreezorDocumentEvent is the payload of document.create.
type TreezorDocumentEvent struct {
	Webhook
	UserID         string `json:"userId"`
	DocumentID     string `json:"documentId"`
	DocumentTypeID int    `json:"documentTypeId"`
	DocumentType   string `json:"documentType,omitempty"`
	DocumentStatus string `json:"documentStatus,omitempty"`
}

// Treezor kycReview values (User object).
const (
	KycReviewNone          = 0
	KycReviewPending       = 1
	KycReviewValidated     = 2
	KycReviewRefused       = 3
	KycReviewInvestigating = 4
	KycReviewClosed        = 5
	KycReviewOpen          = 6
	KycReviewReviewPending = 7
)

// TreezorKycReviewEvent is the payload of user.kycreview.
type TreezorKycReviewEvent struct {
	Webhook
	UserID    string `json:"userId"`
	KycReview int    `json:"kycReview"`
	KycLevel  int    `json:"kycLevel"`
}

// Decided reports whether the review reached a final value.
func (e TreezorKycReviewEvent) Decided() bool {
	return e.KycReview == KycReviewValidated || e.KycReview == KycReviewRefused
}
