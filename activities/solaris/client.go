// Package solaris is the client of Solaris' person and identification API, for video identification with
// IDnow. It owns authentication, request shapes and error classification; the Temporal activities are thin
// wrappers over it and return its errors as they are.
//
// Every error from a call is either a *temporal.ApplicationError whose Type() is one of the providerhttp.ErrType
// constants, or the context's own error when it was cancelled.
//
// Solaris' person and identification objects hold personal data (names, birth date, address), and an
// identification carries IDnow's reference, an internal token that must never reach the end user. Only the
// fields this package returns are decoded; nothing else is kept, logged or put in an error.
package solaris

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

// tokenScope is the OAuth2 scope Solaris' token endpoint grants partners.
const tokenScope = "partners"

// Config configures a Client.
type Config struct {
	// BaseURL is the API base URL: https://api.solaris-sandbox.de (sandbox) or https://api.solarisbank.de
	// (production). It must be https; plain http is accepted for loopback hosts only, for tests.
	BaseURL string
	// TokenURL is the OAuth2 token endpoint: https://auth.solaris-sandbox.de/oauth2/token (sandbox) or
	// https://auth.solarisbank.de/oauth2/token (production). Same https rule as BaseURL: the client secret
	// goes through it.
	TokenURL string
	// ClientID and ClientSecret are the OAuth2 client credentials Solaris issued. They are sent with HTTP
	// Basic auth, as Solaris requires.
	ClientID     string
	ClientSecret string
	// HTTP tunes timeouts, in-process retries and the transport.
	HTTP providerhttp.Options
}

// Client calls Solaris. It is safe for concurrent use; share one per process so that the access token is too.
type Client struct {
	baseURL string
	http    *providerhttp.Client
	tokens  *providerhttp.TokenSource
	// clock dates the checks on a proof of address; time.Now unless a test sets it.
	clock func() time.Time
}

func (c *Client) now() time.Time {
	if c.clock == nil {
		return time.Now()
	}
	return c.clock()
}

// New validates cfg and returns a Client. No request is made until the first call.
func New(cfg Config) (*Client, error) {
	var problems []string
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	const exposed = "the client secret and tokens"
	if err := providerhttp.CheckBaseURL("BaseURL", base, providerhttp.URLHint{
		Example: "https://api.solaris-sandbox.de", Exposed: exposed,
	}); err != nil {
		problems = append(problems, err.Error())
	}
	tokenURL := strings.TrimSpace(cfg.TokenURL)
	if err := providerhttp.CheckBaseURL("TokenURL", tokenURL, providerhttp.URLHint{
		Example: "https://auth.solaris-sandbox.de/oauth2/token", Exposed: exposed,
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
		return nil, fmt.Errorf("solaris: invalid config: %s", strings.Join(problems, "; "))
	}

	httpClient := providerhttp.New(cfg.HTTP)
	tokens, err := providerhttp.NewTokenSource(httpClient, providerhttp.TokenConfig{
		URL:           tokenURL,
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		Scope:         tokenScope,
		CredentialsIn: providerhttp.CredentialsInBasicAuth,
		Operation:     "solaris: get access token",
	})
	if err != nil {
		return nil, fmt.Errorf("solaris: %w", err)
	}
	return &Client{baseURL: base, http: httpClient, tokens: tokens}, nil
}

// send makes the call with a bearer token. Solaris' tokens last an hour and an expired one is answered with
// 401, so a 401 invalidates the token and the call is retried exactly once with a fresh one (see
// providerhttp.Client.SendJSON). Any other status is returned for the caller to classify.
func (c *Client) send(ctx context.Context, r providerhttp.Request) (*http.Response, []byte, error) {
	return c.http.SendJSON(ctx, c.baseURL, c.tokens, r)
}

// pathID checks one Solaris resource ID for use in a path and returns it escaped. what names it in the error
// ("person ID"). Solaris' IDs are 32 hex digits and a 4-letter suffix ("…cper", "…cidt").
func pathID(op, what, id string) (string, error) {
	return providerhttp.PathID(op, "Solaris "+what, id)
}

// redactError rebuilds a classified error with values redacted from its message, keeping its type,
// retryability and retry delay. Solaris' error texts may quote what was sent (a name it rejected).
func redactError(err error, values ...string) error {
	return providerhttp.Reword(err, func(msg string) string { return providerhttp.Redact(msg, values...) })
}
