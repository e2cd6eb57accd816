package providerhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
)

// Application error types. Workflows branch on these strings (temporal.ApplicationError.Type()), so their
// values are part of the contract: never rename one.
const (
	// ErrTypeBadRequest: 400 or 422, the request itself is wrong. Non-retryable.
	ErrTypeBadRequest = "ProviderBadRequest"
	// ErrTypeUnauthorized: 401 even with a fresh token, or bad client credentials. Non-retryable.
	ErrTypeUnauthorized = "ProviderUnauthorized"
	// ErrTypeForbidden: 403, missing scope or permission. Non-retryable.
	ErrTypeForbidden = "ProviderForbidden"
	// ErrTypeNotFound: 404. Non-retryable.
	ErrTypeNotFound = "ProviderNotFound"
	// ErrTypeConflict: 409. Non-retryable.
	ErrTypeConflict = "ProviderConflict"
	// ErrTypeGone: 410, e.g. an identification that no longer exists. Non-retryable.
	ErrTypeGone = "ProviderGone"
	// ErrTypeUserDataIncomplete: 428, the provider needs more data on the user before it can start (Treezor:
	// firstname/lastname/birthday for a live verification, firstname/lastname/email/country/phone for QES and
	// video conference). Non-retryable until the user's data is fixed.
	ErrTypeUserDataIncomplete = "UserDataIncomplete"
	// ErrTypeNotEnabled: 501, the feature is not enabled for this account (Treezor). Non-retryable.
	ErrTypeNotEnabled = "ProviderFeatureNotEnabled"
	// ErrTypeRateLimited: 429. Retryable; NextRetryDelay carries the provider's Retry-After.
	ErrTypeRateLimited = "ProviderRateLimited"
	// ErrTypeUnavailable: 5xx or a network failure. Retryable.
	ErrTypeUnavailable = "ProviderUnavailable"
	// ErrTypeUnexpectedStatus: any other non-2xx status. Retryable, so that the retry policy bounds it.
	ErrTypeUnexpectedStatus = "ProviderUnexpectedStatus"
	// ErrTypeInvalidResponse: a 2xx whose body cannot be used (not JSON, a required field missing). Retryable:
	// it is usually a proxy or a transient provider fault, and the retry policy bounds it.
	ErrTypeInvalidResponse = "ProviderInvalidResponse"
	// ErrTypeInvalidArgument: the caller's input was rejected before any call (e.g. a malformed user ID).
	// Non-retryable.
	ErrTypeInvalidArgument = "InvalidArgument"
)

// DefaultRateLimitDelay is the NextRetryDelay of a 429 that has no usable Retry-After.
const DefaultRateLimitDelay = 5 * time.Second

// maxProviderMessage bounds the provider's text quoted in an error message, in runes.
const maxProviderMessage = 300

// Classify maps a provider response to a Temporal application error, or nil for a 2xx. operation names the call
// for a person reading the error ("treezor: initiate liveness"); the message adds the status and the provider's
// own error text (truncated), never the request and never more of the body.
func Classify(resp *http.Response, body []byte, operation string) error {
	return classify(resp, body, operation, time.Now())
}

func classify(resp *http.Response, body []byte, operation string, now time.Time) error {
	status := resp.StatusCode
	if status >= 200 && status <= 299 {
		return nil
	}
	msg := StatusMessage(operation, resp, body)
	nonRetryable := func(errType string) error {
		return temporal.NewNonRetryableApplicationError(msg, errType, nil)
	}
	switch {
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return nonRetryable(ErrTypeBadRequest)
	case status == http.StatusUnauthorized:
		return nonRetryable(ErrTypeUnauthorized)
	case status == http.StatusForbidden:
		return nonRetryable(ErrTypeForbidden)
	case status == http.StatusNotFound:
		return nonRetryable(ErrTypeNotFound)
	case status == http.StatusConflict:
		return nonRetryable(ErrTypeConflict)
	case status == http.StatusGone:
		return UserAnswer(msg, ErrTypeGone)
	case status == http.StatusPreconditionRequired:
		return UserAnswer(msg, ErrTypeUserDataIncomplete)
	case status == http.StatusTooManyRequests:
		delay, ok := retryAfter(resp.Header, now)
		if !ok || delay <= 0 {
			delay = DefaultRateLimitDelay
		}
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: delay})
	case status == http.StatusNotImplemented:
		// Treezor: "not implemented / not enabled": a feature missing from the account, which no retry fixes.
		return nonRetryable(ErrTypeNotEnabled)
	case status >= 500 && status <= 599:
		// A 503 may say when to come back; Temporal can honour that even though we could not in-process.
		var opts temporal.ApplicationErrorOptions
		if delay, ok := retryAfter(resp.Header, now); ok && delay > 0 {
			opts.NextRetryDelay = delay
		}
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeUnavailable, opts)
	default:
		return temporal.NewApplicationError(msg, ErrTypeUnexpectedStatus)
	}
}

