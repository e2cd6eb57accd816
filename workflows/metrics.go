package workflows

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/signals"
)

// kycflow's own metrics, recorded from the workflows through the SDK's metrics handler, which records nothing
// while a workflow replays: a verification is counted once however often workers replay it (after a cache
// eviction, a restart, another worker taking over). The SDK adds the namespace, task queue and workflow type to
// each; kycflow's labels come from closed lists (method, provider, step, outcome, kind, action), never an ID or
// anything personal.
const (
	// MetricStarted counts verifications started, by method.
	MetricStarted = "kycflow_verifications_started_total"
	// MetricFinished counts verifications finished, by method and outcome.
	MetricFinished = "kycflow_verifications_finished_total"
	// MetricTimeToURL is the time from the start to the first identification URL, by method.
	MetricTimeToURL = "kycflow_time_to_url_seconds"
	// MetricDecisionTime is the time from the first URL to the outcome, by method and outcome.
	MetricDecisionTime = "kycflow_decision_seconds"
	// MetricStepEntered and MetricStepLeft count verifications entering and leaving a step (KycStep), by method
	// and step: their difference is how many are in the step, overdue included.
	MetricStepEntered = "kycflow_step_entered_total"
	MetricStepLeft    = "kycflow_step_left_total"
	// MetricUserFinished counts verifications whose user finished the provider's session, by method: the first
	// move past the user's step, once per verification (a verification then goes through several provider-side
	// steps, and may come back to them from overdue, which step entries count again).
	MetricUserFinished = "kycflow_user_finished_total"
	// MetricWebhooks counts webhook events the workflows took, by provider and kind (WebhookKind*).
	MetricWebhooks = "kycflow_webhooks_total"
	// MetricReconciliationReads counts the reads of an overdue wait, by method and result (ReadResult*).
	MetricReconciliationReads = "kycflow_reconciliation_reads_total"
	// MetricOperatorActions counts operator actions accepted, by method and action.
	MetricOperatorActions = "kycflow_operator_actions_total"
)

// Kinds of webhook events (the kind label of MetricWebhooks), as counted in signals.WebhookCounts.
const (
	WebhookKindReceived    = "received"
	WebhookKindDuplicate   = "duplicate"
	WebhookKindStale       = "stale"
	WebhookKindLate        = "late"
	WebhookKindUnconfirmed = "unconfirmed"
)

// Results of a reconciliation read (the result label of MetricReconciliationReads): the provider had decided,
// or not yet.
const (
	ReadResultDecided   = "decided"
	ReadResultUndecided = "undecided"
)

// WorkflowMetricNames are the names of the metrics the workflows record, for dashboards and alert checks.
func WorkflowMetricNames() []string {
	return []string{MetricStarted, MetricFinished, MetricTimeToURL, MetricDecisionTime, MetricStepEntered, MetricStepLeft,
		MetricUserFinished, MetricWebhooks, MetricReconciliationReads, MetricOperatorActions}
}

// TimerBuckets are the bucket bounds, in seconds, of the workflows' timers: from a URL handed out in a second to a
// decision 14 days (the IDnow link) and an overdue review later.
var TimerBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600,
	48 * 3600, 7 * 24 * 3600, 14 * 24 * 3600, 21 * 24 * 3600}

// verificationMetrics records one verification's metrics.
type verificationMetrics struct {
	h        client.MetricsHandler // tagged with the method
	provider string
	urlAt    time.Time // when the first URL was handed out
	// userFinished: the verification has left the user's step for a provider-side one.
	userFinished bool
}

func newVerificationMetrics(ctx workflow.Context, method signals.Method) *verificationMetrics {
	return &verificationMetrics{
		h:        workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"method": string(method)}),
		provider: string(method.Provider()),
	}
}

func (m *verificationMetrics) started() { m.h.Counter(MetricStarted).Inc(1) }

// stepChanged records a move from one step to another (from is empty for the first).
func (m *verificationMetrics) stepChanged(from, to signals.Step) {
	if from == to {
		return
	}
	if from != "" {
		m.h.WithTags(map[string]string{"step": string(from)}).Counter(MetricStepLeft).Inc(1)
	}
	m.h.WithTags(map[string]string{"step": string(to)}).Counter(MetricStepEntered).Inc(1)
	if !m.userFinished && userDone(to) {
		m.userFinished = true
		m.h.Counter(MetricUserFinished).Inc(1)
	}
}

// userDone reports whether a verification in step has had the user's part done: the steps that wait on the
// provider, which only follow the user's session.
func userDone(step signals.Step) bool {
	switch step {
	case signals.StepProviderProcessing, signals.StepCollectingDocuments, signals.StepAwaitingTransfer, signals.StepKYCReview:
		return true
	}
	return false
}

// urlIssued records the time to the first URL; a renewed URL does not count again.
func (m *verificationMetrics) urlIssued(ctx workflow.Context) {
	if !m.urlAt.IsZero() {
		return
	}
	m.urlAt = workflow.Now(ctx)
	m.h.Timer(MetricTimeToURL).Record(m.urlAt.Sub(workflow.GetInfo(ctx).WorkflowStartTime))
}

// finished records the outcome, and the time from the first URL to it when a URL was handed out.
func (m *verificationMetrics) finished(ctx workflow.Context, outcome signals.OutcomeStatus) {
	h := m.h.WithTags(map[string]string{"outcome": string(outcome)})
	h.Counter(MetricFinished).Inc(1)
	if !m.urlAt.IsZero() {
		h.Timer(MetricDecisionTime).Record(workflow.Now(ctx).Sub(m.urlAt))
	}
}

func (m *verificationMetrics) webhook(kind string) {
	m.h.WithTags(map[string]string{"provider": m.provider, "kind": kind}).Counter(MetricWebhooks).Inc(1)
}

func (m *verificationMetrics) reconciliationRead(decided bool) {
	result := ReadResultUndecided
	if decided {
		result = ReadResultDecided
	}
	m.h.WithTags(map[string]string{"result": result}).Counter(MetricReconciliationReads).Inc(1)
}

func (m *verificationMetrics) operatorAction(action string) {
	m.h.WithTags(map[string]string{"action": action}).Counter(MetricOperatorActions).Inc(1)
}
