package signals

import "time"

// Signal names for Treezor webhooks: each is the webhook's own event name, so the relay forwards an event under
// the name Treezor gave it.
const (
	SignalTreezorKycLivenessCreate = "kycliveness.create"
	SignalTreezorKycLivenessUpdate = "kycliveness.update"
	SignalTreezorDocumentCreate    = "document.create"
	SignalTreezorKycReview         = "user.kycreview"
	// SignalTreezorPayinCreate and SignalTreezorPayinUpdate carry the payin webhooks: a verification with
	// SEPAValidation waits for the user's transfer into their wallet.
	SignalTreezorPayinCreate = "payin.create"
	SignalTreezorPayinUpdate = "payin.update"
)

// Payin statuses (Treezor's payinStatus) and the payment methods that are a received SEPA transfer
// (paymentMethodId 20, a SEPA Credit Transfer, and 27, a SEPA Instant Credit Transfer).
const (
	PayinStatusPending   = "PENDING"
	PayinStatusValidated = "VALIDATED"
	PayinStatusCanceled  = "CANCELED"

	PaymentMethodSEPACreditTransfer        = "20"
	PaymentMethodSEPAInstantCreditTransfer = "27"
)

// TreezorPayinEvent is the payload of the payin.create and payin.update signals: only what identifies the payin
// and its state, never amounts, names or IBANs.
type TreezorPayinEvent struct {
	Webhook
	UserID          string `json:"userId"`
	PayinID         string `json:"payinId"`
	WalletID        string `json:"walletId"`
	PayinStatus     string `json:"payinStatus"`
	PaymentMethodID string `json:"paymentMethodId"`
}

// IsValidatedSEPATransfer reports whether the payin is a validated SEPA transfer received into wallet.
func (p TreezorPayinEvent) IsValidatedSEPATransfer(wallet string) bool {
	return p.WalletID == wallet && p.PayinStatus == PayinStatusValidated &&
		(p.PaymentMethodID == PaymentMethodSEPACreditTransfer || p.PaymentMethodID == PaymentMethodSEPAInstantCreditTransfer)
}

// Webhook is what every webhook signal carries: the provider's event ID, for deduplicating redeliveries, and when
// the provider emitted it, for ordering.
type Webhook struct {
	// EventID is Treezor's webhook_id, Yousign's event_id, Solaris' delivery id (or a hash of the body).
	EventID string `json:"eventId"`
	// EmittedAt is the provider's emission time (Treezor webhook_created_at); zero when unknown.
	EmittedAt time.Time `json:"emittedAt,omitzero"`
}

// DeliveryID is the event ID: every webhook payload embeds Webhook, so workflows deduplicate them all alike.
func (w Webhook) DeliveryID() string { return w.EventID }

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
	UserID string `json:"userId"`
	// IdentificationID is the live verification's identification-id when the payload carries it; it ties the event
	// to one session (POST kycliveness answers with it).
	IdentificationID string `json:"identificationId,omitempty"`
	KycStatus        string `json:"kycStatus"`
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
	return KycReviewDecided(e.KycReview)
}

// KycReviewDecided reports whether a kycReview value is final: validated or refused.
func KycReviewDecided(kycReview int) bool {
	return kycReview == KycReviewValidated || kycReview == KycReviewRefused
}

// TreezorIdentEvents names the webhooks of one of Treezor's IDnow-backed methods (QES, video conference). The
// signal names are the webhook names.
type TreezorIdentEvents struct {
	// Created: the user completed the session.
	Created string
	// Processing: under review at the provider.
	Processing string
	// Aborted: the user left; the same URL stays usable until it expires.
	Aborted string
	// Finalized: the provider's result (see the TreezorResult constants).
	Finalized string
}

// Webhook names of Treezor QES and video conference. Treezor spells the latter in camelCase.
var (
	TreezorQESEvents = TreezorIdentEvents{
		Created: "qes.created", Processing: "qes.processing", Aborted: "qes.aborted", Finalized: "qes.finalized",
	}
	TreezorVideoConferenceEvents = TreezorIdentEvents{
		Created: "videoConference.created", Processing: "videoConference.processing",
		Aborted: "videoConference.aborted", Finalized: "videoConference.finalized",
	}
)

// Values of the result attribute of Treezor QES and video conference webhooks.
const (
	TreezorResultStart                   = "START"
	TreezorResultReviewPending           = "REVIEW_PENDING"
	TreezorResultFraudSuspicionPending   = "FRAUD_SUSPICION_PENDING"
	TreezorResultAborted                 = "ABORTED"
	TreezorResultSuccess                 = "SUCCESS"
	TreezorResultSuccessDataChange       = "SUCCESS_DATA_CHANGE"
	TreezorResultFraudSuspicionConfirmed = "FRAUD_SUSPICION_CONFIRMED"
	TreezorResultCanceled                = "CANCELED"
)

// TreezorIdentEvent is the payload of the qes.* and videoConference.* webhooks.
type TreezorIdentEvent struct {
	Webhook
	UserID           string `json:"userId"`
	IdentificationID string `json:"identificationId,omitempty"`
	Result           string `json:"result,omitempty"`
	// Reason is Treezor's reason object (reasonCode, reasonMessage), when the result has one.
	Reason *ProviderReason `json:"reason,omitempty"`
}
