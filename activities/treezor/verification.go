package treezor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

// ErrTypeLivenessNotProcessed is the type of the retryable error PUT /v1/users/{userId}/kycliveness answers
// with 406: Treezor's partner has not finished processing the last live verification, so its documents
// cannot be retrieved yet.
const ErrTypeLivenessNotProcessed = "LivenessNotProcessed"

// ErrTypeDocumentsNotStored is the type of the non-retryable error PUT /v1/users/{userId}/kycliveness answers with
// 405, "The documents can not be stored in our services" (Treezor's OpenAPI, put-kyc-liveness): the session's
// documents will not reach Treezor however often the call is repeated.
const ErrTypeDocumentsNotStored = "LivenessDocumentsNotStored"

// MaxAccessTagLength is the longest accessTag Treezor accepts.
const MaxAccessTagLength = 250

// The user fields Treezor requires before it starts an identification; a 428 means one is missing. Seed 001: "At
// least the firstname, lastname, and birthday of the user must be populated"; seeds 000 and 002 (video
// conference, QES): "At least the firstname, lastname, email, country, and phone fields".
const (
	livenessRequiredFields = "firstname, lastname and birthday"
	idnowRequiredFields    = "firstname, lastname, email, country and phone"
)

// Identification is what an initiate call returns.
type Identification struct {
	// ID is Treezor's (or its partner's) identifier of the verification session.
	ID string
	// URL is where the end user must be sent to go through the verification. For live verification it
	// expires 15 minutes after the user opens it.
	URL string
}

// UserKYC is a user's KYC state at Treezor: only the KYC fields of the User object.
type UserKYC struct {
	// UserID is Treezor's user ID, in decimal.
	UserID string
	// KycReview is the review status: 0 none, 1 pending, 2 validated, 3 refused, 6 review open, 7 review
	// pending (4 and 5 are deprecated). See the signals.KycReview constants.
	KycReview int
	// KycLevel is the KYC level: 0 none, 1 light, 2 regular, 3 strong, 4 refused, 5 prevalidated, 6 enhanced.
	KycLevel int
}

// InitiateLiveness starts a live verification (KYC Liveness or Certified video, whichever Treezor configured)
// with POST /v1/users/{userId}/kycliveness. redirectURL, when not empty, overrides where the user lands
// afterwards. Calling it again before the previous verification completed replaces that one, which makes the
// call safe to retry.
//
// A 428 is a non-retryable UserDataIncomplete: the user lacks firstname, lastname or birthday in Treezor.
func (c *Client) InitiateLiveness(ctx context.Context, userID, redirectURL string) (Identification, error) {
	return c.initiate(ctx, "treezor: initiate liveness", userID, "/kycliveness", redirectURL, livenessRequiredFields)
}

// InitiateQES starts a qualified electronic signature identification with POST /v1/users/{userId}/qes.
//
// A 428 is a non-retryable UserDataIncomplete: the user lacks firstname, lastname, email, country or phone in
// Treezor.
func (c *Client) InitiateQES(ctx context.Context, userID, redirectURL string) (Identification, error) {
	return c.initiate(ctx, "treezor: initiate QES", userID, "/qes", redirectURL, idnowRequiredFields)
}

// InitiateVideoConference starts a video conference identification with POST
// /v1/users/{userId}/videoconference.
//
// A 428 is a non-retryable UserDataIncomplete: the user lacks firstname, lastname, email, country or phone in
// Treezor.
func (c *Client) InitiateVideoConference(ctx context.Context, userID, redirectURL string) (Identification, error) {
	return c.initiate(ctx, "treezor: initiate video conference", userID, "/videoconference", redirectURL,
		idnowRequiredFields)
}

// initiateRequest is the body of the three initiate endpoints (postKycliveness_request, postKycqes_request).
type initiateRequest struct {
	RedirectURL string `json:"redirectUrl,omitempty"`
}

