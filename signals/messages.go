package signals

import (
	"encoding/json"
	"fmt"
	"time"
)

// Names of the workflow's update, query and control signal.
const (
	// UpdateIdentificationURL returns the identification URL once the provider has issued it. Starters send it as
	// the update of Update-with-Start, so one round trip starts the verification and returns the URL.
	UpdateIdentificationURL = "identification_url"
	// QueryStatus returns a Status.
	QueryStatus = "status"
	// SignalCancel asks the verification to stop with outcome "cancelled"; payload CancelRequest.
	SignalCancel = "cancel"
)

// VerificationInput is the input of every verification workflow.
type VerificationInput struct {
	Method Method `json:"method"`
	// SubjectID is the provider's user identifier (Treezor userId, Solaris person_id) or, for Yousign, the
	// backend's opaque user reference. Never personal data: it is part of the workflow ID.
	SubjectID string `json:"subjectId"`
	// RedirectURL is where the provider sends the user after the session; empty keeps the provider's default.
	RedirectURL string `json:"redirectUrl,omitempty"`
	// Deadlines override the method's defaults; zero values keep them.
	Deadlines Deadlines `json:"deadlines,omitempty"`
	// Language of the IDnow session (Solaris: "DE" or "EN"); empty means EN.
	Language string `json:"language,omitempty"`
	// Yousign needs the user's names to open a verification (yousign-video only).
	Yousign *YousignPerson `json:"yousign,omitempty"`
	// MaxAttempts bounds how many verifications a Yousign run opens after inconclusive results (default 2).
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// ProofOfAddress is required by Solaris when the customer's ID document does not show their address (a
	// passport); solaris-idnow only.
	ProofOfAddress *ProofOfAddress `json:"proofOfAddress,omitempty"`
	// SEPAValidation adds Treezor's extra validation step: a SEPA transfer into the user's wallet before the KYC
	// review. Seed 001: Liveness "Requires a video of the end user, their identity proof, and a SEPA transfer into
	// their Treezor Wallet as an extra validation step" (Certified video does not); seed 002: QES "For Germany,
	// this option requires a SEPA transfer into the user's Wallet as an extra validation step". treezor-liveness
	// (when Treezor runs the Liveness feature) and treezor-qes only.
	SEPAValidation *SEPAValidation `json:"sepaValidation,omitempty"`
}

// SEPAValidation names the wallet the user's validation transfer must reach.
type SEPAValidation struct {
	// WalletID is the user's Treezor walletId.
	WalletID string `json:"walletId"`
}

// MaxYousignAttempts bounds VerificationInput.MaxAttempts: each attempt is a new Yousign verification (a new
// 15-minute URL for the user), and past a few the user needs help, not another link.
const MaxYousignAttempts = 5

// ValidateForStart is Validate plus the rules added after runs were started with inputs they refuse (a workflow
// applies them only from the version that introduced them): a subject ID in its provider's form, and at most
// MaxYousignAttempts attempts.
func (in VerificationInput) ValidateForStart() error {
	if err := in.Validate(); err != nil {
		return err
	}
	if err := ValidateSubjectOf(in.Method.Provider(), in.SubjectID); err != nil {
		return fmt.Errorf("subjectId: %w", err)
	}
	if in.MaxAttempts > MaxYousignAttempts {
		return fmt.Errorf("maxAttempts: %d is more than %d", in.MaxAttempts, MaxYousignAttempts)
	}
	return nil
}

