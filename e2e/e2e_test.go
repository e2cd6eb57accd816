// Package e2e_test runs kycflow end to end: the Temporal dev server, the provider sandbox, the webhook relay and the
// worker, each a real process built from this repository, and every scenario of the sandbox's table through the
// starter package, plus the faults the providers inflict (duplicate, reordered and dropped webhooks, 5xx bursts, a
// 429 with Retry-After, a relay that refuses or is down). Each verification must end with its expected outcome,
// exactly once.
package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"

	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/sandbox/matrix"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// faultCases add the providers' misbehaviour to scenarios whose outcome must not change.
var faultCases = []struct {
	method   signals.Method
	scenario string
	faults   []sandbox.Fault
}{
	{signals.MethodTreezorLiveness, "HAPPYPATH", []sandbox.Fault{sandbox.FaultDuplicate}},
	{signals.MethodTreezorLiveness, "HAPPYPATH", []sandbox.Fault{sandbox.FaultReorder}},
	{signals.MethodTreezorLiveness, "HAPPYPATH", []sandbox.Fault{sandbox.FaultBurst, sandbox.FaultLimit}},
	{signals.MethodTreezorLiveness, "KYCREFUSED", sandbox.AllFaults},
	{signals.MethodTreezorQES, "HAPPYPATH", []sandbox.Fault{sandbox.FaultReorder}},
	{signals.MethodTreezorQES, "HAPPYPATH", []sandbox.Fault{sandbox.FaultDrop}},
	// Reordered, the fraud result comes first and closes the workflow: the stale events after it must change nothing.
	// Its duplicate could race the completion, so duplicates get their own case.
	{signals.MethodTreezorQES, "FRAUDIDENT", []sandbox.Fault{sandbox.FaultReorder}},
	{signals.MethodTreezorQES, "FRAUDIDENT", []sandbox.Fault{sandbox.FaultDuplicate}},
	{signals.MethodTreezorVideoConference, "FRAUDOK", []sandbox.Fault{sandbox.FaultDuplicate, sandbox.FaultReorder}},
	{signals.MethodTreezorVideoConference, "CANCELED", []sandbox.Fault{sandbox.FaultBurst}},
	{signals.MethodSolarisIDnow, "CHANGEALLREVIEW", []sandbox.Fault{sandbox.FaultDrop}},
	{signals.MethodSolarisIDnow, "HAPPYPATH", []sandbox.Fault{sandbox.FaultBurst}},
	{signals.MethodSolarisIDnow, "FRAUDIDENT", []sandbox.Fault{sandbox.FaultDuplicate, sandbox.FaultReorder, sandbox.FaultDrop}},
	{signals.MethodYousignVideo, "VERIFIED", []sandbox.Fault{sandbox.FaultDrop}},
	{signals.MethodYousignVideo, "VERIFIED", []sandbox.Fault{sandbox.FaultLimit}},
	{signals.MethodYousignVideo, "INCONCLUSIVETHENVERIFIED", []sandbox.Fault{sandbox.FaultDuplicate, sandbox.FaultBurst}},
}

