package providerhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"go.temporal.io/sdk/temporal"
)

// Request is one JSON API call to a provider, relative to the provider's base URL.
type Request struct {
	// Op names the call in errors, e.g. "treezor: get user KYC".
	Op     string
	Method string
	// Path is appended to the base URL as is: the caller escapes it (e.g. with PathID).
	Path  string
	Query url.Values
	// Body is marshalled as JSON when non-nil.
	Body any
}

// Auth supplies the bearer credential SendJSON sends and decides what a 401 means. It is implemented by
// *TokenSource, whose OAuth2 tokens may be revoked or expire early, so a 401 is worth one retry with a fresh
// token, and by APIKey, a fixed key for which a 401 is final.
type Auth interface {
	// bearer returns the credential for the next attempt.
	bearer(ctx context.Context) (string, error)
	// rejected is told that the credential got a 401 and reports whether a retry with a new one may succeed.
	rejected(credential string) bool
}

func (s *TokenSource) bearer(ctx context.Context) (string, error) { return s.Token(ctx) }

func (s *TokenSource) rejected(token string) bool {
	s.Invalidate(token)
	return true
}

// APIKey is a static bearer key (Yousign's). A 401 is not retried: the same key would be rejected again.
type APIKey string

func (k APIKey) bearer(context.Context) (string, error) { return string(k), nil }

func (APIKey) rejected(string) bool { return false }

// SendJSON sends r to baseURL with auth's bearer credential and returns the response, body read, for the caller
// to classify: provider-specific status handling (hints, redaction, special statuses) stays with the provider.
//
// When auth can refresh its credential, a 401 invalidates it and the call is retried exactly once with a fresh
// one; a second 401 is returned as a non-retryable ProviderUnauthorized application error. Errors from auth
// and from Do are returned as they are, so that application errors reach Temporal unwrapped.
func (c *Client) SendJSON(ctx context.Context, baseURL string, auth Auth, r Request) (*http.Response, []byte, error) {
	var payload []byte
	if r.Body != nil {
		var err error
		if payload, err = json.Marshal(r.Body); err != nil {
			return nil, nil, fmt.Errorf("%s: encode request: %w", r.Op, err)
		}
	}
	target := baseURL + r.Path
	if len(r.Query) > 0 {
		target += "?" + r.Query.Encode()
	}

	for attempt := 1; ; attempt++ {
		credential, err := auth.bearer(ctx)
		if err != nil {
			return nil, nil, err
		}
		// A nil io.Reader, not a nil *bytes.Reader: http.NewRequest would take a typed nil for a body.
		var body io.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, target, body)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: build request: %w", r.Op, err)
		}
		req.Header.Set("Authorization", "Bearer "+credential)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}

		resp, respBody, err := c.Do(req, r.Op)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized || !auth.rejected(credential) {
			return resp, respBody, nil
		}
		if attempt == 2 {
			return nil, nil, temporal.NewNonRetryableApplicationError(
				StatusMessage(r.Op, resp, respBody)+" (rejected again with a fresh access token)",
				ErrTypeUnauthorized, nil)
		}
	}
}
