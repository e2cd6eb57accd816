package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/signals"
)

// Server plays the three providers. It is an http.Handler; Close stops its timers and webhook deliveries.
type Server struct {
	// relays are the relays' base URLs (Config.WebhookURL); nextRelay picks the one of the next delivery.
	relays    []string
	nextRelay atomic.Uint64
	cfg       Config
	clock     Clock
	log       *slog.Logger
	mux       *http.ServeMux
	client    *http.Client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards everything below; handlers and timers hold it only while they read or change state.
	mu       sync.Mutex
	closed   bool
	tokens   map[string]token
	subjects map[string]*subject
	sessions map[string]*session
	tz       treezorState
	sol      solarisState
	ys       yousignState
}

// token is an OAuth2 access token the sandbox issued.
type token struct {
	provider signals.Provider
	expires  time.Time
}

// subject is a Treezor user, a Solaris person, or the person a Yousign verification names: what scenarios and
// faults attach to.
type subject struct {
	key      string
	provider signals.Provider
	id       string
	// scenario is the test case the subject's names carry, "" for the default.
	scenario string
	faults   []Fault
	api      apiFaults
	// dropUsed: the one webhook DROP withholds is gone.
	dropUsed bool
	stats    SubjectStats
}

func (sub *subject) has(f Fault) bool { return slices.Contains(sub.faults, f) }

// scenarioFor resolves the subject's scenario for a method.
func (sub *subject) scenarioFor(m signals.Method) (Scenario, error) {
	name := sub.scenario
	if name == "" {
		name = DefaultScenario(m)
	}
	sc, ok := Lookup(m, name)
	if !ok {
		return Scenario{}, fmt.Errorf("sandbox: %s has no scenario %s (one of: %s)", m, name, strings.Join(ScenarioNames(m), ", "))
	}
	return sc, nil
}

// session is an identification session; identification URLs point to its page.
type session struct {
	provider signals.Provider
	method   signals.Method
	subject  string
	scenario string
	opened   time.Time
}

// New returns a Server for a configuration; zero values take defaults (DefaultTimeScale, development
// credentials and secrets).
func New(cfg Config) (*Server, error) {
	if cfg.Clock.Scale == 0 {
		c, _ := NewClock(DefaultTimeScale)
		cfg.Clock = c
	}
	if _, err := NewClock(cfg.Clock.Scale); err != nil {
		return nil, err
	}
	if cfg.Credentials == (Credentials{}) {
		cfg.Credentials = DevCredentials()
	}
	if cfg.WebhookSecrets == (WebhookSecrets{}) {
		cfg.WebhookSecrets = DevWebhookSecrets()
	}
	if cfg.WebhookSecrets.Treezor == "" || cfg.WebhookSecrets.Solaris == "" || cfg.WebhookSecrets.Yousign == "" {
		return nil, errors.New("sandbox: every provider needs a webhook secret")
	}
	if cfg.MinRetryBackoff <= 0 {
		cfg.MinRetryBackoff = 250 * time.Millisecond
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	var relays []string
	for _, u := range strings.Split(cfg.WebhookURL, ",") {
		relays = append(relays, strings.TrimRight(strings.TrimSpace(u), "/"))
	}
	cfg.WebhookURL = strings.Join(relays, ",")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		relays: relays,
		cfg:    cfg,
		clock:  cfg.Clock,
		log:    cfg.Logger,
		mux:    http.NewServeMux(),
		client: &http.Client{
			// Webhooks to one relay reuse their connections, as a provider's delivery service would.
			Transport: providerhttp.PooledTransport(),
			// Yousign gives up after more than 2 redirects; the others are not documented.
			CheckRedirect: func(_ *http.Request, via []*http.Request) error {
				if len(via) > 2 {
					return errors.New("more than 2 redirects")
				}
				return nil
			},
		},
		ctx:      ctx,
		cancel:   cancel,
		tokens:   map[string]token{},
		subjects: map[string]*subject{},
		sessions: map[string]*session{},
	}
	s.tz.init()
	s.sol.init()
	s.ys.init()
	if cfg.ExampleUsers {
		s.addExampleUsers()
	}
	s.routeTreezor()
	s.routeSolaris()
	s.routeYousign()
	s.routeSandbox()
	return s, nil
}