func (c *Client) initiate(ctx context.Context, op, userID, suffix, redirectURL, requiredFields string) (Identification, error) {
	path, err := userPath(op, userID, suffix)
	if err != nil {
		return Identification{}, err
	}
	if redirectURL != "" && !providerhttp.IsWebURL(redirectURL) {
		return Identification{}, providerhttp.InvalidArgument(op, "the redirect URL must be an absolute http(s) URL")
	}
	resp, body, err := c.send(ctx, providerhttp.Request{Op: op, Method: http.MethodPost, Path: path,
		Body: initiateRequest{RedirectURL: redirectURL}})
	if err != nil {
		return Identification{}, err
	}
	if resp.StatusCode == http.StatusPreconditionRequired {
		return Identification{}, userDataIncomplete(op, body, requiredFields)
	}
	if err := providerhttp.Classify(resp, body, op); err != nil {
		return Identification{}, err
	}
	return parseIdentification(op, body)
}

// userDataIncomplete says which fields to fill in; Treezor's own 428 text ("Specified userId is not found in
// our services", per its OpenAPI) does not.
func userDataIncomplete(op string, body []byte, requiredFields string) error {
	msg := fmt.Sprintf("%s: HTTP 428 Precondition Required: the user must have %s set in Treezor", op, requiredFields)
	if detail := providerhttp.ProviderMessage(body); detail != "" {
		msg += " (Treezor: " + detail + ")"
	}
	return providerhttp.UserAnswer(msg, providerhttp.ErrTypeUserDataIncomplete)
}

// identificationResponse accepts every shape Treezor is known to answer an initiate call with:
//   - kycliveness, OpenAPI postKycliveness_201_response: {"user_kyc":[{"identification-id","identification-url"}]}
//   - kycliveness, live verification guide: {"identification":{"identification-id","identification-url","type"}}
//   - qes and videoconference, postKycqes_201_response: {"identificationId","identificationURL"}
//   - qes, QES guide: {"identification":{"identificationId","identificationURL"}}
type identificationResponse struct {
	Identification *nestedIdentification  `json:"identification"`
	UserKYC        []nestedIdentification `json:"user_kyc"`
	ID             flexible               `json:"identificationId"`
	URL            string                 `json:"identificationURL"`
}

// nestedIdentification is spelled with hyphens (kycliveness) or in camelCase (the QES guide).
type nestedIdentification struct {
	ID       flexible `json:"identification-id"`
	URL      string   `json:"identification-url"`
	CamelID  flexible `json:"identificationId"`
	CamelURL string   `json:"identificationURL"`
}

func (n nestedIdentification) identification() Identification {
	if n.URL == "" && n.CamelURL != "" {
		return Identification{ID: string(n.CamelID), URL: n.CamelURL}
	}
	return Identification{ID: string(n.ID), URL: n.URL}
}

func parseIdentification(op string, body []byte) (Identification, error) {
	var r identificationResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return Identification{}, providerhttp.InvalidResponse(op, "the response is not the expected JSON")
	}
	candidates := []Identification{{ID: string(r.ID), URL: r.URL}}
	if r.Identification != nil {
		candidates = append(candidates, r.Identification.identification())
	}
	for _, k := range r.UserKYC {
		candidates = append(candidates, k.identification())
	}
	for _, id := range candidates {
		if id.URL == "" {
			continue
		}
		if !providerhttp.IsWebURL(id.URL) {
			return Identification{}, providerhttp.InvalidResponse(op, "the identification URL is not an absolute http(s) URL")
		}
		return id, nil
	}
	return Identification{}, providerhttp.InvalidResponse(op, "the response has no identification URL")
}

// RetrieveLivenessDocuments asks Treezor to fetch the documents of the user's last live verification from its
// partner and store them (PUT /v1/users/{userId}/kycliveness). Treezor's guide says to call it once the
// kycliveness.update webhook reports kyc-status processed with score 1; Treezor then sends one document.create
// webhook per document.
//
// A 406 (the verification is not processed yet) is the retryable ErrTypeLivenessNotProcessed; a 410 (the
// identification no longer exists) is a non-retryable ProviderGone.
func (c *Client) RetrieveLivenessDocuments(ctx context.Context, userID string) error {
	const op = "treezor: retrieve liveness documents"
	path, err := userPath(op, userID, "/kycliveness")
	if err != nil {
		return err
	}
	resp, body, err := c.send(ctx, providerhttp.Request{Op: op, Method: http.MethodPut, Path: path})
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotAcceptable {
		return temporal.NewApplicationError(
			providerhttp.StatusMessage(op, resp, body)+": the last live verification is not processed yet",
			ErrTypeLivenessNotProcessed)
	}
	if resp.StatusCode == http.StatusMethodNotAllowed {
		return temporal.NewNonRetryableApplicationError(
			providerhttp.StatusMessage(op, resp, body)+": Treezor cannot store the live verification's documents",
			ErrTypeDocumentsNotStored, nil)
	}
	return providerhttp.Classify(resp, body, op)
}

