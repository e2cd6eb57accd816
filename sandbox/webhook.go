package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kycflow/kycflow/signals"
)

// webhook is one event, ready to deliver: its body is final, so every delivery (retry or duplicate) sends the
// same bytes, as the providers do.
type webhook struct {
	provider signals.Provider
	sub      *subject
	event    string
	eventID  string
	body     []byte
	// signed is what the provider's signature covers (Treezor: object_payload; Solaris, Yousign: the body).
	signed []byte
	header http.Header
	// attemptHeader carries the delivery attempt counter, starting at attemptBase (Solaris 1, Yousign 0).
	attemptHeader string
	attemptBase   int
	// droppable: the workflow can make up for this webhook by reading the provider's state.
	droppable bool
}

// step is one step of a sequence: after its delay, fire changes the provider's state and returns the webhook
// announcing it (nil for none, or when the step is stale).
type step struct {
	delay time.Duration
	// late steps are meant to come after a workflow deadline: REORDER never holds one back.
	late bool
	fire func() *webhook
}

// play runs a sequence of steps that one call set off, each at its time (delays count from the step before, not
// from the end of a delivery). fire runs with s.mu held. A webhook's first delivery happens in order, within the
// sequence; retries and duplicates run on their own.
func (s *Server) play(sub *subject, steps []step) {
	if len(steps) == 0 {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var held []*webhook
		flush := func() {
			if len(held) > 1 {
				s.mu.Lock()
				sub.stats.Reordered++
				s.mu.Unlock()
				s.log.Info("Fault: reordered webhooks", "subject", sub.key, "count", len(held))
			}
			for i := len(held) - 1; i >= 0; i-- {
				s.dispatch(held[i])
			}
			held = nil
		}
		at := time.Now()
		for _, st := range steps {
			if st.late {
				flush()
			}
			at = at.Add(st.delay)
			if !s.sleep(time.Until(at)) {
				return
			}
			s.mu.Lock()
			wh := st.fire()
			if wh != nil {
				sub.stats.Webhooks++
			}
			s.mu.Unlock()
			if wh == nil {
				continue
			}
			if sub.has(FaultReorder) && !st.late {
				held = append(held, wh)
				continue
			}
			s.dispatch(wh)
		}
		flush()
	}()
}

// sleep waits d, or returns false when the server closes first.
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// dispatch applies DROP and DUP, then makes the first delivery; retries go on in the background. The duplicate
// follows the first delivery at once, before the sequence's next webhook: a test then knows the workflow is still
// waiting when every duplicate but that of its deciding webhook arrives (a duplicate sent later, on a timer, raced
// the workflow's completion).
func (s *Server) dispatch(wh *webhook) {
	sub := wh.sub
	s.mu.Lock()
	drop := wh.droppable && sub.has(FaultDrop) && !sub.dropUsed
	if drop {
		sub.dropUsed = true
		sub.stats.Dropped++
	}
	dup := sub.has(FaultDuplicate)
	if dup {
		sub.stats.Duplicated++
	}
	s.mu.Unlock()
	if drop {
		s.log.Info("Fault: webhook dropped", "provider", string(wh.provider), "event", wh.event, "eventId", wh.eventID, "subject", sub.key)
		return
	}
	s.deliverInSequence(wh)
	if dup && s.ctx.Err() == nil {
		s.log.Info("Fault: duplicate delivery", "provider", string(wh.provider), "event", wh.event, "eventId", wh.eventID, "subject", sub.key)
		s.deliverInSequence(wh)
	}
}

// deliverInSequence makes one delivery attempt; when it fails, the provider's retries go on in the background so
// that the sequence is not held up.
func (s *Server) deliverInSequence(wh *webhook) {
	if !s.deliver(wh, 0, false) {
		s.background(func() { s.deliver(wh, 1, true) })
	}
}