type env struct {
	stack   *devstack.Stack
	starter *starter.Starter
	runner  *matrix.Runner
	logFile string
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs every process (run `make test`)")
	}
	e := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	cases := matrix.Cases(nil, nil, nil)
	for _, fc := range faultCases {
		sc, ok := sandbox.Lookup(fc.method, fc.scenario)
		require.True(t, ok, "%s/%s", fc.method, fc.scenario)
		cases = append(cases, matrix.Case{Scenario: sc, Faults: fc.faults})
	}
	began := time.Now()
	results := e.runner.Run(ctx, cases, nil)
	t.Logf("%d verifications in %s", len(results), time.Since(began).Round(time.Millisecond))
	var table bytes.Buffer
	if !matrix.WriteTable(&table, results) {
		t.Errorf("outcomes differ from the scenario table:\n%s", table.String())
	}

	stats := e.stats(t)
	for _, r := range results {
		t.Run(r.Name(), func(t *testing.T) {
			require.True(t, r.OK(), "expected %s, got %s", r.Scenario.ExpectedText(), r.Actual())
			if r.Scenario.Rejected != "" {
				return // refused before any verification started: nothing ran
			}
			e.requireExactlyOnce(ctx, t, r)
			requireFaults(t, r, stats[r.Subject])
			require.Zero(t, stats[r.Subject].EarlyReviews, "KYC review requested before every document.create went out (seed 001)")
			if r.Scenario.DecidesPastReviewBound() {
				require.Contains(t, e.stepsEntered(ctx, t, r.Verification), signals.StepOverdue,
					"the provider decided after the bound: the verification went overdue, then took the decision")
			}
			e.requireNothingUndisclosable(ctx, t, r)
			if len(r.Scenario.StaleSession) > 0 {
				st, err := e.starter.Status(ctx, r.Verification)
				require.NoError(t, err)
				require.Positive(t, st.Webhooks.Stale, "the previous session's webhooks were seen and set aside")
			}
			if slices.Contains(r.Faults, sandbox.FaultDuplicate) {
				// The sandbox redelivered (requireFaults), and Temporal recorded each signed webhook once: the relay
				// signals with a digest of the signed bytes as the request ID.
				st, err := e.starter.Status(ctx, r.Verification)
				require.NoError(t, err)
				require.Zero(t, st.Webhooks.Duplicates, "no redelivery reached the workflow")
				require.Equal(t, st.Webhooks.Received, e.webhookSignals(ctx, t, r.Verification), "every webhook signal in the history was a first delivery")
			}
		})
	}

	t.Run("the worker's and the relay's metrics count each outcome exactly once", func(t *testing.T) {
		e.requireMetricsMatch(ctx, t, results)
	})
	t.Run("relay refuses webhooks signed with a secret it does not know yet, then takes their retries", func(t *testing.T) {
		e.secretRotation(ctx, t)
	})
	t.Run("webhooks sent while the relay is down are retried and delivered", func(t *testing.T) {
		e.relayOutage(ctx, t)
	})
	t.Run("operators act through the CLI", func(t *testing.T) {
		e.operatorActions(ctx, t)
	})
	t.Run("the command the sandbox prints for a subject runs as printed", func(t *testing.T) {
		e.sandboxCommand(ctx, t)
	})
	t.Run("no personal data in the logs", func(t *testing.T) {
		e.requireNoPersonalData(t, results)
	})
}

func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, nil)
}

// startWith starts the stack with extra environment variables per process (StackOptions.Env), a starter on it and
// the scenario runner; the stack's log is shown if the test fails.
func startWith(t *testing.T, procEnv map[string][]string) *env {
	t.Helper()
	bin := binaries(t)

	logFile := filepath.Join(t.TempDir(), "stack.log")
	f, err := os.Create(logFile)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := devstack.StartStack(ctx, devstack.StackOptions{
		BinDir:    bin,
		Temporal:  devstack.TemporalOptions{Binary: filepath.Join(bin, "temporal")},
		TimeScale: sandbox.DefaultTimeScale,
		Env:       procEnv,
		Output:    f,
	})
	if err != nil {
		dumpLog(t, logFile)
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		stack.Stop()
		if t.Failed() {
			dumpLog(t, logFile)
		}
	})

	st, err := starter.Dial(ctx, clientOptions(t, stack.Temporal.HostPort))
	require.NoError(t, err)
	t.Cleanup(st.Close)
	runner, err := matrix.New(ctx, matrix.Config{SandboxURL: stack.SandboxURL, Starter: st, Credentials: stack.Credentials})
	require.NoError(t, err)
	return &env{stack: stack, starter: st, runner: runner, logFile: logFile}
}

func clientOptions(t *testing.T, hostPort string) client.Options {
	t.Helper()
	o, err := starter.OptionsFromEnv(func(k string) string {
		if k == starter.EnvTemporalAddress {
			return hostPort
		}
		return os.Getenv(k)
	})
	require.NoError(t, err)
	o.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	return o
}

