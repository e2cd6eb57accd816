package e2e_test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/sandbox/matrix"
	"github.com/kycflow/kycflow/signals"
)

// span is what the test keeps of an exported span.
type span struct {
	service, name     string
	trace, id, parent string
	attributes        string
}

// otlpReceiver is a minimal OTLP/HTTP trace receiver: it keeps every span the processes export.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.URL.Path != "/v1/traces" {
		http.Error(w, "want POST /v1/traces", http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				var attrs []string
				for _, a := range s.GetAttributes() {
					attrs = append(attrs, a.GetKey()+"="+a.GetValue().String())
				}
				o.spans = append(o.spans, span{service: service, name: s.GetName(), trace: hex.EncodeToString(s.GetTraceId()),
					id: hex.EncodeToString(s.GetSpanId()), parent: hex.EncodeToString(s.GetParentSpanId()), attributes: strings.Join(attrs, " ")})
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

func (o *otlpReceiver) all() []span {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]span(nil), o.spans...)
}

// TestTracing runs a liveness verification on a stack whose relay and worker export traces to an OTLP receiver,
// and follows them: the webhook's HTTP request at the relay, its signal, the workflow's handling of it on the
// worker; and the workflow's activities down to their HTTP calls to the provider. No span holds a payload.
func TestTracing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs every process (run `make test`)")
	}
	receiver := &otlpReceiver{}
	collector := httptest.NewServer(receiver)
	t.Cleanup(collector.Close)
	otel := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL, "OTEL_BSP_SCHEDULE_DELAY=200"}

	e := startWith(t, map[string][]string{"relay": otel, "worker": otel})
	stack := e.stack
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc, ok := sandbox.Lookup(signals.MethodTreezorLiveness, "HAPPYPATH")
	require.True(t, ok)
	results := e.runner.Run(ctx, []matrix.Case{{Scenario: sc}}, nil)
	require.True(t, results[0].OK(), "expected %s, got %s", sc.ExpectedText(), results[0].Actual())

	byID := map[string]span{}
	var spans []span
	find := func(service, prefix string) []span {
		var out []span
		for _, s := range spans {
			if s.service == service && strings.HasPrefix(s.name, prefix) {
				out = append(out, s)
			}
		}
		return out
	}
	// A webhook's chain and a provider call's chain, each linked parent to child across the processes.
	var webhookChain, providerChain bool
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !(webhookChain && providerChain); time.Sleep(300 * time.Millisecond) {
		spans = receiver.all()
		for _, s := range spans {
			byID[s.id] = s
		}
		webhookChain, providerChain = false, false
		for _, handle := range find("kycflow-worker", "HandleSignal:") {
			signal, ok := byID[handle.parent]
			if !ok || signal.service != "kycflow-relay" || !strings.HasPrefix(signal.name, "SignalWorkflow:") {
				continue
			}
			// The signal's span is in the trace of the relay's request.
			for _, s := range find("kycflow-relay", "POST /webhooks/") {
				if s.trace == signal.trace {
					webhookChain = true
				}
			}
		}
		for _, call := range spans {
			if call.service != "kycflow-worker" || !strings.Contains(call.attributes, "http.request.method") {
				continue
			}
			activity, ok := byID[call.parent]
			if ok && strings.HasPrefix(activity.name, "RunActivity:") {
				providerChain = true
			}
		}
	}
	var names []string
	for _, s := range spans {
		names = append(names, s.service+" "+s.name)
	}
	require.True(t, webhookChain, "relay webhook request -> SignalWorkflow -> worker HandleSignal; spans: %v", names)
	require.True(t, providerChain, "worker RunActivity -> provider HTTP call; spans: %v", names)
	// Provider URLs are redacted to their route: no user or session ID, no query. (Spans name the workflow ID,
	// as the logs do: an opaque subject ID, never personal data; see the subject ID rules.)
	_, userID, _ := strings.Cut(results[0].Subject, "/")
	var urls int
	for _, s := range spans {
		require.NotContains(t, s.attributes, stack.Credentials.TreezorClientSecret)
		if _, u, ok := strings.Cut(s.attributes, "url.full="); ok {
			u, _, _ = strings.Cut(u, " ")
			require.NotContains(t, u, userID, "span %s %s", s.service, s.name)
			require.NotContains(t, u, "?", "span %s %s", s.service, s.name)
			if strings.Contains(u, "/users/") {
				urls++
			}
		}
	}
	require.Positive(t, urls, "the user's calls were traced, with their ID redacted")
}
