package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The hand-written peer: the same live verification a competent engineer writes by hand with the Temporal SDK
// and no kycflow. A workflow with the same deadlines (the 15-minute link, a 24-hour bound on each provider wait),
// provider calls over HTTP to a minimal stub of Treezor's live verification, and a webhook handler that checks an
// HMAC and signals. What it leaves out is what kycflow adds: session matching, confirmation reads, overdue
// escalation, search attributes, the status query, reason catalogues, operator actions. The benchmark runs it in
// its own process (`kycflow-bench peer`), so its CPU is counted apart.
const (
	PeerTaskQueue = "kycflow-bench-peer"
	PeerWorkflow  = "BenchPeerLiveness"
	PeerUpdate    = "identification_url"
	PeerSignal    = "webhook"
	// PeerSecret signs the stub's webhooks; a benchmark's, not a secret.
	PeerSecret = "bench-peer-webhook-secret"
)

// PeerEvent is a webhook of the stub, as the handler signals it.
type PeerEvent struct {
	WorkflowID string `json:"workflowId"`
	EventID    string `json:"eventId"`
	Event      string `json:"event"`
	Score      int    `json:"score,omitempty"`
	KycReview  int    `json:"kycReview,omitempty"`
}

// The peer's events, Treezor's names.
const (
	peerLivenessCreate = "kycliveness.create"
	peerLivenessUpdate = "kycliveness.update"
	peerDocument       = "document.create"
	peerReview         = "user.kycreview"
)

// PeerLiveness is the hand-written workflow.
func PeerLiveness(ctx workflow.Context, userID string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 10},
	})
	var url string
	if err := workflow.SetUpdateHandler(ctx, PeerUpdate, func(ctx workflow.Context) (string, error) {
		err := workflow.Await(ctx, func() bool { return url != "" })
		return url, err
	}); err != nil {
		return "", err
	}
	var (
		seen                 = map[string]bool{}
		validated, docs      int
		reviewed, refused    bool
		livenessDone, failed bool
	)
	events := workflow.GetSignalChannel(ctx, PeerSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var ev PeerEvent
		for events.Receive(ctx, &ev) {
			if seen[ev.EventID] { // providers deliver at least once
				continue
			}
			seen[ev.EventID] = true
			switch ev.Event {
			case peerLivenessUpdate:
				livenessDone = true
				if ev.Score == 1 {
					validated++
				} else {
					failed = true
				}
			case peerDocument:
				docs++
			case peerReview:
				switch ev.KycReview {
				case 2:
					reviewed = true
				case 3:
					reviewed, refused = true, true
				}
			}
		}
	})
	var acts *PeerActivities
	if err := workflow.ExecuteActivity(ctx, acts.Initiate, userID).Get(ctx, &url); err != nil {
		return "failed", err
	}
	if ok, err := workflow.AwaitWithTimeout(ctx, 15*time.Minute, func() bool { return livenessDone }); err != nil || !ok {
		return "expired", err
	}
	if failed {
		return "refused", nil
	}
	if err := workflow.ExecuteActivity(ctx, acts.RetrieveDocuments, userID).Get(ctx, nil); err != nil {
		return "failed", err
	}
	if ok, err := workflow.AwaitWithTimeout(ctx, 24*time.Hour, func() bool { return docs >= 2 }); err != nil || !ok {
		return "review_timeout", err
	}
	if err := workflow.ExecuteActivity(ctx, acts.RequestReview, userID).Get(ctx, nil); err != nil {
		return "failed", err
	}
	if ok, err := workflow.AwaitWithTimeout(ctx, 24*time.Hour, func() bool { return reviewed }); err != nil || !ok {
		return "review_timeout", err
	}
	if refused {
		return "refused", nil
	}
	return "approved", nil
}

// PeerActivities call the provider stub over HTTP.
type PeerActivities struct {
	BaseURL string
	HTTP    *http.Client
}