// requireExactlyOnce: one run for the verification's workflow ID, completed, with the expected outcome in its
// KycOutcome search attribute.
func (e *env) requireExactlyOnce(ctx context.Context, t *testing.T, r matrix.Result) {
	t.Helper()
	query := fmt.Sprintf("WorkflowId = '%s'", r.Verification.WorkflowID)
	var last string
	require.Eventually(t, func() bool {
		resp, err := e.starter.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			last = err.Error()
			return false
		}
		runs := resp.GetExecutions()
		if len(runs) != 1 {
			last = fmt.Sprintf("%d runs", len(runs))
			return false
		}
		if runs[0].GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			last = runs[0].GetStatus().String()
			return false
		}
		var outcome string
		p := runs[0].GetSearchAttributes().GetIndexedFields()[signals.AttrOutcome.GetName()]
		if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &outcome) != nil {
			last = "no KycOutcome"
			return false
		}
		last = "KycOutcome " + outcome
		return outcome == string(r.Scenario.Expected)
	}, 15*time.Second, 100*time.Millisecond, "%s: want one completed run with KycOutcome %s (last: %s)", query, r.Scenario.Expected, last)
}

// webhookSignals counts the provider webhook signals in the run's history (every signal but the backend's cancel).
func (e *env) webhookSignals(ctx context.Context, t *testing.T, v starter.Verification) int {
	t.Helper()
	n := 0
	iter := e.starter.Client.GetWorkflowHistory(ctx, v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() != signals.SignalCancel {
			n++
		}
	}
	return n
}

// stepsEntered lists the steps (KycStep) a run's history set, in order.
func (e *env) stepsEntered(ctx context.Context, t *testing.T, v starter.Verification) []signals.Step {
	t.Helper()
	var steps []signals.Step
	iter := e.starter.Client.GetWorkflowHistory(ctx, v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		p, ok := ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()[signals.AttrStep.GetName()]
		if !ok {
			continue
		}
		var step string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &step))
		steps = append(steps, signals.Step(step))
	}
	return steps
}

// requireFaults checks that the sandbox did inflict each fault on the subject.
func requireFaults(t *testing.T, r matrix.Result, st sandbox.SubjectStats) {
	t.Helper()
	require.ElementsMatch(t, r.Faults, st.Faults, "the sandbox read the faults from the names")
	for _, f := range r.Faults {
		switch f {
		case sandbox.FaultDuplicate:
			require.Positive(t, st.Duplicated, "duplicates sent")
		case sandbox.FaultReorder:
			require.Positive(t, st.Reordered, "a sequence delivered in reverse")
		case sandbox.FaultDrop:
			require.Equal(t, 1, st.Dropped, "one webhook dropped; the workflow reconciled")
		case sandbox.FaultBurst:
			require.GreaterOrEqual(t, st.Faulted5xx, 3, "a 5xx burst served")
		case sandbox.FaultLimit:
			require.Equal(t, 1, st.Faulted429, "a 429 served")
			require.GreaterOrEqual(t, float64(st.RetryAfterWaited), sandbox.RetryAfter.Seconds()-0.05,
				"the client waited for Retry-After before calling again")
		}
	}
}