func (s *Server) background(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// deliveryPolicy is how a provider retries a webhook its receiver did not acknowledge.
type deliveryPolicy struct {
	// backoff is the provider delay before retry n (1 for the first retry); false gives up.
	backoff func(retry int) (time.Duration, bool)
	// retry reports whether an answer is worth another delivery.
	retry func(status int) bool
	// timeout bounds one delivery attempt (real time: the receiver's clock is not compressed).
	timeout func(attempt int) time.Duration
}

var yousignBackoff = []time.Duration{
	2 * time.Minute, 6 * time.Minute, 30 * time.Minute, time.Hour, 5 * time.Hour, 18 * time.Hour, 24 * time.Hour, 48 * time.Hour,
}

func policyFor(p signals.Provider) deliveryPolicy {
	switch p {
	case signals.ProviderTreezor:
		// Every minute, up to 30 attempts, after a 5xx (Treezor asks for a 5xx when a signature does not match).
		return deliveryPolicy{
			backoff: func(n int) (time.Duration, bool) { return time.Minute, n < 30 },
			retry:   func(status int) bool { return status >= 500 },
			timeout: func(int) time.Duration { return 10 * time.Second },
		}
	case signals.ProviderSolaris:
		// Exponential backoff for up to 5 days; 410 cancels the subscription and 422 rejects the event.
		return deliveryPolicy{
			backoff: func(n int) (time.Duration, bool) {
				total := time.Duration(1<<min(n, 20)-1) * time.Minute
				return time.Duration(1<<min(n-1, 20)) * time.Minute, total <= 5*24*time.Hour
			},
			retry: func(status int) bool {
				return status != http.StatusGone && status != http.StatusUnprocessableEntity
			},
			timeout: func(int) time.Duration { return 30 * time.Second },
		}
	default:
		// Yousign: 8 retries from 2 minutes to 2 days; any answer but 2xx/3xx fails; 1 s on the first call, 10 s after.
		return deliveryPolicy{
			backoff: func(n int) (time.Duration, bool) {
				if n > len(yousignBackoff) {
					return 0, false
				}
				return yousignBackoff[n-1], true
			},
			retry: func(int) bool { return true },
			timeout: func(attempt int) time.Duration {
				if attempt == 0 {
					return time.Second
				}
				return 10 * time.Second
			},
		}
	}
}

// deliver posts the webhook to the relay from attempt on. With retry it goes on until the webhook is acknowledged
// or the provider's policy gives up; without, it makes one attempt. It reports whether the webhook is settled
// (acknowledged, or given up).
func (s *Server) deliver(wh *webhook, attempt int, retry bool) bool {
	policy := policyFor(wh.provider)
	for ; ; attempt++ {
		// Each attempt goes to the next relay, as a load balancer spreads a provider's deliveries and retries.
		target := s.relays[s.nextRelay.Add(1)%uint64(len(s.relays))] + "/webhooks/" + string(wh.provider)
		if attempt > 0 {
			wait, _ := policy.backoff(attempt)
			if !s.sleep(max(s.clock.Duration(wait), s.cfg.MinRetryBackoff)) {
				return true
			}
		}
		status, result, err := s.post(target, wh, attempt, policy.timeout(attempt))
		ok := err == nil && (status >= 200 && status <= 299 ||
			wh.provider == signals.ProviderYousign && status >= 300 && status <= 399)
		s.mu.Lock()
		st := &wh.sub.stats
		st.Deliveries++
		if attempt > 0 {
			st.Retried++
		}
		switch {
		case err != nil:
			st.Unreachable++
		case ok:
			st.Acknowledged++
			if result == "signalled" && !slices.ContainsFunc(st.Signalled, func(e SignalledEvent) bool { return e.EventID == wh.eventID }) {
				sum := sha256.Sum256(wh.signed)
				st.Signalled = append(st.Signalled, SignalledEvent{EventID: wh.eventID, Content: hex.EncodeToString(sum[:])})
			}
		default:
			st.Refused++
		}
		s.mu.Unlock()
		attrs := []any{"provider", string(wh.provider), "event", wh.event, "eventId", wh.eventID, "subject", wh.sub.key, "attempt", attempt}
		if ok {
			// Debug: the relay logs every delivery it takes, so at info the two logs would say it twice.
			s.log.Debug("Webhook delivered", append(attrs, "status", status)...)
			return true
		}
		if err != nil {
			s.log.Warn("Webhook not delivered", append(attrs, "error", err.Error())...)
		} else {
			s.log.Warn("Webhook refused", append(attrs, "status", status)...)
		}
		_, again := policy.backoff(attempt + 1)
		if err == nil && !policy.retry(status) {
			again = false
		}
		if !again {
			s.mu.Lock()
			wh.sub.stats.GaveUp++
			s.mu.Unlock()
			s.log.Warn("Webhook given up", attrs...)
			return true
		}
		if !retry {
			return false
		}
	}
}

func (s *Server) post(target string, wh *webhook, attempt int, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(wh.body))
	if err != nil {
		return 0, "", err
	}
	for k, v := range wh.header {
		req.Header[k] = slices.Clone(v)
	}
	if wh.attemptHeader != "" {
		req.Header.Set(wh.attemptHeader, strconv.Itoa(wh.attemptBase+attempt))
	}
	if wh.provider == signals.ProviderYousign {
		req.Header.Set("X-Yousign-Issued-At", strconv.FormatInt(time.Now().Unix(), 10))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	// The relay says what came of an acknowledged webhook ({"result":"signalled"} or "unwanted"); a provider
	// ignores the body, the sandbox keeps it for the tests that check nothing acknowledged was lost.
	var answer struct {
		Result string `json:"result"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = json.Unmarshal(raw, &answer)
	return resp.StatusCode, answer.Result, nil
}

// hexHMAC is "sha256=" and the lowercase hex HMAC-SHA256 of the raw body: Solaris' and Yousign's signature header.
func hexHMAC(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