// ServeHTTP serves the providers' APIs and the sandbox's own endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops every pending step and delivery and waits for them. The server answers 503 afterwards.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Clock is the server's clock.
func (s *Server) Clock() Clock { return s.clock }

// newSubject registers a subject with the faults its names and the global configuration give it. Call with s.mu.
func (s *Server) newSubject(p signals.Provider, id, scenario string, faults []Fault) *subject {
	for _, f := range s.cfg.Faults.draw() {
		if !slices.Contains(faults, f) {
			faults = append(faults, f)
		}
	}
	sub := &subject{key: string(p) + "/" + id, provider: p, id: id, scenario: scenario, faults: faults, api: newAPIFaults(faults)}
	sub.stats = SubjectStats{Key: sub.key, Provider: p, ID: id, Scenario: scenario, Faults: faults}
	s.subjects[sub.key] = sub
	s.log.Info("Subject created", "provider", string(p), "subject", id, "scenario", scenarioLabel(scenario), "faults", FaultToken(faults))
	return sub
}

func scenarioLabel(name string) string {
	if name == "" {
		return "(default)"
	}
	return name
}

// apiFault answers a call about the subject itself when its scenario or faults say so, and counts the call.
// Call with s.mu; ok is false when the call goes on.
func (s *Server) apiFault(sub *subject, now time.Time) (status int, retryAfter time.Duration, ok bool) {
	sub.stats.APICalls++
	if !sub.api.limitedAt.IsZero() && sub.stats.RetryAfterWaited == 0 {
		sub.stats.RetryAfterWaited = Seconds(now.Sub(sub.api.limitedAt).Seconds())
	}
	switch {
	case sub.scenario == "UNAVAILABLE":
		sub.stats.Faulted5xx++
		return http.StatusServiceUnavailable, 0, true
	case sub.api.limitPending:
		sub.api.limitPending = false
		sub.api.limitedAt = now
		sub.stats.Faulted429++
		s.log.Info("Fault: 429", "subject", sub.key, "retryAfter", RetryAfter.String())
		return http.StatusTooManyRequests, RetryAfter, true
	case sub.api.burst > 0:
		status := burstStatuses[len(burstStatuses)-sub.api.burst]
		sub.api.burst--
		sub.stats.Faulted5xx++
		s.log.Info("Fault: 5xx", "subject", sub.key, "status", status)
		return status, 0, true
	}
	return 0, 0, false
}

// issueToken creates an access token valid for lifetime. Call with s.mu.
func (s *Server) issueToken(p signals.Provider, lifetime time.Duration) string {
	t := randomHex(24)
	s.tokens[t] = token{provider: p, expires: time.Now().Add(lifetime)}
	return t
}

// bearer checks the request's bearer token for a provider. Call with s.mu.
func (s *Server) bearer(r *http.Request, p signals.Provider) bool {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	info, ok := s.tokens[strings.TrimSpace(t)]
	return ok && info.provider == p && time.Now().Before(info.expires)
}

// sameSecret compares credentials in constant time.
func sameSecret(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// openSession registers an identification session and returns its URL. Call with s.mu.
func (s *Server) openSession(id string, p signals.Provider, m signals.Method, sub *subject, scenario string) string {
	s.sessions[id] = &session{provider: p, method: m, subject: sub.id, scenario: scenario, opened: time.Now()}
	s.log.Info("Session opened", "method", string(m), "subject", sub.key, "session", id, "scenario", scenario, "faults", FaultToken(sub.faults))
	return s.cfg.PublicURL + "/sessions/" + url.PathEscape(id)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeJSON reads a small JSON request body into v.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body is not the expected JSON object")
	}
	return nil
}

// SignalledEvent is a webhook the relay said it signalled: its event ID and the SHA-256 (hex) of its event type
// and the bytes its signature covers.
type SignalledEvent struct {
	EventID string `json:"eventId"`
	Content string `json:"content"`
}