func (e *env) stats(t *testing.T) map[string]sandbox.SubjectStats {
	t.Helper()
	resp, err := http.Get(e.stack.SandboxURL + "/sandbox/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var list []sandbox.SubjectStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	out := map[string]sandbox.SubjectStats{}
	for _, st := range list {
		out[st.Key] = st
	}
	return out
}

// runAside runs a case in the background.
func (e *env) runAside(ctx context.Context, m signals.Method, scenario string) <-chan matrix.Result {
	sc, _ := sandbox.Lookup(m, scenario)
	done := make(chan matrix.Result, 1)
	go func() { done <- e.runner.RunOne(ctx, matrix.Case{Scenario: sc}) }()
	return done
}

// waitStats waits until a subject of the provider created after known matches.
func (e *env) waitStats(t *testing.T, provider signals.Provider, known map[string]sandbox.SubjectStats, match func(sandbox.SubjectStats) bool) {
	t.Helper()
	require.Eventually(t, func() bool {
		for key, st := range e.stats(t) {
			if _, old := known[key]; !old && st.Provider == provider && match(st) {
				return true
			}
		}
		return false
	}, 20*time.Second, 20*time.Millisecond)
}

// secretRotation: the relay is restarted without the secret the sandbox signs a provider's webhooks with, as when an
// operator switches the subscription before deploying the new secret. The provider retries what the relay refused,
// and once the relay knows the secret a retry gets through. Yousign retries any refusal (the relay answers 401);
// Treezor retries only a 5xx, which its guide asks for when signatures differ: with a 401 its events would be lost.
func (e *env) secretRotation(ctx context.Context, t *testing.T) {
	secrets := e.stack.WebhookSecrets()
	for _, tc := range []struct {
		provider signals.Provider
		env      string
		secret   string
		method   signals.Method
		scenario string
	}{
		{signals.ProviderYousign, "YOUSIGN_WEBHOOK_SECRETS", secrets.Yousign, signals.MethodYousignVideo, "VERIFIED"},
		{signals.ProviderTreezor, "TREEZOR_WEBHOOK_SECRETS", secrets.Treezor, signals.MethodTreezorQES, "HAPPYPATH"},
	} {
		t.Run(string(tc.provider), func(t *testing.T) {
			require.NoError(t, e.stack.RestartRelay(ctx, []string{tc.env + "=rotated-out-secret"}))
			known := e.stats(t)
			done := e.runAside(ctx, tc.method, tc.scenario)
			e.waitStats(t, tc.provider, known, func(st sandbox.SubjectStats) bool { return st.Refused > 0 })
			require.NoError(t, e.stack.RestartRelay(ctx, []string{tc.env + "=rotated-out-secret," + tc.secret}))
			r := <-done
			require.True(t, r.OK(), "got %s", r.Actual())
			require.Eventually(t, func() bool { st := e.stats(t)[r.Subject]; return st.Acknowledged > 0 && st.Retried > 0 },
				20*time.Second, 50*time.Millisecond, "a retry was acknowledged")
			require.Zero(t, e.stats(t)[r.Subject].GaveUp, "no webhook was given up")
			e.requireExactlyOnce(ctx, t, r)
		})
	}
	require.NoError(t, e.stack.RestartRelay(ctx, nil))
}

// relayOutage: Treezor's webhooks cannot reach a stopped relay; Treezor retries, and they arrive once it is back.
func (e *env) relayOutage(ctx context.Context, t *testing.T) {
	e.stack.StopRelay()
	known := e.stats(t)
	done := e.runAside(ctx, signals.MethodTreezorQES, "HAPPYPATH")
	e.waitStats(t, signals.ProviderTreezor, known, func(st sandbox.SubjectStats) bool { return st.Unreachable > 0 })
	require.NoError(t, e.stack.RestartRelay(ctx, nil))
	r := <-done
	require.True(t, r.OK(), "got %s", r.Actual())
	st := e.stats(t)[r.Subject]
	require.Positive(t, st.Retried)
	require.Zero(t, st.GaveUp)
	e.requireExactlyOnce(ctx, t, r)
}

// requireNoPersonalData: the synthetic names, e-mails, birthdays and phones of the subjects appear in no log line
// of any process.
func (e *env) requireNoPersonalData(t *testing.T, results []matrix.Result) {
	logs, err := os.ReadFile(e.logFile)
	require.NoError(t, err)
	text := string(logs)
	fixed := []string{"@example.test\"", "1990-01-01", "+33600000000", "rue de la Paix", "+49301234567", "Amrumerstrasse"}
	for _, line := range strings.Split(text, "\n") {
		for _, s := range fixed {
			require.NotContains(t, line, s)
		}
	}
	require.False(t, idnowReference.MatchString(text), "an IDnow reference (the SDK token) is in the logs")
	for _, r := range results {
		if r.FirstName != "" {
			require.NotContains(t, text, r.FirstName, "%s: its first name is in the logs", r.Name())
		}
	}
}

// dumpLog prints the end of the processes' logs, for a failure's diagnosis.
func dumpLog(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	from := max(0, len(lines)-150)
	t.Logf("last %d log lines of the stack (%s):\n%s", len(lines)-from, path, strings.Join(lines[from:], "\n"))
}
