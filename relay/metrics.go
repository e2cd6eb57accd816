package relay

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Results of a webhook request: the result label of kycflow_relay_requests_total and the result field of the
// request's log line.
const (
	ResultSignalled    = "signalled"
	ResultUnwanted     = "unwanted"
	ResultUnauthorized = "unauthorized"
	ResultMalformed    = "malformed"
	ResultTooLarge     = "too_large"
	ResultUnavailable  = "unavailable"
)

// eventOther is the event label of any event type outside a provider's allow-list, and of a request whose event
// type could not be read. Labels never carry IDs or anything the sender chose freely.
const eventOther = "other"

// Metric names the relay exports, besides Go's and the process' own.
const (
	MetricRequests = "kycflow_relay_requests_total"
	MetricSignal   = "kycflow_relay_signal_seconds"
)

// MetricNames are the relay's metric names, for dashboards and alert checks.
func MetricNames() []string { return []string{MetricRequests, MetricSignal} }

// metrics are the relay's Prometheus metrics, on a registry of their own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	signal   *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests,
			Help: "Webhook requests by provider, event type (allow-listed, else \"other\") and result.",
		}, []string{"provider", "event", "result"}),
		signal: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricSignal,
			Help:    "Time Temporal took to accept a signal (or to fail), by provider.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider"}),
	}
	m.registry.MustRegister(m.requests, m.signal,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// eventLabel keeps an event type as a label only if it is in the allow-list.
func eventLabel(event string, allowed map[string]bool) string {
	if allowed[event] {
		return event
	}
	return eventOther
}
