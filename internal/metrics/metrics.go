// Package metrics is the worker's Prometheus endpoint: the Temporal SDK's metrics (workers, pollers, workflow
// tasks, activities, requests) and kycflow's own, which the workflows record through the SDK's metrics handler
// (see workflows.WorkflowMetricNames), reported through tally to a Prometheus registry of the worker's own.
package metrics

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/kycflow/kycflow/workflows"
)

// EnvAddr names the variable holding the worker's metrics address; unset, the worker exports nothing.
const EnvAddr = "KYCFLOW_METRICS_ADDR"

// reportEvery is how often tally hands its values to the Prometheus registry: a scrape lags by at most this.
const reportEvery = time.Second

// Exporter holds the worker's metrics: Handler for the Temporal client, HTTP for /metrics.
type Exporter struct {
	Handler client.MetricsHandler
	HTTP    http.Handler
	// Registry takes metrics the worker keeps itself, outside workflows (the census).
	Registry prometheus.Registerer
	scope    io.Closer
}

// New makes an exporter whose workflow timers are histograms with workflows.TimerBuckets (a decision takes from
// seconds to weeks) and whose other timers, the SDK's latencies, have buckets from a millisecond to a minute.
//
// onError hears of a metric the SDK or a workflow records with another label set than the one it was declared
// with: Prometheus then drops it, so it must not go unnoticed (nil: ignored).
func New(onError func(error)) (*Exporter, error) {
	if onError == nil {
		onError = func(error) {}
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              registry,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		OnRegisterError:         onError,
	})
	if err := register(reporter); err != nil {
		return nil, err
	}
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sanitize,
	}, reportEvery)
	return &Exporter{
		Handler:  sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)),
		HTTP:     promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Registry: registry,
		scope:    closer,
	}, nil
}

// Close reports the last values and stops the reporting loop.
func (e *Exporter) Close() error { return e.scope.Close() }

// workflowTags are the tags the SDK's workflow metrics handler puts on every metric a workflow records: its root
// tags (metrics.RootTags in the SDK) with the workflow's type and task queue filled in. Prometheus needs one
// label set per metric, so a metric declared with another set would be dropped: the end-to-end test
// (e2e/metrics_test.go) scrapes a real worker and fails if it were.
var workflowTags = []string{"namespace", "client_name", "worker_type", "workflow_type", "activity_type", "task_queue"}

// sanitize is Prometheus' naming, except that label values keep their dashes: kycflow's methods are
// "treezor-liveness", and a dashboard filters on the value the code and the search attributes use.
var sanitize = func() tally.SanitizeOptions {
	o := sdktally.PrometheusSanitizeOptions
	o.ValueCharacters.Characters = append(append([]rune{}, o.ValueCharacters.Characters...), '-')
	return o
}()

// register declares kycflow's workflow metrics with their help text and label names (tally would otherwise
// create them on first use with a placeholder help).
func register(r tallyprom.Reporter) error {
	counters := []struct {
		name, help string
		labels     []string
	}{
		{workflows.MetricStarted, "Verifications started, by method.", nil},
		{workflows.MetricFinished, "Verifications finished, by method and outcome.", []string{"outcome"}},
		{workflows.MetricStepEntered, "Verifications entering a step (KycStep), by method and step.", []string{"step"}},
		{workflows.MetricStepLeft, "Verifications leaving a step (KycStep), by method and step; entered minus left is how many are in it.", []string{"step"}},
		{workflows.MetricUserFinished, "Verifications whose user finished the provider's session (once each), by method.", nil},
		{workflows.MetricWebhooks, "Webhook events the workflows took, by provider and kind (received, duplicate, stale, late, unconfirmed).", []string{"provider", "kind"}},
		{workflows.MetricReconciliationReads, "Reads of the provider by an overdue verification, by method and result (decided, undecided).", []string{"result"}},
		{workflows.MetricOperatorActions, "Operator actions accepted, by method and action.", []string{"action"}},
	}
	for _, c := range counters {
		if _, err := r.RegisterCounter(c.name, labels(c.labels), c.help); err != nil {
			return fmt.Errorf("register %s: %w", c.name, err)
		}
	}
	timers := []struct {
		name, help string
		labels     []string
	}{
		{workflows.MetricTimeToURL, "Seconds from a verification's start to its first identification URL, by method.", nil},
		{workflows.MetricDecisionTime, "Seconds from the first identification URL to the outcome, by method and outcome.", []string{"outcome"}},
	}
	for _, t := range timers {
		opts := &tallyprom.RegisterTimerOptions{TimerType: tallyprom.HistogramTimerType, HistogramBuckets: workflows.TimerBuckets}
		if _, err := r.RegisterTimer(t.name, labels(t.labels), t.help, opts); err != nil {
			return fmt.Errorf("register %s: %w", t.name, err)
		}
	}
	return nil
}

func labels(extra []string) []string {
	return append(append(append([]string{}, workflowTags...), "method"), extra...)
}

// Serve serves /metrics on addr until the returned function is called.
func (e *Exporter) Serve(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", EnvAddr, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", e.HTTP)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
