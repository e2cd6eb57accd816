package solaris

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/signals"
)

// Identification methods and languages this client asks Solaris for.
const (
	methodIDnow = "idnow"
	// LanguageEN and LanguageDE are the languages an IDnow session can be held in.
	LanguageEN = "EN"
	LanguageDE = "DE"
)

// Identification is a Solaris person identification, as much of it as the IDnow flow needs.
type Identification struct {
	// ID is the identification_id (e.g. "…cidt").
	ID string
	// URL is where the customer goes through the IDnow video identification, valid for 14 days. Solaris sets
	// it when the identification is requested; empty before.
	URL string
	// Status is Solaris' status, one of the signals.SolarisStatus constants (or another value of Solaris' enum).
	Status string
	// FailureReason is IDnow's reason for an aborted, canceled or failed identification (e.g. TECH_PHOTO), when
	// Solaris gives one.
	FailureReason string
	// CompletedAt is when the identification completed; zero until then, or when Solaris' value is unreadable.
	CompletedAt time.Time
	// Documents are the documents submitted during the identification (ID and Type, the document_type such as
	// KYC_REPORT), when they were asked for.
	Documents []signals.Document
	// Reference is IDnow's identification token (e.g. "TST-KCCEY"), which PATCH .../request answers "for mobile
	// app": the backend's app starts the IDnow SDK with it. RequestIdentification alone sets it. Seed 003: "refrain from sharing the IDnow's reference
	// ID with the customer under any circumstances": it goes to the app's code, never to a screen or a log.
	Reference string
}

// CreateIdentification creates an IDnow identification resource for the person (POST
// /v1/persons/{person_id}/identifications) in language "EN" or "DE" (case-insensitive; empty means EN). It
// does not start the identification: call RequestIdentification next.
//
// Solaris does not make this call idempotent: a retry after a lost response leaves an unused identification in
// status created behind, which is harmless.
//
// proof, when set, is the customer's proof of address, which seed 003 makes "mandatory if the customer's
// identification document does not include their address" (a passport) and which "must NOT be older than 6
// months": an older one is refused before the call, as a non-retryable InvalidArgument naming the field.
func (c *Client) CreateIdentification(ctx context.Context, personID, language string, proof *signals.ProofOfAddress) (Identification, error) {
	const op = "solaris: create identification"
	pid, err := pathID(op, "person ID", personID)
	if err != nil {
		return Identification{}, err
	}
	lang := strings.ToUpper(strings.TrimSpace(language))
	switch lang {
	case "":
		lang = LanguageEN
	case LanguageEN, LanguageDE:
	default:
		return Identification{}, providerhttp.InvalidArgument(op, "the language must be EN or DE")
	}
	body := struct {
		Method                 string `json:"method"`
		Language               string `json:"language"`
		ProofOfAddressType     string `json:"proof_of_address_type,omitempty"`
		ProofOfAddressIssuedAt string `json:"proof_of_address_issued_at,omitempty"`
	}{Method: methodIDnow, Language: lang}
	if proof != nil {
		if err := proof.Validate(); err != nil {
			return Identification{}, providerhttp.InvalidArgument(op, "proof_of_address: "+err.Error())
		}
		if err := proof.CheckAge(c.now()); err != nil {
			return Identification{}, providerhttp.InvalidArgument(op, "proof_of_address_issued_at: "+err.Error())
		}
		body.ProofOfAddressType, body.ProofOfAddressIssuedAt = proof.Type, proof.IssuedAt
	}
	id, err := c.identification(ctx, providerhttp.Request{Op: op, Method: http.MethodPost,
		Path: "/v1/persons/" + pid + "/identifications", Body: body}, "")
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == providerhttp.ErrTypeBadRequest && strings.Contains(appErr.Message(), "proof_of_address") {
		// The customer's ID document does not show their address: the backend must collect a proof of address,
		// as it collects any other missing data point, and start again.
		return Identification{}, providerhttp.UserAnswer(appErr.Message()+
			" (the customer's ID document does not show their address: send a proof of address, proofOfAddress)",
			providerhttp.ErrTypeUserDataIncomplete)
	}
	return id, err
}

// RequestIdentification asks Solaris to start the identification with IDnow (PATCH
// /v1/persons/{person_id}/identifications/{id}/request). The identification moves to pending and gets the
// IDnow URL, which the result always has.
func (c *Client) RequestIdentification(ctx context.Context, personID, identificationID string) (Identification, error) {
	const op = "solaris: request identification"
	path, err := identificationPath(op, personID, identificationID)
	if err != nil {
		return Identification{}, err
	}
	id, err := c.identification(ctx, providerhttp.Request{Op: op, Method: http.MethodPatch, Path: path + "/request"}, identificationID)
	if err != nil {
		return Identification{}, err
	}
	if id.URL == "" {
		return Identification{}, providerhttp.InvalidResponse(op, "the response has no identification URL")
	}
	return id, nil
}

