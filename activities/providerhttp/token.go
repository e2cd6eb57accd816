package providerhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// CredentialsIn says where a client-credentials token request carries the client ID and secret.
type CredentialsIn int

const (
	// CredentialsInForm sends client_id and client_secret as form fields, as Treezor's POST /oauth/token
	// documents.
	CredentialsInForm CredentialsIn = iota
	// CredentialsInBasicAuth sends them as HTTP Basic auth (client_id:client_secret), as Solaris' token
	// endpoint requires.
	CredentialsInBasicAuth
)

// defaultTokenLifetime is assumed when a token response has no usable expires_in. Short on purpose: caching a
// token for too long costs a 401 and a refresh, caching it too briefly only an extra token request.
const defaultTokenLifetime = 5 * time.Minute

// TokenConfig describes an OAuth2 client-credentials grant (RFC 6749 section 4.4).
type TokenConfig struct {
	// URL is the token endpoint, e.g. "{base}/oauth/token" for Treezor.
	URL          string
	ClientID     string
	ClientSecret string
	// Scope is sent when non-empty (space-separated scopes).
	Scope string
	// CredentialsIn says where the client ID and secret go.
	CredentialsIn CredentialsIn
	// Multipart sends the form as multipart/form-data instead of RFC 6749's application/x-www-form-urlencoded:
	// Treezor's OpenAPI declares multipart/form-data for POST /oauth/token (postAuth), and its guide's curl uses
	// --form.
	Multipart bool
	// Operation names token requests in errors, e.g. "treezor: get access token".
	Operation string
}

// TokenSource fetches and caches an OAuth2 client-credentials access token. It is safe for concurrent use:
// callers that need a token while one is being fetched wait for that fetch instead of starting their own.
type TokenSource struct {
	client *Client
	cfg    TokenConfig
	now    func() time.Time

	mu       sync.Mutex
	token    string
	expiry   time.Time
	inflight *tokenFetch
}

// tokenFetch is one token request shared by every caller that waits on it.
type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

// NewTokenSource returns a TokenSource that requests tokens through client.
func NewTokenSource(client *Client, cfg TokenConfig) (*TokenSource, error) {
	var missing []string
	if client == nil {
		missing = append(missing, "client")
	}
	if cfg.URL == "" {
		missing = append(missing, "URL")
	}
	if cfg.ClientID == "" {
		missing = append(missing, "ClientID")
	}
	if cfg.ClientSecret == "" {
		missing = append(missing, "ClientSecret")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("providerhttp: token source: missing %s", strings.Join(missing, ", "))
	}
	if _, err := url.ParseRequestURI(cfg.URL); err != nil {
		return nil, fmt.Errorf("providerhttp: token source: invalid URL: %w", err)
	}
	if cfg.CredentialsIn != CredentialsInForm && cfg.CredentialsIn != CredentialsInBasicAuth {
		return nil, fmt.Errorf("providerhttp: token source: unknown CredentialsIn %d", cfg.CredentialsIn)
	}
	if cfg.Operation == "" {
		cfg.Operation = "get access token"
	}
	return &TokenSource{client: client, cfg: cfg, now: time.Now}, nil
}

// Token returns a valid access token, fetching a new one when none is cached or the cached one is about to
// expire. Errors are classified like any provider call (a 401 from the token endpoint is a non-retryable
// ProviderUnauthorized: the credentials are wrong).
//
// The fetch itself is not cancelled by ctx, since other callers may be waiting on it; ctx only bounds how
// long this caller waits. Each attempt is bounded by the Client's timeout.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.token != "" && s.now().Before(s.expiry) {
		token := s.token
		s.mu.Unlock()
		return token, nil
	}
	f := s.inflight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		s.inflight = f
		go s.fetch(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()

	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %w", s.cfg.Operation, ctx.Err())
	}
}

// Invalidate drops the cached token if it is still rejected, the token a call just got a 401 with, so the next
// Token call fetches a new one. Passing the rejected token (rather than dropping whatever is cached) keeps
// many callers that failed with the same old token from each forcing another fetch.
func (s *TokenSource) Invalidate(rejected string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.token == rejected {
		s.token = ""
		s.expiry = time.Time{}
	}
}

func (s *TokenSource) fetch(ctx context.Context, f *tokenFetch) {
	issued := s.now()
	token, lifetime, err := s.request(ctx)

	s.mu.Lock()
	if err == nil {
		s.token = token
		s.expiry = issued.Add(lifetime - refreshMargin(lifetime))
	}
	s.inflight = nil
	s.mu.Unlock()

	f.token, f.err = token, err
	close(f.done)
}

// refreshMargin renews a token a little before it expires, so that a token is not sent just as it lapses:
// min(60s, lifetime/10).
func refreshMargin(lifetime time.Duration) time.Duration {
	return min(time.Minute, lifetime/10)
}

// tokenResponse is the RFC 6749 section 5.1 response. expires_in is a number for both Treezor and Solaris;
// json.Number also accepts it quoted.
type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	ExpiresIn   json.Number `json:"expires_in"`
}

func (s *TokenSource) request(ctx context.Context) (string, time.Duration, error) {
	op := s.cfg.Operation
	form := url.Values{"grant_type": {"client_credentials"}}
	if s.cfg.Scope != "" {
		form.Set("scope", s.cfg.Scope)
	}
	if s.cfg.CredentialsIn == CredentialsInForm {
		form.Set("client_id", s.cfg.ClientID)
		form.Set("client_secret", s.cfg.ClientSecret)
	}
	body, contentType, err := encodeForm(form, s.cfg.Multipart)
	if err != nil {
		return "", 0, fmt.Errorf("%s: encode form: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return "", 0, fmt.Errorf("%s: build request: %w", op, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if s.cfg.CredentialsIn == CredentialsInBasicAuth {
		req.SetBasicAuth(s.cfg.ClientID, s.cfg.ClientSecret)
	}

	resp, answer, err := s.client.Do(req, op)
	if err != nil {
		return "", 0, err
	}
	if err := Classify(resp, answer, op); err != nil {
		return "", 0, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(answer, &tr); err != nil {
		return "", 0, InvalidResponse(op, "token response is not the expected JSON")
	}
	if tr.AccessToken == "" {
		return "", 0, InvalidResponse(op, "token response has no access_token")
	}
	// A missing, fractional or absurd expires_in falls back to the short default rather than failing a call
	// over a token that works.
	lifetime := defaultTokenLifetime
	if secs, err := tr.ExpiresIn.Int64(); err == nil && secs > 0 && secs <= int64(24*time.Hour/time.Second) {
		lifetime = time.Duration(secs) * time.Second
	}
	return tr.AccessToken, lifetime, nil
}

// encodeForm writes the token request's fields urlencoded (RFC 6749) or as multipart/form-data, in a stable order,
// and returns the body with its Content-Type.
func encodeForm(form url.Values, multipartForm bool) ([]byte, string, error) {
	if !multipartForm {
		return []byte(form.Encode()), "application/x-www-form-urlencoded", nil
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	keys := slices.Sorted(maps.Keys(form))
	for _, k := range keys {
		if err := w.WriteField(k, form.Get(k)); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}