// SubjectStats is what happened to one subject, for tests and operators.
type SubjectStats struct {
	// Key is provider/ID: treezor/<userId>, solaris/<person_id>, yousign/<NameKey>.
	Key      string           `json:"key"`
	Provider signals.Provider `json:"provider"`
	ID       string           `json:"id"`
	Scenario string           `json:"scenario,omitempty"`
	Faults   []Fault          `json:"faults,omitempty"`

	// APICalls counts the API calls about the subject (token requests aside), Faulted5xx and Faulted429 those a
	// fault or the scenario answered.
	APICalls   int `json:"apiCalls"`
	Faulted5xx int `json:"faulted5xx"`
	Faulted429 int `json:"faulted429"`
	// EarlyReviews counts KYC review requests refused because a document.create webhook had yet to go out (seed 001).
	EarlyReviews int `json:"earlyReviews,omitempty"`
	// RetryAfterWaited is how long the client waited after the 429 before its next call.
	RetryAfterWaited Seconds `json:"retryAfterWaitedSeconds,omitempty"`

	// Webhooks counts the events emitted; Deliveries the HTTP attempts to deliver them (retries and duplicates
	// included), answered 2xx (Acknowledged), otherwise (Refused), or not at all (Unreachable).
	Webhooks     int `json:"webhooks"`
	Deliveries   int `json:"deliveries"`
	Acknowledged int `json:"acknowledged"`
	Refused      int `json:"refused"`
	Unreachable  int `json:"unreachable"`
	// Signalled lists the webhooks the relay acknowledged as signalled to a workflow: each must be in a history, by
	// its event ID or, where the provider sent the same signed content twice (which Temporal records once), by
	// another with the same Content.
	Signalled []SignalledEvent `json:"signalled,omitempty"`
	// Retried counts deliveries after the first of a webhook; GaveUp the webhooks never acknowledged.
	Retried int `json:"retried"`
	GaveUp  int `json:"gaveUp"`
	// Duplicated, Dropped and Reordered count what the DUP, DROP and REORDER faults did.
	Duplicated int `json:"duplicated"`
	Dropped    int `json:"dropped"`
	Reordered  int `json:"reordered"`
}

// Seconds is a duration in seconds, for JSON.
type Seconds float64

// Stats returns the statistics of every subject, ordered by key.
func (s *Server) Stats() []SubjectStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SubjectStats, 0, len(s.subjects))
	for _, sub := range s.subjects {
		out = append(out, sub.stats)
	}
	slices.SortFunc(out, func(a, b SubjectStats) int { return strings.Compare(a.Key, b.Key) })
	return out
}

var sessionPage = template.Must(template.New("session").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>kycflow sandbox session</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>kycflow sandbox</h1>
<p>This page stands in for the provider's identification page. <strong>It is a development and test tool
only.</strong> The sandbox plays the user and the provider according to the scenario; there is nothing to do here.</p>
<table>
<tr><td>Method</td><td>{{.Method}}</td></tr>
<tr><td>Session</td><td>{{.ID}}</td></tr>
<tr><td>Scenario</td><td>{{.Scenario}}</td></tr>
<tr><td>What happens</td><td>{{.Does}}</td></tr>
<tr><td>Expected outcome</td><td>{{.Expected}}</td></tr>
</table>
</body></html>
`))

func (s *Server) sessionPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	sess, ok := s.sessions[id]
	s.mu.Unlock()
	if !ok {
		// The page a person opens from a URL that outlived a sandbox restart: say why, and what to do.
		http.Error(w, "No such identification session. The kycflow sandbox keeps its sessions in memory, so a URL "+
			"issued before it restarted (a new `make run`) is gone, and that verification will hear nothing from the "+
			"sandbox: start a new verification.", http.StatusNotFound)
		return
	}
	sc, _ := Lookup(sess.method, sess.scenario)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = sessionPage.Execute(w, map[string]string{
		"Method": string(sess.method), "ID": id, "Scenario": sess.scenario, "Does": sc.Does, "Expected": sc.ExpectedText(),
	})
}
