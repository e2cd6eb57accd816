// Package treezor is the client of Treezor's identity-verification API (live verification, QES, video
// conference, KYC review). It owns authentication, request shapes and error classification; the Temporal
// activities are thin wrappers over it and return its errors as they are.
//
// Every error from a call is either a *temporal.ApplicationError whose Type() is one of the providerhttp.ErrType
// constants or ErrTypeLivenessNotProcessed, or the activity context's own error when it was cancelled.
//
// The User object Treezor returns holds personal data (names, birthday, address). Only the KYC fields are decoded
// and nothing of it is kept, logged or put in an error.
package treezor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API base URL, e.g. https://<company>.sandbox.treezor.co or https://<company>.api.treezor.com.
	// It must be https (plain http is accepted for loopback hosts only, for tests): the client secret goes
	// through it, and Treezor does not upgrade http to https.
	BaseURL string
	// ClientID and ClientSecret are the OAuth2 client credentials Treezor issued.
	ClientID     string
	ClientSecret string
	// Scope is the optional space-separated OAuth2 scope list. The endpoints used here need read_write (the
	// live verification ones also accept admin); Treezor's default scopes apply when empty.
	Scope string
	// HTTP tunes timeouts, in-process retries and the transport (e.g. for Treezor's mutual TLS).
	HTTP providerhttp.Options
}

// Client calls Treezor. It is safe for concurrent use; share one per process so that the access token is too.
type Client struct {
	baseURL string
	http    *providerhttp.Client
	tokens  *providerhttp.TokenSource
}

// New validates cfg and returns a Client. No request is made until the first call.
func New(cfg Config) (*Client, error) {
	var problems []string
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if err := providerhttp.CheckBaseURL("BaseURL", base, providerhttp.URLHint{
		Example: "https://<company>.sandbox.treezor.co",
		Exposed: "the client secret and tokens",
	}); err != nil {
		problems = append(problems, err.Error())
	}
	if cfg.ClientID == "" {
		problems = append(problems, "ClientID is required")
	}
	if cfg.ClientSecret == "" {
		problems = append(problems, "ClientSecret is required")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("treezor: invalid config: %s", strings.Join(problems, "; "))
	}

	httpClient := providerhttp.New(cfg.HTTP)
	tokens, err := providerhttp.NewTokenSource(httpClient, providerhttp.TokenConfig{
		// Treezor's POST /oauth/token takes the credentials as form fields, in multipart/form-data (its OpenAPI's
		// postAuth; its guide's curl uses --form).
		URL:           base + "/oauth/token",
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		Scope:         cfg.Scope,
		CredentialsIn: providerhttp.CredentialsInForm,
		Multipart:     true,
		Operation:     "treezor: get access token",
	})
	if err != nil {
		return nil, fmt.Errorf("treezor: %w", err)
	}
	return &Client{baseURL: base, http: httpClient, tokens: tokens}, nil
}

// send makes the call with a bearer token. Treezor's tokens last an hour but may be revoked or rotated early,
// so a 401 invalidates the token and the call is retried exactly once with a fresh one (see
// providerhttp.Client.SendJSON). Any other status is returned for the caller to classify.
func (c *Client) send(ctx context.Context, r providerhttp.Request) (*http.Response, []byte, error) {
	return c.http.SendJSON(ctx, c.baseURL, c.tokens, r)
}

// readJSON makes a read call and decodes its answer into into; a status that is not a success is classified
// (providerhttp.Classify), and an answer into cannot hold is an invalid response: "the response is not the
// expected <object>".
func (c *Client) readJSON(ctx context.Context, r providerhttp.Request, into any, object string) error {
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	if err := providerhttp.Classify(resp, body, r.Op); err != nil {
		return err
	}
	if err := json.Unmarshal(body, into); err != nil {
		return providerhttp.InvalidResponse(r.Op, "the response is not the expected "+object)
	}
	return nil
}

// userPath builds /v1/users/{userId}{suffix}. Treezor user IDs are integers: anything else is refused before a
// call is made, so that a mix-up (an email, our own user ID) fails loudly instead of as a 404 hours later.
func userPath(op, userID, suffix string) (string, error) {
	if userID == "" {
		return "", providerhttp.InvalidArgument(op, "the Treezor user ID is empty")
	}
	if len(userID) > 19 {
		return "", providerhttp.InvalidArgument(op, "the Treezor user ID is too long to be one")
	}
	for _, r := range userID {
		if r < '0' || r > '9' {
			// The value is not quoted: a wrong value could be personal data (an email address).
			return "", providerhttp.InvalidArgument(op, "the Treezor user ID must contain only digits")
		}
	}
	return "/v1/users/" + url.PathEscape(userID) + suffix, nil
}

// flexible decodes a JSON string or number as its text, and null as "". Treezor sends numeric fields such as
// userId, kycReview and kycLevel as numbers in API responses and as strings in webhooks ("kycReview": "1").
type flexible string

func (f *flexible) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case string(data) == "null":
		*f = ""
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*f = flexible(strings.TrimSpace(s))
		return nil
	default:
		var n json.Number
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("treezor: expected a string or a number")
		}
		*f = flexible(n)
		return nil
	}
}