// RequestKYCReview asks Treezor's compliance team to review the user (PUT /v1/users/{userId}/Kycreview, with
// the capital K Treezor's API uses) and returns the user's KYC state right after, normally kycReview 1
// (pending). Treezor announces the decision with the user.kycreview webhook.
//
// accessTag is Treezor's idempotency key (at most 250 characters): pass the same value on every retry of one
// logical request, e.g. derived from the workflow ID, so that a retried activity does not queue a second
// review. An empty accessTag sends none.
func (c *Client) RequestKYCReview(ctx context.Context, userID, accessTag string) (UserKYC, error) {
	const op = "treezor: request KYC review"
	path, err := userPath(op, userID, "/Kycreview")
	if err != nil {
		return UserKYC{}, err
	}
	if len(accessTag) > MaxAccessTagLength {
		return UserKYC{}, providerhttp.InvalidArgument(op,
			fmt.Sprintf("the accessTag is %d bytes long, Treezor accepts at most %d", len(accessTag), MaxAccessTagLength))
	}
	var query url.Values
	if accessTag != "" {
		query = url.Values{"accessTag": {accessTag}}
	}
	return c.userKYC(ctx, providerhttp.Request{Op: op, Method: http.MethodPut, Path: path, Query: query}, userID)
}

// GetUserKYC reads the user's KYC state (GET /v1/users/{userId}), e.g. to reconcile when a user.kycreview
// webhook did not arrive.
func (c *Client) GetUserKYC(ctx context.Context, userID string) (UserKYC, error) {
	const op = "treezor: get user"
	path, err := userPath(op, userID, "")
	if err != nil {
		return UserKYC{}, err
	}
	return c.userKYC(ctx, providerhttp.Request{Op: op, Method: http.MethodGet, Path: path}, userID)
}

// usersResponse is the part of Treezor's UserObject ({"users":[{...}]}) this package uses. Every other field,
// personal data included, is skipped by the decoder.
type usersResponse struct {
	Users []struct {
		UserID    flexible `json:"userId"`
		KycReview flexible `json:"kycReview"`
		KycLevel  flexible `json:"kycLevel"`
	} `json:"users"`
}

func (c *Client) userKYC(ctx context.Context, r providerhttp.Request, userID string) (UserKYC, error) {
	var users usersResponse
	if err := c.readJSON(ctx, r, &users, "User object"); err != nil {
		return UserKYC{}, err
	}
	if len(users.Users) == 0 {
		return UserKYC{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: Treezor returned no user for this user ID", r.Op), providerhttp.ErrTypeNotFound, nil)
	}
	for _, u := range users.Users {
		// A response about another user must never be taken for this one's KYC state.
		if u.UserID != "" && !sameUserID(string(u.UserID), userID) {
			continue
		}
		review, err1 := atoi(u.KycReview)
		level, err2 := atoi(u.KycLevel)
		if err1 != nil || err2 != nil {
			return UserKYC{}, providerhttp.InvalidResponse(r.Op, "kycReview or kycLevel is not an integer")
		}
		return UserKYC{UserID: userID, KycReview: review, KycLevel: level}, nil
	}
	return UserKYC{}, providerhttp.InvalidResponse(r.Op, "the response is about another user")
}

// sameUserID compares user IDs as the integers they are ("0042" is user 42).
func sameUserID(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	return errA == nil && errB == nil && x == y
}

// atoi reads a flexible integer; an absent value is 0, as Treezor's enums start at 0 (NONE).
func atoi(f flexible) (int, error) {
	if f == "" {
		return 0, nil
	}
	return strconv.Atoi(string(f))
}
