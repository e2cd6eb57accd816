package activities

import (
	"time"

	"context"
	"fmt"

	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/signals"
)

// Treezor holds the Treezor activities. Workflows schedule its methods through a typed reference
// (`var tz *activities.Treezor; workflow.ExecuteActivity(ctx, tz.Initiate, ...)`), never by name.
type Treezor struct {
	Client *treezor.Client
	// Aliases publishes the identification IDs QES and video conference events are routed by.
	Aliases *Aliases
}

// InitiateRequest asks a provider to open an identification session.
type InitiateRequest struct {
	Method      signals.Method `json:"method"`
	UserID      string         `json:"userId"`
	RedirectURL string         `json:"redirectUrl,omitempty"`
}

// Identification is a session the provider opened: its ID and the URL the user must visit.
type Identification struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// ReviewRequest asks Treezor for a KYC review of a user.
type ReviewRequest struct {
	UserID string `json:"userId"`
	// AccessTag makes the request idempotent at Treezor across activity retries.
	AccessTag string `json:"accessTag"`
}

// UserKYC is the user's KYC state at Treezor.
type UserKYC struct {
	KycReview int `json:"kycReview"`
	KycLevel  int `json:"kycLevel"`
}

// Initiate opens the identification session of one of Treezor's three methods.
func (a *Treezor) Initiate(ctx context.Context, req InitiateRequest) (Identification, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return Identification{}, notConfigured("Treezor", "TREEZOR_BASE_URL")
	}
	var (
		id  treezor.Identification
		err error
	)
	switch req.Method {
	case signals.MethodTreezorLiveness:
		id, err = a.Client.InitiateLiveness(ctx, req.UserID, req.RedirectURL)
	case signals.MethodTreezorQES:
		id, err = a.Client.InitiateQES(ctx, req.UserID, req.RedirectURL)
	case signals.MethodTreezorVideoConference:
		id, err = a.Client.InitiateVideoConference(ctx, req.UserID, req.RedirectURL)
	default:
		return Identification{}, nonRetryable(fmt.Sprintf("method %q is not a Treezor method", req.Method), "InvalidMethod")
	}
	if err != nil {
		return Identification{}, err
	}
	if req.Method != signals.MethodTreezorLiveness {
		// qes.* and videoConference.* events name the identification, not the user.
		a.Aliases.publish(ctx, signals.ProviderTreezor, id.ID)
	}
	return Identification{ID: id.ID, URL: id.URL}, nil
}

// RetrieveLivenessDocuments asks Treezor to pull the live verification documents from its partner; Treezor then
// sends one document.create webhook per document.
func (a *Treezor) RetrieveLivenessDocuments(ctx context.Context, userID string) error {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return notConfigured("Treezor", "TREEZOR_BASE_URL")
	}
	return a.Client.RetrieveLivenessDocuments(ctx, userID)
}

// RequestKYCReview asks Treezor's compliance team to review the user.
func (a *Treezor) RequestKYCReview(ctx context.Context, req ReviewRequest) (UserKYC, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return UserKYC{}, notConfigured("Treezor", "TREEZOR_BASE_URL")
	}
	u, err := a.Client.RequestKYCReview(ctx, req.UserID, req.AccessTag)
	if err != nil {
		return UserKYC{}, err
	}
	return UserKYC{KycReview: u.KycReview, KycLevel: u.KycLevel}, nil
}

// GetUserKYC reads the user's current KYC review state, to reconcile when a webhook did not arrive.
func (a *Treezor) GetUserKYC(ctx context.Context, userID string) (UserKYC, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return UserKYC{}, notConfigured("Treezor", "TREEZOR_BASE_URL")
	}
	u, err := a.Client.GetUserKYC(ctx, userID)
	if err != nil {
		return UserKYC{}, err
	}
	return UserKYC{KycReview: u.KycReview, KycLevel: u.KycLevel}, nil
}

// TreezorDocumentsRequest asks for a user's documents created since a time.
type TreezorDocumentsRequest struct {
	UserID string    `json:"userId"`
	Since  time.Time `json:"since"`
}

// ListDocuments lists the user's documents created since req.Since (their IDs and types), so that the workflow
// knows which document.create webhooks to wait for before it requests the KYC review.
func (a *Treezor) ListDocuments(ctx context.Context, req TreezorDocumentsRequest) ([]signals.Document, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return nil, notConfigured("Treezor", "TREEZOR_BASE_URL")
	}
	docs, err := a.Client.ListDocuments(ctx, req.UserID, req.Since)
	if err != nil {
		return nil, err
	}
	out := make([]signals.Document, 0, len(docs))
	for _, d := range docs {
		out = append(out, signals.Document{ID: d.ID, TypeID: d.TypeID})
	}
	return out, nil
}

// TreezorTransfersRequest asks for the validated SEPA transfers into a wallet made since a time.
type TreezorTransfersRequest struct {
	WalletID string    `json:"walletId"`
	Since    time.Time `json:"since"`
}

// ListValidatedTransfers lists the validated SEPA transfers Treezor holds for the wallet, made since req.Since, as
// payin events dated by their creation (EmittedAt): the workflow's SEPA validation step reads them when it begins
// and at its bound, so that a transfer made just before the workflow existed, or whose webhook was lost, still
// counts.
func (a *Treezor) ListValidatedTransfers(ctx context.Context, req TreezorTransfersRequest) ([]signals.TreezorPayinEvent, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return nil, notConfigured("Treezor", "TREEZOR_BASE_URL")
	}
	payins, err := a.Client.ListValidatedPayins(ctx, req.WalletID, req.Since)
	if err != nil {
		return nil, err
	}
	var out []signals.TreezorPayinEvent
	for _, p := range payins {
		ev := signals.TreezorPayinEvent{Webhook: signals.Webhook{EmittedAt: p.Created}, UserID: p.UserID, PayinID: p.ID,
			WalletID: p.WalletID, PayinStatus: p.Status, PaymentMethodID: p.PaymentMethodID}
		if ev.IsValidatedSEPATransfer(req.WalletID) {
			out = append(out, ev)
		}
	}
	return out, nil
}