func (a *PeerActivities) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.BaseURL+path, strings.NewReader(`{}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Workflow-Id", activity.GetInfo(ctx).WorkflowExecution.ID)
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Initiate opens the live verification and returns its URL.
func (a *PeerActivities) Initiate(ctx context.Context, userID string) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	err := a.call(ctx, http.MethodPost, "/v1/users/"+userID+"/kycliveness", &out)
	return out.URL, err
}

// RetrieveDocuments asks the provider to create the verification's documents.
func (a *PeerActivities) RetrieveDocuments(ctx context.Context, userID string) error {
	return a.call(ctx, http.MethodPut, "/v1/users/"+userID+"/kycliveness", nil)
}

// RequestReview asks for the KYC review.
func (a *PeerActivities) RequestReview(ctx context.Context, userID string) error {
	return a.call(ctx, http.MethodPut, "/v1/users/"+userID+"/Kycreview", nil)
}

// PeerProvider is the minimal provider stub: each call answers at once and then sends the webhooks Treezor sends
// for it, signed, to WebhookURL, as the sandbox does for kycflow: two after the initiation (the session created,
// then validated), two documents after their retrieval, two reviews (pending, validated) after the request.
type PeerProvider struct {
	WebhookURL string
	HTTP       *http.Client
}

func (p *PeerProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wid := r.Header.Get("X-Workflow-Id")
	var events []PeerEvent
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/kycliveness"):
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"url":"https://liveness.example.test/session"}`)
		events = []PeerEvent{{Event: peerLivenessCreate}, {Event: peerLivenessUpdate, Score: 1}}
	case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/kycliveness"):
		events = []PeerEvent{{Event: peerDocument}, {Event: peerDocument}}
	case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/Kycreview"):
		events = []PeerEvent{{Event: peerReview, KycReview: 1}, {Event: peerReview, KycReview: 2}}
	default:
		http.NotFound(w, r)
		return
	}
	go func() {
		for i, ev := range events {
			ev.WorkflowID, ev.EventID = wid, fmt.Sprintf("%s-%s-%d-%d", wid, ev.Event, time.Now().UnixNano(), i)
			if err := p.send(ev); err != nil {
				return
			}
		}
	}()
}

// send delivers one webhook, retrying a 5xx as providers do.
func (p *PeerProvider) send(ev PeerEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, []byte(PeerSecret))
	mac.Write(body)
	sig := hex.EncodeToString(mac.Sum(nil))
	for attempt := 0; attempt < 10; attempt++ {
		req, err := http.NewRequest(http.MethodPost, p.WebhookURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-Signature", sig)
		resp, err := p.HTTP.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return errors.New("webhook not delivered")
}

// PeerWebhooks is the hand-written webhook handler: check the HMAC, signal, answer 200 once Temporal has it.
type PeerWebhooks struct {
	Client client.Client
}

func (h *PeerWebhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	mac := hmac.New(sha256.New, []byte(PeerSecret))
	mac.Write(body)
	want, err := hex.DecodeString(r.Header.Get("X-Signature"))
	if err != nil || !hmac.Equal(mac.Sum(nil), want) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev PeerEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.WorkflowID == "" {
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	if err := h.Client.SignalWorkflow(r.Context(), ev.WorkflowID, "", PeerSignal, ev); err != nil {
		http.Error(w, "temporal unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// ServePeer runs the hand-written peer's process: its worker on PeerTaskQueue (the same pollers as kycflow's) and,
// on addr, the provider stub under /provider/ and the webhook handler at /webhooks. It stops when ctx ends.
func ServePeer(ctx context.Context, c client.Client, addr string) error {
	w := sdkworker.New(c, PeerTaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers: BaselinePollers,
		MaxConcurrentActivityTaskPollers: BaselinePollers,
	})
	httpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	w.RegisterWorkflowWithOptions(PeerLiveness, workflow.RegisterOptions{Name: PeerWorkflow})
	w.RegisterActivity(&PeerActivities{BaseURL: "http://" + addr + "/provider", HTTP: httpClient})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start the peer's worker: %w", err)
	}
	defer w.Stop()
	mux := http.NewServeMux()
	mux.Handle("/provider/", http.StripPrefix("/provider", &PeerProvider{WebhookURL: "http://" + addr + "/webhooks", HTTP: httpClient}))
	mux.Handle("POST /webhooks", &PeerWebhooks{Client: c})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return srv.Close()
	}
}
