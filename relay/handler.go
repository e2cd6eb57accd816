package relay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kycflow/kycflow/signals"
)

// Endpoints.
const (
	PathTreezor = "/webhooks/treezor"
	PathSolaris = "/webhooks/solaris"
	PathYousign = "/webhooks/yousign"
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
	PathMetrics = "/metrics"
)

// reasonClosed answers an event for a verification that has already closed.
const reasonClosed = "the verification has already closed"

// readyTimeout bounds the Temporal health check of /readyz.
const readyTimeout = 2 * time.Second

// Handler is the relay's HTTP API: the three webhook endpoints and /healthz, for the providers and the load
// balancer; and, on the admin address (Admin), /healthz, /readyz and /metrics for operators. Readiness and
// metrics stay off the public port: they tell whoever asks whether Temporal is up and how many webhooks of each
// kind each provider sent.
type Handler struct {
	cfg     Config
	sig     Signaler
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	admin   *http.ServeMux

	treezorKeys, solarisKeys, yousignKeys [][]byte
}

// NewHandler builds the relay's handler over a Signaler. Zero MaxBodyBytes and SignalTimeout take their defaults;
// LookupWait and GraceAttempts are used as given (LoadConfig sets their defaults). A provider without secrets gets
// 401 for every webhook. A nil logger discards the log.
func NewHandler(cfg Config, sig Signaler, logger *slog.Logger) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.SignalTimeout <= 0 {
		cfg.SignalTimeout = DefaultSignalTimeout
	}
	if cfg.LookupWait < 0 {
		cfg.LookupWait = 0
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg:         cfg,
		sig:         sig,
		log:         logger,
		metrics:     newMetrics(),
		mux:         http.NewServeMux(),
		admin:       http.NewServeMux(),
		treezorKeys: cfg.TreezorSecrets.keys(),
		solarisKeys: cfg.SolarisSecrets.keys(),
		yousignKeys: cfg.YousignSecrets.keys(),
	}
	h.mux.Handle("POST "+PathTreezor, h.webhook(signals.ProviderTreezor, treezorEventLabels, h.treezor))
	h.mux.Handle("POST "+PathSolaris, h.webhook(signals.ProviderSolaris, solarisEventLabels, h.solaris))
	h.mux.Handle("POST "+PathYousign, h.webhook(signals.ProviderYousign, yousignEventLabels, h.yousign))
	healthz := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
	h.mux.HandleFunc("GET "+PathHealthz, healthz)
	h.admin.HandleFunc("GET "+PathHealthz, healthz)
	h.admin.HandleFunc("GET "+PathReadyz, h.readyz)
	h.admin.Handle("GET "+PathMetrics, promhttp.HandlerFor(h.metrics.registry, promhttp.HandlerOpts{}))
	return h
}

// ServeHTTP serves the public endpoints: the webhooks and /healthz.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Admin serves the operators' endpoints: /healthz, /readyz and /metrics.
func (h *Handler) Admin() http.Handler { return h.admin }

// Registry is the handler's Prometheus registry (served on /metrics).
func (h *Handler) Registry() *prometheus.Registry { return h.metrics.registry }

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := h.sig.CheckHealth(ctx); err != nil {
		h.log.Warn("Temporal is not reachable", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporal unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// reply is what one webhook request came to: the response, its metric labels and its log line.
type reply struct {
	status int
	result string
	// event is the event type as received; only allow-listed values become a metric label.
	event string
	// reason is a short fixed text for the response body and the log; never content of the body.
	reason     string
	workflowID string
	eventID    string
	// signalKey deduplicates the signal at Temporal (signedContentKey).
	signalKey string
	attempt   string
	// err is an internal error (Temporal's), logged and never sent.
	err error
}

func unauthorized(event, reason string) reply {
	return reply{status: http.StatusUnauthorized, result: ResultUnauthorized, event: event, reason: reason}
}

// treezorUnverified answers a Treezor webhook whose signature is missing or does not match with a 500, not a 401:
// Treezor's integrity-checks guide says to return a code "in the 500 range" when the signatures differ, and it
// retries only those. A 401 would lose every event signed during a secret rotation the relay has not caught up
// with; a 500 has Treezor retry it (every minute, up to 30 attempts) until the relay knows the new secret. The
// event is still refused: nothing unverified ever signals a workflow.
func treezorUnverified(event, reason string) reply {
	return reply{status: http.StatusInternalServerError, result: ResultUnauthorized, event: event, reason: reason}
}

func malformed(event, reason string) reply {
	return reply{status: http.StatusBadRequest, result: ResultMalformed, event: event, reason: reason}
}

func unwanted(event, reason string) reply {
	return reply{status: http.StatusOK, result: ResultUnwanted, event: event, reason: reason}
}

// webhook wraps a provider's handling with what every webhook shares: the body limit, the response, the request
// counter and one log line.
func (h *Handler) webhook(provider signals.Provider, labels map[string]bool, handle func(*http.Request, []byte) reply) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body, rep, ok := h.readBody(w, r)
		if ok {
			rep = handle(r, body)
		}
		label := eventLabel(rep.event, labels)
		h.metrics.requests.WithLabelValues(string(provider), label, rep.result).Inc()
		h.logReply(provider, label, rep, time.Since(start))
		if rep.result == ResultSignalled {
			writeJSON(w, rep.status, map[string]string{"result": rep.result})
			return
		}
		if rep.result == ResultUnwanted {
			// Which case it is, for the person reading the provider's delivery log.
			writeJSON(w, rep.status, map[string]string{"result": rep.result, "reason": rep.reason})
			return
		}
		writeJSON(w, rep.status, map[string]string{"error": rep.reason})
	})
}

