package yousign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

// Limits Yousign's API reference sets on a verification request.
const (
	// MaxNameLength is the longest first_name or last_name Yousign accepts, in characters.
	MaxNameLength = 255
	// MaxRedirectURLLength is the longest redirection_url Yousign accepts.
	MaxRedirectURLLength = 2000
)

const verificationsPath = "/verifications/identity_videos"

// Verification is a Yousign video identity verification, without any of the personal data Yousign returns
// with it.
type Verification struct {
	// ID is Yousign's verification ID.
	ID string
	// URL is where the user goes through the verification (an id.ubble.ai page). It expires 15 minutes after
	// the verification is created; Yousign may omit it once the verification is done.
	URL string
	// Status is pending, verified, failed or inconclusive (the signals.YousignStatus constants).
	Status string
	// StatusCodes explain a failed or inconclusive verification, e.g. "IDVV_1112".
	StatusCodes []string
}

// CreateVerification opens a video identity verification (POST /verifications/identity_videos) for the person
// with these names, which must match the identity document. redirectURL, where Yousign sends the user
// afterwards, is required by Yousign.
//
// The names (1 to 255 characters, no control characters) and the redirect URL (absolute http(s), at most 2000
// characters) are checked before any call; a bad one is a non-retryable InvalidArgument that never quotes a
// name.
//
// Yousign does not make this call idempotent: a retry after a lost response opens a second verification, and
// the first one ends inconclusive (never started) after its URL expires, without a charge.
func (c *Client) CreateVerification(ctx context.Context, firstName, lastName, redirectURL string) (Verification, error) {
	const op = "yousign: create verification"
	var problems []string
	for _, field := range []struct{ name, value string }{{"first_name", firstName}, {"last_name", lastName}} {
		if problem := checkName(field.value); problem != "" {
			problems = append(problems, field.name+" "+problem)
		}
	}
	switch {
	case redirectURL == "":
		problems = append(problems, "the redirect URL is required by Yousign")
	case len(redirectURL) > MaxRedirectURLLength:
		problems = append(problems, fmt.Sprintf("the redirect URL is %d bytes long, Yousign accepts at most %d",
			len(redirectURL), MaxRedirectURLLength))
	case !providerhttp.IsWebURL(redirectURL):
		problems = append(problems, "the redirect URL must be an absolute http(s) URL")
	}
	if len(problems) > 0 {
		return Verification{}, providerhttp.InvalidArgument(op, strings.Join(problems, "; "))
	}

	body := struct {
		FirstName      string `json:"first_name"`
		LastName       string `json:"last_name"`
		RedirectionURL string `json:"redirection_url"`
	}{FirstName: firstName, LastName: lastName, RedirectionURL: redirectURL}
	respBody, err := c.send(ctx, providerhttp.Request{Op: op, Method: http.MethodPost, Path: verificationsPath, Body: body},
		firstName, lastName)
	if err != nil {
		return Verification{}, err
	}
	v, err := parseVerification(op, respBody, "")
	if err != nil {
		return Verification{}, err
	}
	if v.URL == "" {
		return Verification{}, providerhttp.InvalidResponse(op, "the response has no verification URL")
	}
	return v, nil
}

// checkName says what is wrong with a name, or returns "".
func checkName(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "is required"
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(name) > MaxNameLength:
		return fmt.Sprintf("is %d characters long, Yousign accepts at most %d", utf8.RuneCountInString(name), MaxNameLength)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "contains a control character"
	}
	return ""
}

// GetVerification reads a verification (GET /verifications/identity_videos/{id}), e.g. for its result once the
// verification.identity_video.done webhook arrived, or to reconcile when it did not.
func (c *Client) GetVerification(ctx context.Context, id string) (Verification, error) {
	const op = "yousign: get verification"
	pid, err := providerhttp.PathID(op, "Yousign verification ID", id)
	if err != nil {
		return Verification{}, err
	}
	body, err := c.send(ctx, providerhttp.Request{Op: op, Method: http.MethodGet, Path: verificationsPath + "/" + pid})
	if err != nil {
		return Verification{}, err
	}
	return parseVerification(op, body, id)
}

// verificationResponse is the part of Yousign's identity video object this package uses. data (what was
// extracted from the document, with image URLs) and every other field are skipped by the decoder.
type verificationResponse struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	StatusCodes     codes  `json:"status_codes"`
	VerificationURL string `json:"verification_url"`
}

// parseVerification decodes a verification. wantID, when set, is the verification asked about: an answer
// about another one is refused rather than taken for it.
func parseVerification(op string, body []byte, wantID string) (Verification, error) {
	var vr verificationResponse
	if err := json.Unmarshal(body, &vr); err != nil {
		return Verification{}, providerhttp.InvalidResponse(op, "the response is not the expected verification object")
	}
	switch {
	case vr.ID == "" && wantID != "":
		vr.ID = wantID
	case wantID != "" && vr.ID != wantID:
		return Verification{}, providerhttp.InvalidResponse(op, "the response is about another verification")
	}
	if problem := providerhttp.IDProblem(vr.ID); problem != "" {
		return Verification{}, providerhttp.InvalidResponse(op, "the verification ID "+problem)
	}
	if strings.TrimSpace(vr.Status) == "" {
		return Verification{}, providerhttp.InvalidResponse(op, "the response has no verification status")
	}
	if vr.VerificationURL != "" && !providerhttp.IsWebURL(vr.VerificationURL) {
		return Verification{}, providerhttp.InvalidResponse(op, "the verification URL is not an absolute http(s) URL")
	}
	return Verification{
		ID:          vr.ID,
		URL:         vr.VerificationURL,
		Status:      strings.TrimSpace(vr.Status),
		StatusCodes: []string(vr.StatusCodes),
	}, nil
}

// codes decodes status_codes: strings ("IDVV_1112") as documented for this API, and numbers (62102) as the
// beta API sent them, as their text. null is none.
type codes []string

func (c *codes) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		r = bytes.TrimSpace(r)
		switch {
		case len(r) > 0 && r[0] == '"':
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				return err
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		default:
			var n json.Number
			if err := json.Unmarshal(r, &n); err != nil {
				return fmt.Errorf("yousign: a status code is neither a string nor a number")
			}
			out = append(out, n.String())
		}
	}
	if len(out) == 0 {
		out = nil
	}
	*c = out
	return nil
}
