package signals

import "time"

// SignalSolarisIdentification carries Solaris' IDENTIFICATION webhook.
const SignalSolarisIdentification = "solaris.identification"

// Solaris identification statuses the IDnow flow acts on.
const (
	SolarisStatusCreated           = "created"
	SolarisStatusPending           = "pending"
	SolarisStatusAborted           = "aborted"
	SolarisStatusCanceled          = "canceled"
	SolarisStatusPendingSuccessful = "pending_successful"
	SolarisStatusPendingFailed     = "pending_failed"
	SolarisStatusSuccessful        = "successful"
	SolarisStatusFailed            = "failed"
	SolarisStatusExpired           = "expired"
)

// SolarisIdentificationEvent is the payload of the solaris.identification signal.
//
// Solaris' webhook does not name the person; the relay finds the workflow by the KycProviderReference search
// attribute, which the workflow sets to the identification ID. IDnow's `reference` is deliberately absent: it is
// internal and must never reach user-facing output.
type SolarisIdentificationEvent struct {
	Webhook
	IdentificationID string    `json:"identificationId"`
	Status           string    `json:"status"`
	CompletedAt      time.Time `json:"completedAt,omitzero"`
}

// SolarisPerson is the person data needed to create a Solaris person when the backend has no person_id yet.
// Personal data: it is sent to Solaris by the starter before any workflow starts and never enters Temporal.
type SolarisPerson struct {
	Salutation   string          `json:"salutation,omitempty"`
	FirstName    string          `json:"first_name"`
	LastName     string          `json:"last_name"`
	Email        string          `json:"email,omitempty"`
	Mobile       string          `json:"mobile_number,omitempty"`
	BirthDate    string          `json:"birth_date,omitempty"`
	BirthCity    string          `json:"birth_city,omitempty"`
	BirthCountry string          `json:"birth_country,omitempty"`
	Nationality  string          `json:"nationality,omitempty"`
	Address      *SolarisAddress `json:"address,omitempty"`
}

// SolarisAddress is a person's address at Solaris.
type SolarisAddress struct {
	Line1      string `json:"line_1"`
	Line2      string `json:"line_2,omitempty"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
}