// Validate reports the first invalid field of the input.
func (in VerificationInput) Validate() error {
	if _, err := ParseMethod(string(in.Method)); err != nil {
		return fmt.Errorf("method: %w", err)
	}
	if err := ValidateSubject(in.SubjectID); err != nil {
		return fmt.Errorf("subjectId: %w", err)
	}
	if in.Method == MethodYousignVideo && (in.Yousign == nil || in.Yousign.FirstName == "" || in.Yousign.LastName == "") {
		return fmt.Errorf("yousign: firstName and lastName are required for %s", in.Method)
	}
	if in.Method == MethodYousignVideo && in.RedirectURL == "" {
		return fmt.Errorf("redirectUrl: required for %s (Yousign sends the user there after the video)", in.Method)
	}
	if in.MaxAttempts < 0 {
		return fmt.Errorf("maxAttempts: %d is negative", in.MaxAttempts)
	}
	if in.ProofOfAddress != nil {
		if in.Method != MethodSolarisIDnow {
			return fmt.Errorf("proofOfAddress: only %s takes one", MethodSolarisIDnow)
		}
		if err := in.ProofOfAddress.Validate(); err != nil {
			return fmt.Errorf("proofOfAddress: %w", err)
		}
	}
	if v := in.SEPAValidation; v != nil {
		if in.Method != MethodTreezorLiveness && in.Method != MethodTreezorQES {
			return fmt.Errorf("sepaValidation: only %s and %s have the SEPA transfer step", MethodTreezorLiveness, MethodTreezorQES)
		}
		if err := ValidateSubject(v.WalletID); err != nil {
			return fmt.Errorf("sepaValidation: walletId: %w", err)
		}
	}
	if in.Language != "" && in.Language != "DE" && in.Language != "EN" {
		return fmt.Errorf("language: %q is not DE or EN", in.Language)
	}
	// A slice, not a map: workflows call Validate, and their code must not depend on map iteration order.
	deadlines := []struct {
		name string
		d    Duration
	}{{"urlValidity", in.Deadlines.URLValidity}, {"review", in.Deadlines.Review}, {"verification", in.Deadlines.Verification},
		{"overdueLimit", in.Deadlines.OverdueLimit}, {"grace", in.Deadlines.Grace}, {"transfer", in.Deadlines.Transfer},
		{"transferLookback", in.Deadlines.TransferLookback}}
	for _, dl := range deadlines {
		if dl.d < 0 {
			return fmt.Errorf("deadlines.%s: %s is negative", dl.name, time.Duration(dl.d))
		}
	}
	return nil
}

// Deadlines are the waits a verification enforces. Each is a workflow input so an operator can change them
// without a deploy.
type Deadlines struct {
	// URLValidity bounds the user's session: 15 minutes for live verification, 14 days for IDnow links.
	URLValidity Duration `json:"urlValidity,omitempty"`
	// Review bounds every wait for a review result (the provider's processing, Treezor's KYC review): 24 hours.
	Review Duration `json:"review,omitempty"`
	// Verification bounds the whole verification where the provider sets such a limit (Yousign: 7 days).
	Verification Duration `json:"verification,omitempty"`
	// Grace is how long after the URL's validity a verification still waits for the webhook of a session the user
	// began in time: the provider's webhook takes a while to arrive. Default 2 minutes.
	Grace Duration `json:"grace,omitempty"`
	// OverdueLimit is how long a verification stays overdue once a provider-side wait has passed its Review bound
	// (the provider keeps deciding late: Treezor's review "may take up to 48h or more"): the verification keeps
	// listening and reading the provider until then, and only then ends review_timeout. Default 14 days.
	OverdueLimit Duration `json:"overdueLimit,omitempty"`
	// Transfer bounds the wait for the SEPA validation transfer (SEPAValidation), from the start: the user's
	// side, so it concludes (expired). Default 14 days, as long as an IDnow link.
	Transfer Duration `json:"transfer,omitempty"`
	// TransferLookback is how long before the start a SEPA validation transfer may have been made and still count:
	// the user may pay before the backend starts the verification, when the payin's webhooks have no run to reach.
	// An older transfer (for an earlier verification, or any payin of a wallet in use) does not count. Default 24
	// hours.
	TransferLookback Duration `json:"transferLookback,omitempty"`
}

// Default deadlines from the providers' documentation.
const (
	LivenessURLValidity = 15 * time.Minute
	IDnowURLValidity    = 14 * 24 * time.Hour
	ReviewBound         = 24 * time.Hour
	OverdueLimit        = 14 * 24 * time.Hour
	URLGrace            = 2 * time.Minute
	TransferLookback    = 24 * time.Hour
)

// WithDefaults fills zero deadlines with the method's defaults.
func (d Deadlines) WithDefaults(m Method) Deadlines {
	if d.URLValidity == 0 {
		switch m {
		case MethodTreezorLiveness, MethodYousignVideo:
			d.URLValidity = Duration(LivenessURLValidity)
		default:
			d.URLValidity = Duration(IDnowURLValidity)
		}
	}
	if d.Review == 0 {
		d.Review = Duration(ReviewBound)
	}
	if d.OverdueLimit == 0 {
		d.OverdueLimit = Duration(OverdueLimit)
	}
	if d.Grace == 0 {
		d.Grace = Duration(URLGrace)
	}
	if d.Transfer == 0 {
		d.Transfer = Duration(IDnowURLValidity)
	}
	if d.TransferLookback == 0 {
		d.TransferLookback = Duration(TransferLookback)
	}
	if d.Verification == 0 && m == MethodYousignVideo {
		d.Verification = Duration(7 * 24 * time.Hour)
	}
	return d
}

