// Package providerhttp is the HTTP plumbing every provider client (Treezor, Solaris, Yousign) shares: a client
// with a small in-process retry budget, an OAuth2 client-credentials token cache, and the mapping of provider
// responses to Temporal application errors.
//
// Retries are layered. This package retries a call briefly inside one activity attempt (network errors,
// 502/503/504, and 429 whose Retry-After is short); everything longer is left to the activity's Temporal retry
// policy, which the errors from Classify steer (non-retryable types, NextRetryDelay).
//
// Nothing here logs request or response bodies, tokens or secrets.
package providerhttp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Defaults applied by New to zero-valued Options. The retry budget is small on purpose: Temporal's activity
// retry policy owns long retries, and an activity attempt that sleeps for long hides the failure from it.
const (
	DefaultRetryMax     = 2
	DefaultRetryWaitMin = 100 * time.Millisecond
	DefaultRetryWaitMax = time.Second
	DefaultTimeout      = 10 * time.Second
)

// PooledTransport is Go's default transport keeping up to 64 idle connections per host instead of 2: as many as
// the calls a busy process has in flight to one host, so that a steady load reuses its connections rather than
// opening one per call beyond the second (about 1.5 per verification under `make bench`).
func PooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// maxResponseBytes bounds how much of a response body is read. Provider responses used here are small JSON
// documents; anything larger is not something we can use.
const maxResponseBytes = 1 << 20

// Options tunes a Client. The zero value gives the defaults above.
type Options struct {
	// RetryMax is the number of in-process retries after the first attempt. Zero means DefaultRetryMax; a
	// negative value disables in-process retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the wait between in-process retries. No wait is ever longer than
	// RetryWaitMax, whatever Retry-After says; a longer Retry-After is left to Temporal.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// Timeout bounds each HTTP attempt (http.Client.Timeout), response body included.
	Timeout time.Duration
	// Transport replaces the default transport, e.g. to present a client certificate: Treezor relies on mutual
	// TLS as an additional security layer.
	Transport http.RoundTripper
	// Logger receives retryablehttp's debug lines (method and URL of each attempt and retry). Nil, the default,
	// logs nothing.
	Logger *slog.Logger
}

// Client sends provider requests with a small in-process retry budget. It is safe for concurrent use.
type Client struct {
	rc *retryablehttp.Client
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	if opts.RetryMax == 0 {
		opts.RetryMax = DefaultRetryMax
	} else if opts.RetryMax < 0 {
		opts.RetryMax = 0
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = DefaultRetryWaitMin
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = DefaultRetryWaitMax
	}
	if opts.RetryWaitMin > opts.RetryWaitMax {
		opts.RetryWaitMin = opts.RetryWaitMax
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	transport := opts.Transport
	if transport == nil {
		transport = PooledTransport()
	}

	rc := &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: transport,
			Timeout:   opts.Timeout,
			// Provider APIs answer directly; following a redirect could replay a POST as a GET or send the
			// bearer token somewhere unexpected. A 3xx is returned and classified instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryMax:     opts.RetryMax,
		RetryWaitMin: opts.RetryWaitMin,
		RetryWaitMax: opts.RetryWaitMax,
		CheckRetry:   retryPolicy(opts.RetryWaitMax, time.Now),
		Backoff:      cappedBackoff(time.Now),
		// The caller must see the last response, body intact, to classify it.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	// retryablehttp's default logger prints every attempt's URL to stderr; only log when asked to.
	if opts.Logger != nil {
		rc.Logger = opts.Logger
	}
	return &Client{rc: rc}
}

// Do sends req, retrying in-process as described in the package comment, and returns the final response with
// its body read (at most 1 MiB) and closed. Any status is returned as is: pass it to Classify.
//
// A network failure that outlived the retries is returned as a retryable ProviderUnavailable application
// error; a cancelled or expired req context is returned as the context's error, wrapped with operation.
func (c *Client) Do(req *http.Request, operation string) (*http.Response, []byte, error) {
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: prepare request: %w", operation, err)
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("%s: %w", operation, ctxErr)
		}
		return nil, nil, transportError(operation, err)
	}
	defer drain(resp.Body)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("%s: %w", operation, ctxErr)
		}
		return nil, nil, transportError(operation, fmt.Errorf("read response body: %w", err))
	}
	return resp, body, nil
}

// drain discards what is left of a body (bounded) so the connection can be reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxResponseBytes))
	_ = body.Close()
}

// retryPolicy retries network errors (except those retryablehttp knows to be permanent, such as TLS
// certificate failures), 502/503/504, and 429 only when its Retry-After fits in maxWait: a longer wait belongs
// to Temporal, which gets the 429 through Classify.
func retryPolicy(maxWait time.Duration, now func() time.Time) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if err != nil {
			return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		}
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true, nil
		case http.StatusTooManyRequests:
			wait, ok := retryAfter(resp.Header, now())
			return ok && wait <= maxWait, nil
		}
		return false, nil
	}
}

// cappedBackoff is exponential from min, honours Retry-After on 429 and 503, and never exceeds max.
// retryablehttp.DefaultBackoff honours Retry-After without a cap, which would let a provider park an activity
// attempt for as long as it likes.
func cappedBackoff(now func() time.Time) retryablehttp.Backoff {
	return func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			if wait, ok := retryAfter(resp.Header, now()); ok {
				return min(max(wait, minWait), maxWait)
			}
		}
		wait := minWait
		for range attempt {
			wait *= 2
			if wait >= maxWait {
				return maxWait
			}
		}
		return min(wait, maxWait)
	}
}

// retryAfter parses a Retry-After header, delay-seconds or HTTP-date (RFC 9110 section 10.2.3). A date in the
// past is a zero delay; ok is false when the header is absent or malformed.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Far beyond any useful delay; keeps the multiplication from overflowing.
		secs = min(secs, int64(365*24*time.Hour/time.Second))
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
