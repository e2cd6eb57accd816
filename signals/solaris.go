package signals

import (
	"errors"
	"fmt"
	"time"
)

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
	// TermsConditionsSignedAt and DataTermsSignedAt are when the customer consented to Solaris' Terms and
	// Conditions and to data processing, in the backend's sign-up flow (seed 003: "Record the customer's consent on
	// each screen as a UTC timestamp", "you must pass each timestamp"). Both are mandatory.
	TermsConditionsSignedAt *time.Time `json:"terms_conditions_signed_at,omitempty"`
	DataTermsSignedAt       *time.Time `json:"data_terms_signed_at,omitempty"`
}

// SolarisPersonMandatory names the fields of SolarisPerson that seed 003's "POST Create person" lists as the
// mandatory data points of a video identification, in its order. MissingFields checks them.
var SolarisPersonMandatory = []string{"salutation", "first_name", "last_name", "birth_date", "nationality", "address",
	"mobile_number", "data_terms_signed_at", "terms_conditions_signed_at"}

// MissingFields returns the mandatory fields p lacks (JSON names; "address.city" for a part of the address), in
// SolarisPersonMandatory's order: empty when p is complete.
func (p SolarisPerson) MissingFields() []string {
	var missing []string
	for _, f := range SolarisPersonMandatory {
		switch f {
		case "salutation":
			missing = appendIfEmpty(missing, f, p.Salutation)
		case "first_name":
			missing = appendIfEmpty(missing, f, p.FirstName)
		case "last_name":
			missing = appendIfEmpty(missing, f, p.LastName)
		case "birth_date":
			missing = appendIfEmpty(missing, f, p.BirthDate)
		case "nationality":
			missing = appendIfEmpty(missing, f, p.Nationality)
		case "address":
			if p.Address == nil {
				missing = append(missing, f)
				continue
			}
			// Seed 003: "address (Street, Number, City, Post Code, Country, State)"; line_1 holds street and number.
			// State may be null: the seed's example persons have "state": null.
			missing = appendIfEmpty(missing, "address.line_1", p.Address.Line1)
			missing = appendIfEmpty(missing, "address.postal_code", p.Address.PostalCode)
			missing = appendIfEmpty(missing, "address.city", p.Address.City)
			missing = appendIfEmpty(missing, "address.country", p.Address.Country)
		case "mobile_number":
			missing = appendIfEmpty(missing, f, p.Mobile)
		case "data_terms_signed_at":
			if p.DataTermsSignedAt == nil || p.DataTermsSignedAt.IsZero() {
				missing = append(missing, f)
			}
		case "terms_conditions_signed_at":
			if p.TermsConditionsSignedAt == nil || p.TermsConditionsSignedAt.IsZero() {
				missing = append(missing, f)
			}
		}
	}
	return missing
}

func appendIfEmpty(missing []string, field, value string) []string {
	if value == "" {
		return append(missing, field)
	}
	return missing
}

// ProofOfAddress is the document a customer gave as proof of their address, for an identification whose ID
// document does not show it (a passport). Seed 003: proof_of_address_type and proof_of_address_issued_at are
// "mandatory if the customer's identification document does not include their address", and the document "must
// NOT be older than 6 months".
type ProofOfAddress struct {
	// Type is Solaris' document type, e.g. "GAS_BILL".
	Type string `json:"type"`
	// IssuedAt is the document's issue date, YYYY-MM-DD.
	IssuedAt string `json:"issuedAt"`
}

// proofOfAddressMaxAge is how old a proof of address may be (seed 003).
const proofOfAddressMaxAge = 6 // months

// Validate checks the fields' form; CheckAge checks the date against a clock.
func (p ProofOfAddress) Validate() error {
	if p.Type == "" {
		return errors.New("type is required")
	}
	for _, r := range p.Type {
		if !(r >= 'A' && r <= 'Z' || r == '_') {
			return fmt.Errorf("type %q is not an upper-case Solaris document type such as GAS_BILL", p.Type)
		}
	}
	if _, err := time.Parse(time.DateOnly, p.IssuedAt); err != nil {
		return fmt.Errorf("issuedAt %q is not a date (YYYY-MM-DD)", p.IssuedAt)
	}
	return nil
}

// CheckAge reports a proof of address issued more than 6 months before now, or after it.
func (p ProofOfAddress) CheckAge(now time.Time) error {
	issued, err := time.Parse(time.DateOnly, p.IssuedAt)
	if err != nil {
		return fmt.Errorf("issuedAt %q is not a date (YYYY-MM-DD)", p.IssuedAt)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	switch {
	case issued.After(today):
		return fmt.Errorf("issuedAt %s is in the future", p.IssuedAt)
	case issued.Before(today.AddDate(0, -proofOfAddressMaxAge, 0)):
		return fmt.Errorf("issuedAt %s is more than 6 months ago: Solaris takes a proof of address no older than that", p.IssuedAt)
	}
	return nil
}

// SolarisAddress is a person's address at Solaris.
type SolarisAddress struct {
	Line1      string `json:"line_1"`
	Line2      string `json:"line_2,omitempty"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
	// State is sent when the backend has it. Seed 003 lists it in the address, yet its own example persons carry
	// "state": null, so it is not required.
	State string `json:"state,omitempty"`
}
