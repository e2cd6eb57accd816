package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/sandbox/matrix"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// operatorActions runs the kycflow CLI's decide against real processes: a live verification whose KYC review
// stays open goes overdue and an operator closes it; a Yousign verification the user never finishes is approved
// by two operators (the integrator decides Yousign's KYC), after the first one's attempt to confirm alone is
// refused.
func (e *env) operatorActions(ctx context.Context, t *testing.T) {
	cli := func(args ...string) (map[string]any, string, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(binaries(t), "kycflow"), append(args, "--json", "--address", e.stack.Temporal.HostPort)...)
		out, err := cmd.Output()
		var doc map[string]any
		_ = json.Unmarshal(out, &doc)
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return doc, stderr, err
	}
	startCase := func(m signals.Method, name string) starter.Verification {
		sc, ok := sandbox.Lookup(m, name)
		require.True(t, ok)
		v, err := e.runner.Start(ctx, matrix.Case{Scenario: sc})
		require.NoError(t, err)
		return v
	}

	t.Run("close an overdue verification", func(t *testing.T) {
		v := startCase(signals.MethodTreezorLiveness, "KYCNEVER")
		require.Eventually(t, func() bool {
			st, err := e.starter.Status(ctx, v)
			return err == nil && st.Step == signals.StepOverdue && st.Overdue != nil
		}, time.Minute, 100*time.Millisecond, "the open review goes overdue")
		doc, stderr, err := cli("decide", "--action", "close", "--as", "refused", "--code", "REVIEW_LOST",
			"--operator", "ops-alice", "--reason", "Treezor support: file lost", "--expected-step", "overdue", v.WorkflowID)
		require.NoError(t, err, stderr)
		require.Equal(t, "close", doc["action"])
		o, err := e.starter.Wait(ctx, v)
		require.NoError(t, err)
		require.Equal(t, signals.OutcomeRefused, o.Status, "detail: %s", o.Detail)
		require.NotNil(t, o.DecidedBy)
		require.Equal(t, "ops-alice", o.DecidedBy.Operator)
		require.Equal(t, "REVIEW_LOST", o.DecidedBy.ReasonCode)
	})

	t.Run("two operators approve a Yousign verification", func(t *testing.T) {
		v := startCase(signals.MethodYousignVideo, "NEVERFINISHED")
		doc, stderr, err := cli("decide", "--action", "approve", "--operator", "ops-alice", "--reason", "ID checked in branch", v.WorkflowID)
		require.NoError(t, err, stderr)
		require.Contains(t, doc["pending"], "second operator")
		doc, stderr, err = cli("decide", "--action", "approve", "--operator", "ops-alice", v.WorkflowID)
		require.Error(t, err, "the same operator cannot confirm")
		require.Contains(t, stderr, "needs a second operator")
		require.Equal(t, string(starter.ErrActionRejected), doc["error"].(map[string]any)["kind"])
		_, stderr, err = cli("decide", "--action", "approve", "--operator", "ops-bob", v.WorkflowID)
		require.NoError(t, err, stderr)
		o, err := e.starter.Wait(ctx, v)
		require.NoError(t, err)
		require.Equal(t, signals.OutcomeApproved, o.Status)
		require.Equal(t, "ops-alice", o.DecidedBy.Operator)
		require.Equal(t, "ops-bob", o.DecidedBy.ConfirmedBy)
		require.False(t, strings.Contains(o.UserMessage, "ops-"), "operators never reach the user's text")
	})

	t.Run("an operator cannot approve where the partner bank decides", func(t *testing.T) {
		v := startCase(signals.MethodTreezorQES, "LINKEXPIRED")
		_, stderr, err := cli("decide", "--action", "approve", "--operator", "ops-alice", v.WorkflowID)
		require.Error(t, err)
		require.Contains(t, stderr, "cannot approve")
		require.NoError(t, e.starter.Cancel(ctx, v, "test over"))
	})
}

// sandboxCommand runs the start command /sandbox/subjects prints for a Yousign subject, through bash as a person
// would paste it: its names go to the CLI on stdin (--person -), never as flags.
func (e *env) sandboxCommand(ctx context.Context, t *testing.T) {
	resp, err := http.Post(e.stack.SandboxURL+"/sandbox/subjects", "application/json",
		strings.NewReader(`{"method":"yousign-video","scenario":"NEVERFINISHED"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var subj sandbox.SubjectResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&subj))
	require.Contains(t, subj.Command, "--person -")
	require.NotContains(t, subj.Command, "--first-name")

	script := strings.Replace(subj.Command, "bin/kycflow", filepath.Join(binaries(t), "kycflow"), 1) +
		" --json --address " + e.stack.Temporal.HostPort
	out, err := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script).Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, stderr)
	var started struct {
		WorkflowID string `json:"workflowId"`
		URL        string `json:"url"`
	}
	require.NoError(t, json.Unmarshal(out, &started), "%s", out)
	require.NotEmpty(t, started.URL, "%s", out)
	v := starter.Verification{WorkflowID: started.WorkflowID}
	st, err := e.starter.Status(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.StepAwaitingUser, st.Step)
	require.NoError(t, e.starter.Cancel(ctx, v, "e2e: the printed command ran"))
	o, err := e.starter.Wait(ctx, v)
	require.NoError(t, err)
	require.Equal(t, signals.OutcomeCancelled, o.Status)
}