// readBody reads the whole body up to the limit; past it the request is answered 413.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, reply, bool) {
	tooLarge := reply{status: http.StatusRequestEntityTooLarge, result: ResultTooLarge,
		reason: "body larger than " + strconv.FormatInt(h.cfg.MaxBodyBytes, 10) + " bytes"}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		discardRest(w, r)
		return nil, tooLarge, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, malformed("", "body could not be read"), false
	}
	if int64(len(body)) > h.cfg.MaxBodyBytes {
		discardRest(w, r)
		return nil, tooLarge, false
	}
	return body, reply{}, true
}

// Bounds on what discardRest reads of an oversized body.
const (
	maxDiscardBytes = 16 << 20
	maxDiscardTime  = 10 * time.Second
)

// discardRest reads and drops what is left of an oversized body, up to a bound, before the 413 is sent and the
// connection closed. A provider still writing when the relay closes gets a reset while sending, and most clients
// then give up without reading the answer and retry a webhook that will never fit. A client that asked to
// "Expect: 100-continue" has not sent the body: reading it would ask for it, so it is left alone.
func discardRest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	if strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(maxDiscardTime))
	_, _ = io.CopyN(io.Discard, r.Body, maxDiscardBytes)
}

func (h *Handler) logReply(provider signals.Provider, label string, rep reply, took time.Duration) {
	attrs := []slog.Attr{
		slog.String("provider", string(provider)),
		slog.String("event", label),
		slog.String("result", rep.result),
		slog.Int("status", rep.status),
		slog.Int64("durationMs", took.Milliseconds()),
	}
	if label == eventOther && rep.event != "" && rep.result != ResultUnauthorized && rep.result != ResultMalformed {
		// A verified event type kycflow does not use: worth knowing, and bounded.
		attrs = append(attrs, slog.String("eventType", printable(rep.event, 64)))
	}
	for _, a := range []struct{ k, v string }{
		{"workflowId", rep.workflowID}, {"eventId", rep.eventID}, {"attempt", rep.attempt}, {"reason", rep.reason},
	} {
		if a.v != "" {
			attrs = append(attrs, slog.String(a.k, a.v))
		}
	}
	if rep.err != nil {
		attrs = append(attrs, slog.String("error", rep.err.Error()))
	}
	level := slog.LevelInfo
	switch rep.result {
	case ResultUnauthorized, ResultMalformed, ResultTooLarge:
		level = slog.LevelWarn
	case ResultUnavailable:
		level = slog.LevelError
		if rep.err == nil {
			// A young delivery sent back for a retry while visibility catches up.
			level = slog.LevelWarn
		}
	}
	if errors.Is(rep.err, ErrAmbiguous) {
		level = slog.LevelError
	}
	h.log.LogAttrs(context.Background(), level, "Webhook "+rep.result, attrs...)
}

// deliver signals the workflow and turns Temporal's answer into the reply: accepted, 200; no such running
// workflow, 200 unwanted; anything else, 503 so that the provider retries.
func (h *Handler) deliver(ctx context.Context, provider signals.Provider, rep reply, workflowID, runID, signal string, payload any) reply {
	rep.workflowID = workflowID
	ctx, cancel := context.WithTimeout(withSignalKey(ctx, rep.signalKey), h.cfg.SignalTimeout)
	defer cancel()
	start := time.Now()
	err := h.sig.Signal(ctx, workflowID, runID, signal, payload)
	h.metrics.signal.WithLabelValues(string(provider)).Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		rep.status, rep.result = http.StatusOK, ResultSignalled
	case errors.Is(err, ErrClosed):
		rep.status, rep.result, rep.reason = http.StatusOK, ResultUnwanted, reasonClosed
	case errors.Is(err, ErrNotFound):
		rep.status, rep.result, rep.reason = http.StatusOK, ResultUnwanted, "no verification for this subject"
	default:
		rep.status, rep.result, rep.reason, rep.err = http.StatusServiceUnavailable, ResultUnavailable, "temporal unavailable, retry later", err
	}
	return rep
}