// GetIdentification reads the identification (GET /v1/persons/{person_id}/identifications/{id}), with the
// documents submitted during it when includeDocuments is set (?include_documents=true), e.g. to reconcile when
// an IDENTIFICATION webhook did not arrive, or to fetch the KYC report once it is successful.
func (c *Client) GetIdentification(ctx context.Context, personID, identificationID string, includeDocuments bool) (Identification, error) {
	const op = "solaris: get identification"
	path, err := identificationPath(op, personID, identificationID)
	if err != nil {
		return Identification{}, err
	}
	var query url.Values
	if includeDocuments {
		query = url.Values{"include_documents": {"true"}}
	}
	return c.identification(ctx, providerhttp.Request{Op: op, Method: http.MethodGet, Path: path, Query: query}, identificationID)
}

func identificationPath(op, personID, identificationID string) (string, error) {
	pid, err := pathID(op, "person ID", personID)
	if err != nil {
		return "", err
	}
	iid, err := pathID(op, "identification ID", identificationID)
	if err != nil {
		return "", err
	}
	return "/v1/persons/" + pid + "/identifications/" + iid, nil
}

// identificationResponse is the part of Solaris' identification object this package uses. Everything else, the
// person's address included, is skipped by the decoder.
type identificationResponse struct {
	ID            string                   `json:"id"`
	Reference     providerhttp.LooseString `json:"reference"`
	URL           providerhttp.LooseString `json:"url"`
	Status        providerhttp.LooseString `json:"status"`
	FailureReason providerhttp.LooseString `json:"failure_reason"`
	CompletedAt   timestamp                `json:"completed_at"`
	Documents     []struct {
		ID           providerhttp.LooseString `json:"id"`
		DocumentType providerhttp.LooseString `json:"document_type"`
	} `json:"documents"`
}

// identification makes the call and decodes the identification it answers with. wantID, when set, is the
// identification asked about: an answer about another one is refused rather than taken for it.
func (c *Client) identification(ctx context.Context, r providerhttp.Request, wantID string) (Identification, error) {
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return Identification{}, err
	}
	if err := providerhttp.Classify(resp, body, r.Op); err != nil {
		return Identification{}, err
	}
	var ir identificationResponse
	if err := json.Unmarshal(body, &ir); err != nil {
		return Identification{}, providerhttp.InvalidResponse(r.Op, "the response is not the expected identification object")
	}
	switch {
	case ir.ID == "" && wantID != "":
		ir.ID = wantID
	case wantID != "" && ir.ID != wantID:
		return Identification{}, providerhttp.InvalidResponse(r.Op, "the response is about another identification")
	}
	if problem := providerhttp.IDProblem(ir.ID); problem != "" {
		return Identification{}, providerhttp.InvalidResponse(r.Op, "the identification ID "+problem)
	}
	if ir.Status == "" {
		return Identification{}, providerhttp.InvalidResponse(r.Op, "the response has no identification status")
	}
	if ir.URL != "" && !providerhttp.IsWebURL(string(ir.URL)) {
		return Identification{}, providerhttp.InvalidResponse(r.Op, "the identification URL is not an absolute http(s) URL")
	}
	id := Identification{
		ID:            ir.ID,
		URL:           string(ir.URL),
		Status:        string(ir.Status),
		FailureReason: string(ir.FailureReason),
		CompletedAt:   time.Time(ir.CompletedAt),
	}
	if r.Method == http.MethodPatch {
		// Only the request's answer is "for mobile app" (seed 003); every other read leaves the token out.
		id.Reference = string(ir.Reference)
	}
	for _, d := range ir.Documents {
		if d.ID == "" {
			continue
		}
		id.Documents = append(id.Documents, signals.Document{ID: string(d.ID), Type: string(d.DocumentType)})
	}
	return id, nil
}

// timestamp decodes an RFC 3339 time ("2022-07-14T18:18:28.000Z") in UTC. null, or anything else, is the zero
// time: completed_at is informational, and an unexpected format must not fail the call.
type timestamp time.Time

func (t *timestamp) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '"' {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	if v, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil {
		*t = timestamp(v.UTC())
	}
	return nil
}
