// Package yousign is the client of Yousign's video identity verification API (v3, /verifications/identity_videos).
// It owns authentication, request shapes and error classification; the Temporal activities are thin wrappers
// over it and return its errors as they are.
//
// Every error from a call is either a *temporal.ApplicationError whose Type() is one of the providerhttp.ErrType
// constants, or the context's own error when it was cancelled.
//
// A verification holds personal data: the names it was opened with, and, once done, what Yousign extracted from
// the identity document (full name, birth date, images). Only the ID, status, status codes and URL are decoded;
// nothing else is kept, logged or put in an error.
package yousign

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API v3 base URL, path included: https://api-sandbox.yousign.app/v3 (sandbox) or
	// https://api.yousign.app/v3 (production). It must be https; plain http is accepted for loopback hosts only,
	// for tests.
	BaseURL string
	// APIKey is the key created in Yousign's app for the same environment, sent as a bearer token. Creating
	// verifications needs a Full-Access key; a Read-Only one gets 403.
	APIKey string
	// HTTP tunes timeouts, in-process retries and the transport.
	HTTP providerhttp.Options
}

// Client calls Yousign. It is safe for concurrent use.
type Client struct {
	baseURL string
	apiKey  string
	http    *providerhttp.Client
}

// New validates cfg and returns a Client. No request is made until the first call.
func New(cfg Config) (*Client, error) {
	var problems []string
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if err := providerhttp.CheckBaseURL("BaseURL", base, providerhttp.URLHint{
		Example: "https://api-sandbox.yousign.app/v3",
		Exposed: "the API key",
	}); err != nil {
		problems = append(problems, err.Error())
	}
	if cfg.APIKey == "" {
		problems = append(problems, "APIKey is required")
	} else if strings.IndexFunc(cfg.APIKey, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		// Usually a trailing newline from a secret file. The key itself is not quoted.
		problems = append(problems, "APIKey must be printable ASCII without spaces or line breaks")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("yousign: invalid config: %s", strings.Join(problems, "; "))
	}
	return &Client{baseURL: base, apiKey: cfg.APIKey, http: providerhttp.New(cfg.HTTP)}, nil
}

// send makes the call with the API key and classifies a non-2xx answer. There is no token to refresh: a 401
// means the API key is wrong or belongs to the other environment, and is a non-retryable ProviderUnauthorized.
// personal are values sent in the request that Yousign's error text might quote back; they are redacted from
// errors.
func (c *Client) send(ctx context.Context, r providerhttp.Request, personal ...string) ([]byte, error) {
	resp, body, err := c.http.SendJSON(ctx, c.baseURL, providerhttp.APIKey(c.apiKey), r)
	if err != nil {
		return nil, err
	}
	if err := classify(resp, body, r.Op, personal); err != nil {
		return nil, err
	}
	return body, nil
}

// statusHints add what a person can do about a status whose cause Yousign documents.
var statusHints = map[int]string{
	http.StatusUnauthorized: "check the API key, and that it was created for this environment (sandbox or production)",
	http.StatusForbidden:    "check that the API key has Full-Access permission",
}

// classify is providerhttp.Classify with Yousign's invalid_params and a hint added to the message, and the
// request's personal values redacted from it. Type, retryability and retry delay stay Classify's.
func classify(resp *http.Response, body []byte, op string, personal []string) error {
	return providerhttp.Reword(providerhttp.Classify(resp, body, op), func(msg string) string {
		if params := invalidParams(body); params != "" {
			msg += "; invalid parameters: " + params
		}
		if hint := statusHints[resp.StatusCode]; hint != "" {
			msg += " (" + hint + ")"
		}
		return providerhttp.Redact(msg, personal...)
	})
}

// maxParamsMessage bounds the invalid_params text in an error message, in runes.
const maxParamsMessage = 300

// invalidParams formats the invalid_params of Yousign's validation errors ({"type","detail","invalid_params":
// [{"name","reason"}]}) as "name: reason, ...", at most 300 characters, or "" when there are none.
func invalidParams(body []byte) string {
	var eb struct {
		InvalidParams []struct {
			Name   json.RawMessage `json:"name"`
			Reason json.RawMessage `json:"reason"`
		} `json:"invalid_params"`
	}
	if json.Unmarshal(body, &eb) != nil {
		return ""
	}
	var parts []string
	for _, p := range eb.InvalidParams {
		name, reason := jsonString(p.Name), jsonString(p.Reason)
		switch {
		case name != "" && reason != "":
			parts = append(parts, name+": "+reason)
		case name != "":
			parts = append(parts, name)
		case reason != "":
			parts = append(parts, reason)
		}
	}
	return providerhttp.Truncate(strings.Join(parts, ", "), maxParamsMessage)
}

// jsonString is the trimmed text of a JSON string, and "" for anything else.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