// deliverByReference finds the running workflow that carries a provider reference and signals it. Visibility
// lags a moment behind the workflow, so a young delivery (attempt counter at most GraceAttempts) that finds no
// workflow is answered 503 for the provider to retry; an older one, or one without a counter, is unwanted.
func (h *Handler) deliverByReference(ctx context.Context, provider signals.Provider, rep reply, ref, signal string, payload any) reply {
	workflowID, runID, byAlias, err := h.findRunning(ctx, provider, ref)
	switch {
	case err == nil:
		out := h.deliver(ctx, provider, rep, workflowID, runID, signal, payload)
		if byAlias && out.reason == reasonClosed {
			// The alias names the run that opened the session; an operator's reset may have replaced it with a run
			// that carries the same reference. Visibility knows (one query, on this late path only).
			lctx, cancel := context.WithTimeout(ctx, h.cfg.SignalTimeout)
			wf, run, ferr := h.sig.FindRunning(lctx, ref)
			cancel()
			if ferr == nil && run != runID {
				return h.deliver(ctx, provider, rep, wf, run, signal, payload)
			}
		}
		return out
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrAmbiguous):
		if errors.Is(err, ErrAmbiguous) {
			rep.err = err
		} else if closed, cerr := h.closedWithReference(ctx, ref); cerr != nil {
			rep.status, rep.result, rep.reason, rep.err = http.StatusServiceUnavailable, ResultUnavailable, "temporal unavailable, retry later", cerr
			return rep
		} else if closed {
			rep.status, rep.result, rep.reason = http.StatusOK, ResultUnwanted, "the verification for this reference has already closed"
			return rep
		}
		// Treezor sends no attempt counter, and retries a 5xx up to 30 times a minute apart: an identification
		// nobody knows yet (its alias not started, visibility behind after an outage) is answered 503 until Treezor
		// gives up, since a lost QES or video conference result costs more than needless deliveries. (Found in
		// `make chaos`: after a PostgreSQL restart a videoConference.created was answered "unwanted" and lost.)
		if h.young(rep.attempt) || provider == signals.ProviderTreezor && !errors.Is(err, ErrAmbiguous) {
			rep.status, rep.result, rep.reason = http.StatusServiceUnavailable, ResultUnavailable, "no running workflow for this reference yet, retry later"
			return rep
		}
		rep.status, rep.result, rep.reason = http.StatusOK, ResultUnwanted, "no running workflow for this reference"
		return rep
	default:
		rep.status, rep.result, rep.reason, rep.err = http.StatusServiceUnavailable, ResultUnavailable, "temporal unavailable, retry later", err
		return rep
	}
}

func (h *Handler) closedWithReference(ctx context.Context, ref string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.SignalTimeout)
	defer cancel()
	return h.sig.ClosedWithReference(ctx, ref)
}

// findRunning finds the run a provider reference belongs to. Its alias is read first, and again for up to
// LookupWait while it is missing (the activity that received the reference may not have started it yet): a
// strongly consistent read that costs no visibility request, so a burst of webhooks is routed at any visibility
// rate limit. Without an alias (a verification started before aliases, or whose alias could not be started),
// visibility is asked once. The run the alias names may have closed; delivering to it then says so.
func (h *Handler) findRunning(ctx context.Context, provider signals.Provider, ref string) (workflowID, runID string, byAlias bool, err error) {
	deadline := time.Now().Add(h.cfg.LookupWait)
	pause := 50 * time.Millisecond
	for {
		lctx, cancel := context.WithTimeout(ctx, h.cfg.SignalTimeout)
		workflowID, runID, err = h.sig.FindByAlias(lctx, provider, ref)
		cancel()
		if !errors.Is(err, ErrNotFound) {
			return workflowID, runID, err == nil, err
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			break
		}
		t := time.NewTimer(min(pause, remaining))
		select {
		case <-ctx.Done():
			t.Stop()
			return "", "", false, err
		case <-t.C:
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
	lctx, cancel := context.WithTimeout(ctx, h.cfg.SignalTimeout)
	defer cancel()
	workflowID, runID, err = h.sig.FindRunning(lctx, ref)
	return workflowID, runID, false, err
}

// young reports whether a delivery attempt counter is within the grace window.
func (h *Handler) young(attempt string) bool {
	n, err := strconv.Atoi(strings.TrimSpace(attempt))
	return err == nil && n >= 0 && n <= h.cfg.GraceAttempts
}

// signalContext outlives the request: a provider that hangs up (Yousign waits 1 s on a first delivery) does not
// abort a signal in flight, and its retry is deduplicated by the workflow.
func signalContext(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

// validEventID checks a provider's event ID before it goes into a workflow's state and the log.
func validEventID(id string) bool {
	if len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// bodyDigest (hex SHA-256) is the event ID of last resort: the same delivery retried has the same body.
func bodyDigest(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// printable keeps printable ASCII of s, up to max bytes, for a log field.
func printable(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		if s[i] >= ' ' && s[i] <= '~' {
			b.WriteByte(s[i])
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
