package signals

// SignalYousignVerificationDone carries Yousign's verification.identity_video.done webhook.
const SignalYousignVerificationDone = "verification.identity_video.done"

// Yousign identity video statuses.
const (
	YousignStatusPending      = "pending"
	YousignStatusVerified     = "verified"
	YousignStatusFailed       = "failed"
	YousignStatusInconclusive = "inconclusive"
)

// YousignVerificationEvent is the payload of the verification.identity_video.done signal. The relay finds the
// workflow by the KycProviderReference search attribute, which the workflow sets to the current verification's ID.
type YousignVerificationEvent struct {
	Webhook
	VerificationID string   `json:"verificationId"`
	Status         string   `json:"status"`
	StatusCodes    []string `json:"statusCodes,omitempty"`
}

// YousignPerson is what Yousign needs to open a verification: the names must match the identity document.
// Personal data: it travels in the workflow input, so the worker and the starter encrypt payloads when
// KYCFLOW_PAYLOAD_KEY is set.
type YousignPerson struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}
