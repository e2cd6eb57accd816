package activities

import (
	"context"

	"github.com/kycflow/kycflow/activities/yousign"
	"github.com/kycflow/kycflow/signals"
)

// Yousign holds the Yousign (video identity verification) activities. Workflows schedule its methods through a
// typed reference (`var y *activities.Yousign; workflow.ExecuteActivity(ctx, y.CreateVerification, ...)`).
type Yousign struct {
	Client *yousign.Client
	// Aliases publishes the verification IDs the done webhook is routed by.
	Aliases *Aliases
}

// YousignCreateRequest opens a verification. The names are personal data and must match the identity
// document; RedirectURL is required by Yousign.
type YousignCreateRequest struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	RedirectURL string `json:"redirectUrl"`
}

// YousignVerification is a Yousign verification without any personal data.
type YousignVerification struct {
	ID string `json:"id"`
	// URL is where the user goes through the verification; it expires 15 minutes after creation.
	URL    string `json:"url,omitempty"`
	Status string `json:"status"`
	// StatusCodes explain a failed or inconclusive verification (IDVV_ codes).
	StatusCodes []string `json:"statusCodes,omitempty"`
}

// CreateVerification opens a video identity verification and returns it with its URL.
func (a *Yousign) CreateVerification(ctx context.Context, req YousignCreateRequest) (YousignVerification, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return YousignVerification{}, notConfigured("Yousign", "YOUSIGN_BASE_URL")
	}
	v, err := a.Client.CreateVerification(ctx, req.FirstName, req.LastName, req.RedirectURL)
	if err != nil {
		return YousignVerification{}, err
	}
	a.Aliases.publish(ctx, signals.ProviderYousign, v.ID)
	return yousignVerification(v), nil
}

// GetVerification reads a verification's status and status codes: for its result, or to reconcile when the
// webhook did not arrive.
func (a *Yousign) GetVerification(ctx context.Context, verificationID string) (YousignVerification, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return YousignVerification{}, notConfigured("Yousign", "YOUSIGN_BASE_URL")
	}
	v, err := a.Client.GetVerification(ctx, verificationID)
	if err != nil {
		return YousignVerification{}, err
	}
	return yousignVerification(v), nil
}

func yousignVerification(v yousign.Verification) YousignVerification {
	return YousignVerification{ID: v.ID, URL: v.URL, Status: v.Status, StatusCodes: v.StatusCodes}
}
