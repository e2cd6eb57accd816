// Package census counts the running verifications in each step, by method, from Temporal's visibility
// (KycStep), into the gauge kycflow_verifications_in_step. The workflows' step counters
// (kycflow_step_entered_total, _left_total) are per worker process: after a restart, the verifications already
// waiting are in neither, so "how many wait on Treezor now" cannot come from them. The census asks Temporal,
// which knows, at the cost of one count query per method and step each interval.
package census

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// Metric is the gauge's name; failuresMetric counts the rounds that could not count every step, and
// completedMetric says when a round last counted them all (a gauge whose series failed keeps its last value).
const (
	Metric          = "kycflow_verifications_in_step"
	failuresMetric  = "kycflow_census_failures_total"
	completedMetric = "kycflow_census_completed_timestamp_seconds"
)

// MetricNames are the names of the census's metrics, for dashboards and alert checks.
func MetricNames() []string { return []string{Metric, failuresMetric, completedMetric} }

// Steps are the running steps the census counts: every step but completed.
var Steps = slices.DeleteFunc(slices.Clone(signals.Steps), func(s signals.Step) bool { return s == signals.StepCompleted })

// Counter is the one call the census makes (client.Client has it).
type Counter interface {
	CountWorkflow(ctx context.Context, request *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error)
}

// Census keeps the gauge.
type Census struct {
	client    Counter
	namespace string
	logger    *slog.Logger
	inStep    *prometheus.GaugeVec
	failures  prometheus.Counter
	completed prometheus.Gauge
}

// New registers the census's metrics with r.
func New(c Counter, namespace string, r prometheus.Registerer, logger *slog.Logger) (*Census, error) {
	cs := &Census{client: c, namespace: namespace, logger: logger,
		inStep: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: Metric,
			Help: "Running verifications in each step (KycStep), by method, counted in Temporal's visibility by every worker (take the max over workers)."},
			[]string{"method", "step"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: failuresMetric,
			Help: "Census rounds that could not count every step (visibility unavailable or rate limited); the gauge keeps the last counts."}),
		completed: prometheus.NewGauge(prometheus.GaugeOpts{Name: completedMetric,
			Help: "When a census round last counted every method and step (Unix seconds)."}),
	}
	for _, m := range []prometheus.Collector{cs.inStep, cs.failures, cs.completed} {
		if err := r.Register(m); err != nil {
			return nil, fmt.Errorf("register census metrics: %w", err)
		}
	}
	return cs, nil
}

// Count runs one round: a count query per method and step, pause apart (the namespace's visibility budget is
// shared with the UI, the CLI and the relay: a production server allows 10 requests a second). A failed query
// keeps that series' last value; the round reports the first error.
func (c *Census) Count(ctx context.Context, pause time.Duration) error {
	var first error
	for i, m := range signals.Methods {
		for j, step := range Steps {
			if i+j > 0 && pause > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(pause):
				}
			}
			// The query `kycflow list --method m --step step --running` runs.
			query, err := starter.ListRequest{Method: m, Step: step, Running: true}.Query()
			if err != nil {
				return fmt.Errorf("count %s verifications at step %s: %w", m, step, err)
			}
			resp, err := c.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: c.namespace, Query: query})
			if err != nil {
				if first == nil {
					first = fmt.Errorf("count %s verifications at step %s: %w", m, step, err)
				}
				continue
			}
			c.inStep.WithLabelValues(string(m), string(step)).Set(float64(resp.GetCount()))
		}
	}
	if first != nil {
		c.failures.Inc()
	} else {
		c.completed.SetToCurrentTime()
	}
	return first
}

// Run counts every interval until ctx ends, spreading a round's queries over half the interval.
func (c *Census) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	pause := interval / time.Duration(2*len(signals.Methods)*len(Steps))
	for {
		if err := c.Count(ctx, pause); err != nil && ctx.Err() == nil {
			c.logger.Warn("Census of verifications by step incomplete", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
