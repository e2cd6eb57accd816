package providerhttp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// URLHint words CheckBaseURL's errors for one provider setting.
type URLHint struct {
	// Example is a valid value, shown when the URL is not an absolute https one.
	Example string
	// Exposed says what plain http would send in clear text, e.g. "the API key".
	Exposed string
}

// CheckBaseURL checks a configured provider URL: absolute https without query or fragment. Plain http is
// accepted for loopback hosts only, so that tests can use httptest servers while credentials never leave the
// machine unencrypted. field names the setting in the error ("BaseURL is required").
func CheckBaseURL(field, raw string, hint URLHint) error {
	if raw == "" {
		return errors.New(field + " is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a URL: %w", field, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s must be an absolute https URL, e.g. %s", field, hint.Example)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s must use https: %s would travel in clear text", field, hint.Exposed)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must not have a query or fragment", field)
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

// IsWebURL reports whether s is an absolute http(s) URL, as a URL handed to an end user must be.
func IsWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// maxIDLength bounds a provider resource ID used as a path segment. Real IDs (UUIDs, Solaris' 36-character
// IDs) are far shorter; the bound only keeps garbage out of URLs.
const maxIDLength = 200

// IDProblem says what is wrong with a provider resource ID meant for one URL path segment, or returns "". The
// value is never quoted: a mix-up (an e-mail address in place of an ID) could be personal data.
func IDProblem(id string) string {
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

// PathID checks an ID for use as a path segment and returns it escaped. what names it in the non-retryable
// InvalidArgument error, e.g. "Solaris person ID".
func PathID(op, what, id string) (string, error) {
	if problem := IDProblem(id); problem != "" {
		return "", InvalidArgument(op, "the "+what+" "+problem)
	}
	return url.PathEscape(id), nil
}

// Redact replaces every occurrence of the given values in msg. Provider error texts may quote what was sent (a
// name the provider rejected); those values are personal data and must not reach an error. Values shorter than
// two characters are left alone: replacing single letters would garble the message and protect nothing.
func Redact(msg string, values ...string) string {
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len([]rune(v)) < 2 {
			continue
		}
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

// Reword rebuilds a classified error with the message reword returns, keeping its type, retryability and retry
// delay, so that a provider can add hints or redact. Errors that are not application errors, and those whose
// message reword leaves as it is, are returned as they are.
func Reword(err error, reword func(msg string) string) error {
	appErr, ok := err.(*temporal.ApplicationError)
	if !ok {
		return err
	}
	msg := reword(appErr.Message())
	if msg == appErr.Message() {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(msg, appErr.Type(), temporal.ApplicationErrorOptions{
		NonRetryable:   appErr.NonRetryable(),
		NextRetryDelay: appErr.NextRetryDelay(),
	})
}
