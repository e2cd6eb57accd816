package activities

import (
	"context"

	"github.com/kycflow/kycflow/activities/solaris"
	"github.com/kycflow/kycflow/signals"
)

// Solaris holds the Solaris (IDnow video identification) activities. Workflows schedule its methods through a
// typed reference (`var s *activities.Solaris; workflow.ExecuteActivity(ctx, s.RequestIdentification, ...)`).
type Solaris struct {
	Client *solaris.Client
	// Aliases publishes the identification IDs the IDENTIFICATION webhook is routed by.
	Aliases *Aliases
}

// SolarisIdentRequest names a Solaris identification, or the person to create one for. Which fields a call
// uses is on each method.
type SolarisIdentRequest struct {
	PersonID         string `json:"personId"`
	IdentificationID string `json:"identificationId,omitempty"`
	// Language of the IDnow session, "EN" or "DE"; empty means EN.
	Language string `json:"language,omitempty"`
	// IncludeDocuments asks GetIdentification for the documents submitted during the identification.
	IncludeDocuments bool `json:"includeDocuments,omitempty"`
	// ProofOfAddress goes with CreateIdentification when the customer's ID document does not show their address.
	ProofOfAddress *signals.ProofOfAddress `json:"proofOfAddress,omitempty"`
}

// SolarisIdentification is a Solaris identification as the workflow sees it.
type SolarisIdentification struct {
	ID string `json:"id"`
	// URL is the IDnow URL the user must visit, set once the identification was requested.
	URL    string `json:"url,omitempty"`
	Status string `json:"status"`
	// FailureReason is IDnow's reason for an aborted, canceled or failed identification, when Solaris gives one.
	FailureReason string             `json:"failureReason,omitempty"`
	Documents     []signals.Document `json:"documents,omitempty"`
	// SDKToken is IDnow's reference, set by RequestIdentification only: the backend's app starts the IDnow SDK
	// with it (seed 003). It goes to the identification_url update's answer and nowhere else: no log, no status,
	// no outcome, never the customer's screen.
	SDKToken string `json:"sdkToken,omitempty"`
}

// CreateIdentification creates an IDnow identification for req.PersonID in req.Language. It does not start it:
// RequestIdentification does.
func (a *Solaris) CreateIdentification(ctx context.Context, req SolarisIdentRequest) (SolarisIdentification, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return SolarisIdentification{}, notConfigured("Solaris", "SOLARIS_BASE_URL")
	}
	id, err := a.Client.CreateIdentification(ctx, req.PersonID, req.Language, req.ProofOfAddress)
	if err != nil {
		return SolarisIdentification{}, err
	}
	a.Aliases.publish(ctx, signals.ProviderSolaris, id.ID)
	return solarisIdentification(id), nil
}

// RequestIdentification starts identification req.IdentificationID of person req.PersonID with IDnow and
// returns it with its URL.
func (a *Solaris) RequestIdentification(ctx context.Context, req SolarisIdentRequest) (SolarisIdentification, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return SolarisIdentification{}, notConfigured("Solaris", "SOLARIS_BASE_URL")
	}
	id, err := a.Client.RequestIdentification(ctx, req.PersonID, req.IdentificationID)
	if err != nil {
		return SolarisIdentification{}, err
	}
	out := solarisIdentification(id)
	out.SDKToken = id.Reference
	return out, nil
}

// GetIdentification reads identification req.IdentificationID of person req.PersonID, with its documents when
// req.IncludeDocuments is set: to reconcile when a webhook did not arrive, or to fetch the KYC report.
func (a *Solaris) GetIdentification(ctx context.Context, req SolarisIdentRequest) (SolarisIdentification, error) {
	defer heartbeating(ctx)()
	if a.Client == nil {
		return SolarisIdentification{}, notConfigured("Solaris", "SOLARIS_BASE_URL")
	}
	id, err := a.Client.GetIdentification(ctx, req.PersonID, req.IdentificationID, req.IncludeDocuments)
	if err != nil {
		return SolarisIdentification{}, err
	}
	return solarisIdentification(id), nil
}

func solarisIdentification(id solaris.Identification) SolarisIdentification {
	return SolarisIdentification{
		ID:            id.ID,
		URL:           id.URL,
		Status:        id.Status,
		FailureReason: id.FailureReason,
		Documents:     id.Documents,
	}
}
