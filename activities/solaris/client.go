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
}

// New validates cfg and returns a Client. No request is made until the first call.
func New(cfg Config) (*Client, error) {
	var problems []string
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		problems = append(problems, "BaseURL is required")
	} else if err := checkURL(base, "https://api.solaris-sandbox.de"); err != nil {
		problems = append(problems, "BaseURL "+err.Error())
	}
	tokenURL := strings.TrimSpace(cfg.TokenURL)
	if tokenURL == "" {
		problems = append(problems, "TokenURL is required")
	} else if err := checkURL(tokenURL, "https://auth.solaris-sandbox.de/oauth2/token"); err != nil {
		problems = append(problems, "TokenURL "+err.Error())
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

// checkURL accepts an absolute https URL without query or fragment (http for loopback hosts only). example
// goes into the error message.
func checkURL(raw, example string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("must be an absolute https URL, e.g. %s", example)
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

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// request is one Solaris API call.
type request struct {
	op     string
	method string
	path   string // escaped, built with pathID
	query  url.Values
	body   any // marshalled as JSON when non-nil
}

// send makes the call with a bearer token. Solaris' tokens last an hour and an expired one is answered with
// 401, so a 401 invalidates the token and the call is retried exactly once with a fresh one; a second 401 is a
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

// maxIDLength bounds a Solaris resource ID. Solaris' IDs are 32 hex digits and a 4-letter suffix
// ("…cper", "…cidt"); the bound only keeps garbage out of URLs.
const maxIDLength = 200

// checkID says what is wrong with a Solaris resource ID, or returns "". The value is never quoted: a mix-up
// (an e-mail address in place of a person ID) could be personal data.
func checkID(id string) string {
	switch {
	case id == "":
		return "is empty"
	case len(id) > maxIDLength:
		return fmt.Sprintf("is %d bytes long, %d at most", len(id), maxIDLength)
	case id == "." || id == "..":
		return "is a relative path segment"
	}
	for _, r := range id {
		if r == '/' {
			return "must not contain '/'"
		}
		if r <= ' ' || r > '~' {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}

// pathID checks one ID for use in a path and returns it escaped. what names it in the error ("person ID").
func pathID(op, what, id string) (string, error) {
	if problem := checkID(id); problem != "" {
		return "", providerhttp.InvalidArgument(op, "the Solaris "+what+" "+problem)
	}
	return url.PathEscape(id), nil
}

// text decodes a JSON string (trimmed), number or boolean as its text, and null, objects and arrays as "".
// Solaris' fields such as failure_reason depend on the identification method; a shape we did not expect must
// not fail a call over a field that is informational.
type text string

func (t *text) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0, string(data) == "null", data[0] == '{', data[0] == '[':
		*t = ""
	case data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*t = text(strings.TrimSpace(s))
	default:
		*t = text(data)
	}
	return nil
}

// redact replaces every occurrence of the given values in msg. Provider error texts may quote what was sent
// (a name Solaris rejected); those values are personal data and must not reach an error. Values shorter than
// two characters are left alone: replacing single letters would garble the message and protect nothing.
func redact(msg string, values ...string) string {
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len([]rune(v)) < 2 {
			continue
		}
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

// redactError rebuilds a classified error with values redacted from its message, keeping its type,
// retryability and retry delay. Errors without any of the values are returned as they are.
func redactError(err error, values ...string) error {
	appErr, ok := err.(*temporal.ApplicationError)
	if !ok {
		return err
	}
	msg := redact(appErr.Message(), values...)
	if msg == appErr.Message() {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(msg, appErr.Type(), temporal.ApplicationErrorOptions{
		NonRetryable:   appErr.NonRetryable(),
		NextRetryDelay: appErr.NextRetryDelay(),
	})
}