// Duration is a time.Duration that travels as a Go duration string ("15m", "336h") so that backends in other
// languages can read and write it.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "15m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string, or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration must be a string such as \"15m\": %s", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// URLRequest is the argument of the identification_url update. The method guards against joining a running
// verification of another method for the same subject.
type URLRequest struct {
	Method Method `json:"method"`
}

// Identification is the result of the identification_url update.
type Identification struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
	// WorkflowID lets the caller find the verification again.
	WorkflowID string `json:"workflowId"`
	// SDKToken is what the provider's mobile SDK starts the session with (Solaris: IDnow's reference, which
	// PATCH .../request answers "for mobile app"; seed 003 recommends mobile onboarding with the IDnow SDK). Hand
	// it to the backend's app only: it is a credential to the session, never shown, logged or stored in an
	// outcome.
	SDKToken string `json:"sdkToken,omitempty"`
}

// CancelRequest is the payload of the cancel signal.
type CancelRequest struct {
	// Reason is internal (for operators); it is not shown to the user.
	Reason string `json:"reason,omitempty"`
}

// Step is where a verification stands. Its values are the KycStep search attribute values.
type Step string

// The steps, in order.
const (
	StepInitiating          Step = "initiating"
	StepAwaitingUser        Step = "awaiting_user"
	StepProviderProcessing  Step = "provider_processing"
	StepCollectingDocuments Step = "collecting_documents"
	// StepAwaitingTransfer: the user's SEPA validation transfer is awaited (SEPAValidation).
	StepAwaitingTransfer Step = "awaiting_transfer"
	StepKYCReview        Step = "kyc_review"
	// StepOverdue: a wait for the provider (its processing, IDnow's second-line review, Treezor's KYC review)
	// passed its review bound. The verification keeps listening and reads the provider on a backoff schedule; a
	// late decision counts as if on time. Status.Overdue says since when and what it waits for.
	StepOverdue   Step = "overdue"
	StepCompleted Step = "completed"
)

// Steps are every value of KycStep, in order.
var Steps = []Step{StepInitiating, StepAwaitingUser, StepProviderProcessing, StepCollectingDocuments,
	StepAwaitingTransfer, StepKYCReview, StepOverdue, StepCompleted}

// Status is the answer of the status query.
type Status struct {
	Method Method `json:"method"`
	Step   Step   `json:"step"`
	// ProviderStatus is the provider's own status of the identification, where it has one (Solaris).
	ProviderStatus string `json:"providerStatus,omitempty"`
	// IdentificationURL is set only while the URL is still valid.
	IdentificationURL string     `json:"identificationUrl,omitempty"`
	URLExpiresAt      *time.Time `json:"urlExpiresAt,omitempty"`
	// Deadline is when the current step's wait ends.
	Deadline *time.Time `json:"deadline,omitempty"`
	// UserMessage is the user-safe explanation of the latest reasons (for example a previous abort).
	UserMessage string   `json:"userMessage,omitempty"`
	Reasons     []Reason `json:"reasons,omitempty"`
	Outcome     *Outcome `json:"outcome,omitempty"`
	// Webhooks counts the webhook signals received; redeliveries of an event already seen are ignored.
	Webhooks WebhookCounts `json:"webhooks"`
	// Overdue is set while the verification is overdue (StepOverdue).
	Overdue *Overdue `json:"overdue,omitempty"`
}

// Overdue tells an operator what an overdue verification waits for.
type Overdue struct {
	// Since is when the review bound passed.
	Since time.Time `json:"since"`
	// WaitingFor names the provider's decision the verification waits for ("Treezor KYC review").
	WaitingFor string `json:"waitingFor"`
	// NextCheck is when the provider is read next, where it offers a read; zero where it does not.
	NextCheck *time.Time `json:"nextCheck,omitempty"`
	// Limit is when the verification ends review_timeout if nothing decides it before.
	Limit time.Time `json:"limit"`
}

// WebhookCounts tells an operator how many webhooks a verification received and how many were redeliveries.
type WebhookCounts struct {
	Received   int `json:"received"`
	Duplicates int `json:"duplicates"`
	// Stale counts events of another provider session than this run's (an earlier verification of the same
	// user, or a review requested before): they change nothing.
	Stale int `json:"stale"`
	// Late counts events of the user's own action (finishing or leaving the session) that the provider emitted after
	// the user's deadline had passed: they cannot make the user on time.
	Late int `json:"late"`
	// Unconfirmed counts decisions a webhook brought that the provider's API did not show: set aside, since only
	// the provider's own word decides (a replayed or relabelled signed payload, say).
	Unconfirmed int `json:"unconfirmed"`
}