// UserAnswer is the non-retryable error for a provider's answer about the user rather than about kycflow or its
// account (428: the user's data is incomplete; 410: the user's session is gone). The workflow turns it into the
// outcome the backend acts on, so it is marked benign: the SDK logs it at DEBUG and does not count it as an
// activity failure, and no operator is alerted for a user's incomplete profile.
func UserAnswer(msg, errType string) error {
	return temporal.NewApplicationErrorWithOptions(msg, errType,
		temporal.ApplicationErrorOptions{NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign})
}

// StatusMessage formats "operation: HTTP 428 Precondition Required: <provider's message>" for a response. It
// is what Classify puts in its errors, exported for provider clients that map a status to their own type.
func StatusMessage(operation string, resp *http.Response, body []byte) string {
	msg := fmt.Sprintf("%s: HTTP %d", operation, resp.StatusCode)
	if text := http.StatusText(resp.StatusCode); text != "" {
		msg += " " + text
	}
	if detail := ProviderMessage(body); detail != "" {
		msg += ": " + detail
	}
	return msg
}

// InvalidResponse returns the retryable ErrTypeInvalidResponse error for a 2xx body that cannot be used.
// problem says what is wrong ("no identification URL"); it must not quote the body.
func InvalidResponse(operation, problem string) error {
	return temporal.NewApplicationError(fmt.Sprintf("%s: unusable provider response: %s", operation, problem),
		ErrTypeInvalidResponse)
}

// InvalidArgument returns the non-retryable ErrTypeInvalidArgument error for input rejected before any call.
func InvalidArgument(operation, problem string) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %s", operation, problem),
		ErrTypeInvalidArgument, nil)
}

// transportError is a network failure that outlived the in-process retries. The cause (a *url.Error) names
// the method and URL, never a body or a header.
func transportError(operation string, err error) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s: provider unreachable", operation),
		ErrTypeUnavailable, temporal.ApplicationErrorOptions{Cause: err})
}

// errorBody covers the error shapes of the providers we call:
//   - Treezor: {"errors":[{"type","code","message","docUrl","requestId"}]}
//   - Solaris: {"errors":[{"id","status","code","title","detail"}]}
//   - Yousign: {"type","title","detail"} (RFC 9457 problem details)
//   - OAuth2 token endpoints: {"error","error_description"} (RFC 6749 section 5.2)
//
// Every field is a LooseString so that an unexpected type (a numeric code) does not hide the rest.
type errorBody struct {
	Errors []struct {
		Type      LooseString `json:"type"`
		Code      LooseString `json:"code"`
		Message   LooseString `json:"message"`
		Title     LooseString `json:"title"`
		Detail    LooseString `json:"detail"`
		RequestID LooseString `json:"requestId"`
	} `json:"errors"`
	Type             LooseString `json:"type"`
	Title            LooseString `json:"title"`
	Detail           LooseString `json:"detail"`
	Message          LooseString `json:"message"`
	Error            LooseString `json:"error"`
	ErrorDescription LooseString `json:"error_description"`
}

// ProviderMessage extracts a provider's error text from an error body, at most 300 characters. A body in none
// of the known shapes yields a whitespace-collapsed snippet of at most the same length when it is text, and ""
// otherwise.
func ProviderMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		if msg := eb.message(); msg != "" {
			return Truncate(msg, maxProviderMessage)
		}
		// JSON we cannot read: quoting it could echo whatever the provider put in it.
		return ""
	}
	if !utf8.Valid(body) {
		return ""
	}
	return Truncate(strings.Join(strings.Fields(string(body)), " "), maxProviderMessage)
}

func (eb errorBody) message() string {
	var parts []string
	for _, e := range eb.Errors {
		text := firstNonEmpty(string(e.Message), string(e.Detail), string(e.Title))
		var tags []string
		if e.Code != "" {
			tags = append(tags, "code="+string(e.Code))
		}
		if e.Type != "" && text == "" {
			tags = append(tags, "type="+string(e.Type))
		}
		if e.RequestID != "" {
			tags = append(tags, "requestId="+string(e.RequestID))
		}
		if len(tags) > 0 {
			text = strings.TrimSpace(text + " (" + strings.Join(tags, ", ") + ")")
		}
		if text != "" {
			parts = append(parts, text)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	if text := firstNonEmpty(string(eb.Detail), string(eb.Message), string(eb.Title)); text != "" {
		if eb.Type != "" {
			text += " (type=" + string(eb.Type) + ")"
		}
		return text
	}
	if eb.Error != "" {
		if eb.ErrorDescription != "" {
			return string(eb.Error) + ": " + string(eb.ErrorDescription)
		}
		return string(eb.Error)
	}
	return ""
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Truncate cuts s to at most n runes, marking the cut, and replaces control characters with spaces so that a
// provider's text cannot forge extra log lines.
func Truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// LooseString decodes a JSON string (trimmed), number or boolean as its text, and anything else (null, objects,
// arrays) as "". A field of an unexpected type then reads as "" or as its literal text instead of failing the
// whole decode.
type LooseString string

func (s *LooseString) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return nil
	case data[0] == '"':
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = LooseString(strings.TrimSpace(v))
	case data[0] == '{', data[0] == '[', string(data) == "null":
		*s = ""
	default:
		*s = LooseString(data)
	}
	return nil
}
