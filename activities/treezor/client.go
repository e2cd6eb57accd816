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
	"net"
	"net/http"
	"net/url"
	"strings"

	"go.temporal.io/sdk/temporal"

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
	if base == "" {
		problems = append(problems, "BaseURL is required")
	} else if err := checkBaseURL(base); err != nil {
		problems = append(problems, "BaseURL "+err.Error())
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
		// Treezor's POST /oauth/token takes the credentials as form fields.
		URL:           base + "/oauth/token",
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		Scope:         cfg.Scope,
		CredentialsIn: providerhttp.CredentialsInForm,
		Operation:     "treezor: get access token",
	})
	if err != nil {
		return nil, fmt.Errorf("treezor: %w", err)
	}
	return &Client{baseURL: base, http: httpClient, tokens: tokens}, nil
}

func checkBaseURL(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("must be an absolute https URL, e.g. https://<company>.sandbox.treezor.co")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("must use https: the client secret and tokens would travel in clear text")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must not have a query or fragment")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// request is one Treezor API call.
type request struct {
	op     string
	method string
	path   string // escaped, from userPath
	query  url.Values
	body   any // marshalled as JSON when non-nil
}

// send makes the call with a bearer token. Treezor's tokens last an hour but may be revoked or rotated early,
// so a 401 invalidates the token and the call is retried exactly once with a fresh one; a second 401 is a
// non-retryable ProviderUnauthorized. Any other status is returned for the caller to classify.
func (c *Client) send(ctx context.Context, r request) (*http.Response, []byte, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, nil, fmt.Errorf("%s: encode request: %w", r.op, err)
		}
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}

	for attempt := 1; ; attempt++ {
		token, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, nil, err
		}
		var body *bytes.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := newRequest(ctx, r.method, target, body)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: build request: %w", r.op, err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}

		resp, respBody, err := c.http.Do(req, r.op)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, respBody, nil
		}
		c.tokens.Invalidate(token)
		if attempt == 2 {
			return nil, nil, temporal.NewNonRetryableApplicationError(
				providerhttp.StatusMessage(r.op, resp, respBody)+" (rejected again with a fresh access token)",
				providerhttp.ErrTypeUnauthorized, nil)
		}
	}
}

// newRequest avoids handing http.NewRequest a typed nil reader, which it would treat as a body.
func newRequest(ctx context.Context, method, target string, body *bytes.Reader) (*http.Request, error) {
	if body == nil {
		return http.NewRequestWithContext(ctx, method, target, nil)
	}
	return http.NewRequestWithContext(ctx, method, target, body)
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
