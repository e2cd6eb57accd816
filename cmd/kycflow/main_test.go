package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

var (
	binDir   string
	buildBin = sync.OnceValues(func() (string, error) {
		var err error
		if binDir, err = os.MkdirTemp("", "kycflow-cli-test"); err != nil {
			return "", err
		}
		bin := filepath.Join(binDir, "kycflow")
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			return "", errors.New(string(out))
		}
		return bin, nil
	})
)

// TestMain stops the shared dev server stack and removes the binary the end-to-end tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// result is one run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI in process, with env as its environment.
func runCLI(env map[string]string, args ...string) result {
	return runCLIWithStdin(env, "", args...)
}

// runCLIWithStdin runs the CLI in process with stdin as its standard input.
func runCLIWithStdin(env map[string]string, stdin string, args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return result{code, stdout.String(), stderr.String()}
}

// unusedAddress is a loopback address nothing listens on.
func unusedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestHelpAndUsageErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, exitUsage, "", "Usage:\n  kycflow <command>"},
		{"help", []string{"help"}, exitOK, "Exit status: 0 success, 1 failure", ""},
		{"--help", []string{"--help"}, exitOK, "Commands:\n  start", ""},
		{"unknown command", []string{"begin"}, exitUsage, "", `unknown command "begin"`},
		{"command help", []string{"start", "-h"}, exitOK, "kycflow start --method METHOD --subject ID", ""},
		{"command help lists every flag", []string{"list", "--help"}, exitOK, "--outcome outcome", ""},
		{"undefined flag", []string{"status", "--verbose"}, exitUsage, "", "flag provided but not defined: -verbose"},
		{"bad duration", []string{"wait", "--timeout", "soon", "kyc/treezor/1"}, exitUsage, "", `invalid value "soon" for flag -timeout`},
		{"start without method", []string{"start", "--subject", "1"}, exitUsage, "", "--method is required"},
		{"start without subject", []string{"start", "--method", "treezor-qes"}, exitUsage, "", "--subject is required"},
		{"start with an unknown method", []string{"start", "--method", "idnow", "--subject", "1"}, exitUsage, "", `--method: unknown verification method "idnow"`},
		{"start with a bad subject", []string{"start", "--method", "treezor-qes", "--subject", "1/2"}, exitUsage, "", "--subject: subject ID has a character not allowed at byte 1"},
		// Issue 15: an e-mail address or a leading zero is no Treezor userId, and the value is never echoed.
		{"start with an e-mail as subject", []string{"start", "--method", "treezor-qes", "--subject", "alice@example.com"}, exitUsage, "", "--subject: a Treezor subject ID is the user's userId"},
		{"start with a leading zero", []string{"start", "--method", "treezor-liveness", "--subject", "0042"}, exitUsage, "", "no leading zero"},
		{"yousign without names", []string{"start", "--method", "yousign-video", "--subject", "u1", "--redirect-url", "https://x.example"}, exitUsage, "", "--person: firstName and lastName are required"},
		{"bad language", []string{"renew", "--method", "solaris-idnow", "--subject", "p1", "--language", "fr"}, exitUsage, "", `--language: "fr" is not DE or EN`},
		{"negative deadline", []string{"start", "--method", "treezor-qes", "--subject", "1", "--review-deadline", "-1h"}, exitUsage, "", "--review-deadline: -1h0m0s is negative"},
		{"positional subject", []string{"start", "--method", "treezor-qes", "123"}, exitUsage, "", "the subject goes in --subject"},
		{"status without a target", []string{"status"}, exitUsage, "", "name the verification"},
		{"status with both", []string{"status", "kyc/treezor/1", "--subject", "1", "--method", "treezor-qes"}, exitUsage, "", "not both"},
		{"status by subject alone", []string{"status", "--subject", "1"}, exitUsage, "", "--subject needs --method or --provider"},
		{"provider and method disagree", []string{"wait", "--subject", "1", "--provider", "solaris", "--method", "treezor-qes"}, exitUsage, "", "--provider solaris does not run treezor-qes"},
		{"not a workflow ID", []string{"cancel", "treezor/1"}, exitUsage, "", "workflow ID: \"treezor/1\" is not a verification workflow ID"},
		{"two workflow IDs", []string{"wait", "kyc/treezor/1", "kyc/treezor/2"}, exitUsage, "", "one workflow ID at most"},
		{"list with a misspelt step", []string{"list", "--step", "review"}, exitUsage, "", `--step: unknown step "review"`},
		{"list with a negative limit", []string{"list", "--limit", "-1"}, exitUsage, "", "--limit: -1 is not between 0 and 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Usage errors are found before dialing: the address is never used.
			r := runCLI(map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1"}, tc.args...)
			require.Equal(t, tc.wantCode, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			require.Contains(t, r.stdout, tc.wantStdout)
			require.Contains(t, r.stderr, tc.wantStderr)
			if tc.wantCode == exitUsage && len(tc.args) > 1 {
				require.NotContains(t, r.stderr, "Temporal is unavailable")
			}
		})
	}
}

func TestUsageErrorAsJSON(t *testing.T) {
	r := runCLI(nil, "start", "--json", "--method", "treezor-qes", "--subject", "a b")
	require.Equal(t, exitUsage, r.code)
	var out jsonError
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Equal(t, string(starter.ErrInvalidRequest), out.Error.Kind)
	require.Equal(t, "subjectId", out.Error.Field)
	require.Contains(t, r.stderr, "--subject: ")
}

// TestPersonalDataNeverComesFromFlags: Yousign's names come from a file or stdin (--person), since a flag's value
// is visible to anyone on the machine in ps, /proc/PID/cmdline and the shell's history; errors never quote what was
// read.
func TestPersonalDataNeverComesFromFlags(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	names := file("names.json", `{"firstName":"Ada","lastName":"Lovelace"}`)
	extra := file("extra.json", `{"firstName":"Ada","lastName":"Lovelace","birthDate":"1815-12-10"}`)
	yousign := []string{"start", "--method", "yousign-video", "--redirect-url", "https://x.example"}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStderr string
	}{
		{"names as flags", append(yousign, "--subject", "u1", "--first-name", "Ada", "--last-name", "Lovelace"), "", exitUsage, "pass --person FILE (or --person - to read it from stdin)"},
		{"names for a method that takes none", []string{"start", "--method", "treezor-qes", "--subject", "1", "--person", names}, "", exitUsage, "--person: only yousign-video takes the user's names"},
		{"names read, then the subject checked", append(yousign, "--subject", "alice@example.com", "--person", names), "", exitUsage, "never an e-mail address"},
		{"names on stdin, then the subject checked", append(yousign, "--subject", "alice@example.com", "--person", "-"), `{"firstName":"Ada","lastName":"Lovelace"}`, exitUsage, "never an e-mail address"},
		{"stdin not JSON", append(yousign, "--subject", "u1", "--person", "-"), "Ada Lovelace", exitUsage, "--person: stdin is not a JSON object"},
		{"a name that is not a string", append(yousign, "--subject", "u1", "--person", "-"), `{"firstName":1815,"lastName":"Lovelace"}`, exitUsage, "firstName must be a string"},
		{"a field kycflow does not take", append(yousign, "--subject", "u1", "--person", extra), "", exitUsage, "a field other than firstName and lastName"},
		{"a missing file", append(yousign, "--subject", "u1", "--person", filepath.Join(dir, "none.json")), "", exitUsage, "--person: open"},
		{"names read and the input valid: Temporal is next", append(yousign, "--subject", "u1", "--person", "-", "--address", unusedAddress(t)),
			`{"firstName":"Ada","lastName":"Lovelace"}`, exitFailure, "Temporal is unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLIWithStdin(nil, tc.stdin, tc.args...)
			require.Equal(t, tc.wantCode, r.code, "stderr: %s", r.stderr)
			require.Contains(t, r.stderr, tc.wantStderr)
			for _, personal := range []string{"Lovelace", "1815"} {
				require.NotContains(t, r.stderr+r.stdout, personal, "personal data is never echoed")
			}
		})
	}
}

// TestAddressFromEnvironmentAndFlag: TEMPORAL_ADDRESS sets the frontend, --address overrides it; both reach the
// dial error when nothing listens there.
func TestAddressFromEnvironmentAndFlag(t *testing.T) {
	fromEnv, fromFlag := unusedAddress(t), unusedAddress(t)
	env := map[string]string{"TEMPORAL_ADDRESS": fromEnv, "TEMPORAL_NAMESPACE": "kyc"}
	r := runCLI(env, "status", "kyc/treezor/1")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "Temporal is unavailable")
	require.Contains(t, r.stderr, fromEnv)

	r = runCLI(env, "status", "--json", "--address", fromFlag, "kyc/treezor/1")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, fromFlag)
	var out jsonError
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Equal(t, string(starter.ErrTemporalUnavailable), out.Error.Kind)
}

func TestOutcomeOutput(t *testing.T) {
	completed := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	o := signals.Outcome{
		Status: signals.OutcomeRefused, Method: signals.MethodTreezorLiveness, ProviderReference: "idv-1",
		Detail:      "live verification refused (score 0)",
		UserMessage: "Your identity document has expired.",
		Reasons: []signals.Reason{
			{Code: "2101", Message: "Applicant presented an expired document", Category: signals.CategoryDocument,
				UserShowable: true, UserMessage: "Your identity document has expired.", UserMayRetry: true, Known: true},
			{Code: "2302", Message: "Applicant presented a document declared as stolen or lost", Category: signals.CategoryFraud, Known: true},
		},
		CompletedAt: completed,
	}
	v := starter.Verification{WorkflowID: "kyc/treezor/1"}
	render := func(asJSON, internal bool) string {
		var b bytes.Buffer
		p := &printer{stdout: &b, json: asJSON, internal: internal, now: func() time.Time { return completed.Add(time.Hour) }}
		p.outcome(v, o)
		return b.String()
	}

	human := render(false, false)
	require.Contains(t, human, "Outcome             refused\n")
	require.Contains(t, human, "User message        Your identity document has expired.\n")
	require.Contains(t, human, "Reasons             2101 (document) Your identity document has expired.\n")
	require.Contains(t, human, "1 internal reason(s) not shown")
	require.Contains(t, human, "Completed           2026-05-04T10:00:00Z (1h0m0s ago)\n")
	for _, secret := range []string{"2302", "stolen", "Applicant", "score 0"} {
		require.NotContains(t, human, secret)
	}

	internal := render(false, true)
	require.Contains(t, internal, "2302 (fraud)")
	require.Contains(t, internal, "provider: Applicant presented an expired document")
	require.Contains(t, internal, "live verification refused (score 0)")

	var got struct {
		WorkflowID    string           `json:"workflowId"`
		Status        string           `json:"status"`
		Detail        string           `json:"detail"`
		Reasons       []signals.Reason `json:"reasons"`
		HiddenReasons int              `json:"hiddenReasons"`
	}
	raw := render(true, false)
	require.NoError(t, json.Unmarshal([]byte(raw), &got))
	require.Equal(t, "kyc/treezor/1", got.WorkflowID)
	require.Equal(t, "refused", got.Status)
	require.Empty(t, got.Detail)
	require.Len(t, got.Reasons, 1)
	require.Empty(t, got.Reasons[0].Message)
	require.Equal(t, 1, got.HiddenReasons)
	require.NotContains(t, raw, "stolen")

	var all outcomeJSON
	require.NoError(t, json.Unmarshal([]byte(render(true, true)), &all))
	require.Len(t, all.Reasons, 2)
	require.Zero(t, all.HiddenReasons)
}

var (
	cliOnce sync.Once
	cliEnv  []string
)

// testPayloadKey is the integration stack's payload key (internal/testenv), base64 as KYCFLOW_PAYLOAD_KEY takes it.
var testPayloadKey = base64.StdEncoding.EncodeToString([]byte("kycflow-integration-test-key-32b"))

// cli runs the real binary against the test stack's dev server.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	s := testenv.Start(t)
	bin, err := buildBin()
	require.NoError(t, err, "build the CLI")
	cliOnce.Do(func() {
		cliEnv = append(os.Environ(), "TEMPORAL_ADDRESS="+s.Temporal.HostPort, "TEMPORAL_NAMESPACE=default",
			payloadcodec.EnvKey+"="+testPayloadKey)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cliEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		r.code = exitErr.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

func requireOK(t *testing.T, r result) {
	t.Helper()
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v), "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	return v
}

type identJSON struct {
	WorkflowID string    `json:"workflowId"`
	RunID      string    `json:"runId"`
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

type outcomeJSON struct {
	WorkflowID    string                `json:"workflowId"`
	Status        signals.OutcomeStatus `json:"status"`
	Reasons       []signals.Reason      `json:"reasons"`
	HiddenReasons int                   `json:"hiddenReasons"`
}

type errorJSON struct {
	Error struct {
		Kind, Message, WorkflowID, Field, Cause string
	} `json:"error"`
}

// TestCLIStartStatusListWait drives a live verification with the real binary: start (twice), status, list, a
// refusal delivered as webhooks, wait with and without --internal, and renew after it closed.
func TestCLIStartStatusListWait(t *testing.T) {
	s := testenv.Start(t)
	r := cli(t, "start", "--method", "treezor-liveness", "--subject", "700001")
	requireOK(t, r)
	require.Regexp(t, `(?m)^URL +https://id\.example\.test/idv-700001$`, r.stdout)
	require.Regexp(t, `(?m)^Workflow ID +kyc/treezor/700001$`, r.stdout)
	require.Regexp(t, `(?m)^Valid until +\S+Z \(in 1[45]m\d+s\)$`, r.stdout)

	started := decode[identJSON](t, cli(t, "start", "--json", "--method", "treezor-liveness", "--subject", "700001"))
	require.Equal(t, "kyc/treezor/700001", started.WorkflowID)
	require.Equal(t, "https://id.example.test/idv-700001", started.URL)
	require.NotEmpty(t, started.RunID)
	require.Len(t, s.Treezor.CallsFor("700001"), 1, "the second start joined the first")

	r = cli(t, "status", "kyc/treezor/700001")
	requireOK(t, r)
	require.Regexp(t, `(?m)^Method +treezor-liveness$`, r.stdout)
	require.Regexp(t, `(?m)^Step +awaiting_user, until \S+Z \(in \S+\)$`, r.stdout)
	require.Regexp(t, `(?m)^URL +https://id\.example\.test/idv-700001$`, r.stdout)
	require.Regexp(t, `(?m)^Webhooks +0 received, 0 duplicate\(s\)$`, r.stdout)
	st := decode[signals.Status](t, cli(t, "status", "--subject", "700001", "--method", "treezor-liveness", "--json"))
	require.Equal(t, signals.StepAwaitingUser, st.Step)
	require.Equal(t, started.URL, st.IdentificationURL)

	type listJSON struct {
		Verifications []starter.Summary `json:"verifications"`
		More          bool              `json:"more"`
	}
	require.Eventually(t, func() bool {
		l := decode[listJSON](t, cli(t, "list", "--json", "--subject", "700001", "--step", "awaiting_user"))
		return len(l.Verifications) == 1 && l.Verifications[0].RunID == started.RunID
	}, 15*time.Second, 200*time.Millisecond)
	r = cli(t, "list", "--method", "treezor-liveness", "--subject", "700001")
	requireOK(t, r)
	require.Regexp(t, `(?m)^WORKFLOW ID +METHOD +STEP +OUTCOME +STATUS +STARTED +CLOSED +RUN ID$`, r.stdout)
	require.Regexp(t, `(?m)^kyc/treezor/700001 +treezor-liveness +awaiting_user +- +Running +\S+Z +- +`+started.RunID+`$`, r.stdout)

	// Treezor refuses the session: one user-showable reason, one fraud code that only --internal shows.
	score := 0
	s.SignalTreezor(t, "700001", signals.SignalTreezorKycLivenessCreate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "c"}, KycStatus: "processing"})
	s.SignalTreezor(t, "700001", signals.SignalTreezorKycLivenessUpdate, signals.TreezorLivenessEvent{Webhook: signals.Webhook{EventID: "u"},
		KycStatus: "processed", Score: &score, Reasons: []signals.ProviderReason{
			{Code: "2101", Message: "Applicant presented an expired document"},
			{Code: "2302", Message: "Applicant presented a document declared as stolen or lost"},
		}})
	r = cli(t, "wait", "kyc/treezor/700001")
	requireOK(t, r)
	require.Regexp(t, `(?m)^Outcome +refused$`, r.stdout)
	require.Regexp(t, `(?m)^User message +\S.*$`, r.stdout)
	require.Regexp(t, `(?m)^Reasons +2101 \(document\) \S.*$`, r.stdout)
	require.Contains(t, r.stdout, "1 internal reason(s) not shown")
	require.NotContains(t, r.stdout, "2302")
	require.NotContains(t, r.stdout, "Applicant")

	r = cli(t, "wait", "--internal", "kyc/treezor/700001")
	requireOK(t, r)
	require.Contains(t, r.stdout, "2302 (fraud)")
	require.Contains(t, r.stdout, "provider: Applicant presented a document declared as stolen or lost")
	require.Regexp(t, `(?m)^Detail \(internal\) +\S.*$`, r.stdout)

	r = cli(t, "wait", "--json", "--subject", "700001", "--provider", "treezor")
	outcome := decode[outcomeJSON](t, r)
	require.Equal(t, "kyc/treezor/700001", outcome.WorkflowID)
	require.Equal(t, signals.OutcomeRefused, outcome.Status)
	require.Len(t, outcome.Reasons, 1)
	require.Equal(t, 1, outcome.HiddenReasons)
	require.NotContains(t, r.stdout, "Applicant")

	require.Eventually(t, func() bool {
		l := decode[listJSON](t, cli(t, "list", "--json", "--subject", "700001", "--outcome", "refused"))
		return len(l.Verifications) == 1 && l.Verifications[0].ExecutionStatus == "Completed" && !l.Verifications[0].CloseTime.IsZero()
	}, 15*time.Second, 200*time.Millisecond)

	renewed := decode[identJSON](t, cli(t, "renew", "--json", "--method", "treezor-liveness", "--subject", "700001"))
	require.Equal(t, started.WorkflowID, renewed.WorkflowID)
	require.NotEqual(t, started.RunID, renewed.RunID, "a new attempt after the refusal")
	requireOK(t, cli(t, "cancel", "kyc/treezor/700001"))
}

// TestCLIProviderUnavailable: a provider that answers 503 until the retries run out is "unavailable, try again
// later", unlike the rejection in TestCLICancelAndErrors.
func TestCLIProviderUnavailable(t *testing.T) {
	t.Parallel() // the retries take about 20 s of real time
	testenv.Start(t)
	r := cli(t, "start", "--json", "--method", "treezor-liveness", "--subject", "503700")
	require.Equal(t, exitFailure, r.code)
	e := decode[errorJSON](t, r)
	require.Equal(t, string(starter.ErrProviderUnavailable), e.Error.Kind)
	require.Equal(t, signals.CauseProviderUnavailable, e.Error.Cause)
	require.Contains(t, r.stderr, "try again later")

	o := decode[map[string]any](t, cli(t, "wait", "--json", "kyc/treezor/503700"))
	require.Equal(t, "failed", o["status"])
	require.Equal(t, true, o["userMayRetry"])
	require.Contains(t, o["userMessage"], "try again later")
}

// TestCLIListSaysWhenCutAndHowToPage: three runs for one subject, listed two at a time. The first page says how
// many match and prints the command for the next page, which lists the third.
func TestCLIListSaysWhenCutAndHowToPage(t *testing.T) {
	testenv.Start(t)
	for range 3 {
		requireOK(t, cli(t, "start", "--method", "treezor-qes", "--subject", "700005"))
		requireOK(t, cli(t, "cancel", "--wait", "kyc/treezor/700005"))
	}
	type listJSON struct {
		Verifications []starter.Summary `json:"verifications"`
		More          bool              `json:"more"`
		Total         int64             `json:"total"`
		NextPageToken string            `json:"nextPageToken"`
	}
	var first listJSON
	require.Eventually(t, func() bool {
		first = decode[listJSON](t, cli(t, "list", "--json", "--subject", "700005", "--outcome", "cancelled", "--limit", "2"))
		return first.Total == 3
	}, 15*time.Second, 200*time.Millisecond, "visibility shows the three runs")
	require.Len(t, first.Verifications, 2)
	require.True(t, first.More)
	require.NotEmpty(t, first.NextPageToken)

	r := cli(t, "list", "--subject", "700005", "--outcome", "cancelled", "--limit", "2")
	requireOK(t, r)
	require.Contains(t, r.stdout, "This page shows 2 of the 3 matching verifications (--limit 0 lists all). Next page:")
	next := regexp.MustCompile(`(?m)^  kycflow list (.*)$`).FindStringSubmatch(r.stdout)
	require.NotNil(t, next, r.stdout)
	for _, flag := range []string{"--subject 700005", "--outcome cancelled", "--limit 2", "--page-token "} {
		require.Contains(t, next[1], flag, "the next page keeps the filters")
	}

	r = cli(t, append([]string{"list", "--json"}, strings.Fields(next[1])...)...)
	second := decode[listJSON](t, r)
	require.Len(t, second.Verifications, 1, "the third run")
	require.False(t, second.More)
	seen := map[string]bool{}
	for _, v := range append(first.Verifications, second.Verifications...) {
		seen[v.RunID] = true
	}
	require.Len(t, seen, 3, "three different runs over the two pages")

	all := decode[listJSON](t, cli(t, "list", "--json", "--subject", "700005", "--outcome", "cancelled", "--limit", "0"))
	require.Len(t, all.Verifications, 3)
	require.False(t, all.More)

	r = cli(t, "list", "--page-token", "%%%", "--subject", "700005")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--page-token")
}

// TestCLICancelAndErrors cancels with the real binary and checks the failures a person meets: an unknown ID, a
// verification that has already ended, incomplete user data, another method running, a wait that times out.
func TestCLICancelAndErrors(t *testing.T) {
	requireOK(t, cli(t, "start", "--method", "treezor-qes", "--subject", "700002"))

	r := cli(t, "wait", "--timeout", "1s", "kyc/treezor/700002")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "kycflow wait: kyc/treezor/700002: timed out")

	r = cli(t, "start", "--json", "--method", "treezor-liveness", "--subject", "700002")
	require.Equal(t, exitFailure, r.code)
	require.Equal(t, string(starter.ErrMethodMismatch), decode[errorJSON](t, r).Error.Kind)
	require.Contains(t, r.stderr, "treezor-qes verification is already running")

	r = cli(t, "cancel", "kyc/treezor/700002", "--reason", "support ticket 42")
	requireOK(t, r)
	require.Equal(t, "Cancellation requested for kyc/treezor/700002; 'kycflow wait kyc/treezor/700002' prints the outcome.\n", r.stdout)
	r = cli(t, "wait", "kyc/treezor/700002")
	requireOK(t, r)
	require.Regexp(t, `(?m)^Outcome +cancelled$`, r.stdout)
	require.NotContains(t, r.stdout, "support ticket 42", "the reason is internal")

	r = cli(t, "cancel", "--json", "kyc/treezor/700002")
	require.Equal(t, exitFailure, r.code)
	require.Equal(t, string(starter.ErrClosed), decode[errorJSON](t, r).Error.Kind)
	require.Contains(t, r.stderr, "the verification has already ended")

	requireOK(t, cli(t, "start", "--method", "treezor-videoconference", "--subject", "700003"))
	r = cli(t, "cancel", "--wait", "--json", "--subject", "700003", "--method", "treezor-videoconference")
	requireOK(t, r)
	require.Equal(t, "cancelled", decode[map[string]any](t, r)["status"])

	r = cli(t, "status", "kyc/treezor/700404")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "kycflow status: kyc/treezor/700404: verification not found")
	require.Empty(t, r.stdout)

	r = cli(t, "start", "--json", "--method", "treezor-liveness", "--subject", "428700")
	require.Equal(t, exitFailure, r.code)
	e := decode[errorJSON](t, r)
	require.Equal(t, string(starter.ErrUserDataIncomplete), e.Error.Kind)
	require.Equal(t, signals.CauseUserDataIncomplete, e.Error.Cause)
	require.Equal(t, "kyc/treezor/428700", e.Error.WorkflowID)
	r = cli(t, "start", "--method", "treezor-liveness", "--subject", "428700")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "the user's data at the provider is incomplete")

	// A user Treezor does not know: rejected for good, not "unavailable, retry later".
	r = cli(t, "start", "--json", "--method", "treezor-liveness", "--subject", "404700")
	require.Equal(t, exitFailure, r.code)
	e = decode[errorJSON](t, r)
	require.Equal(t, string(starter.ErrProviderRejected), e.Error.Kind)
	require.Equal(t, signals.CauseProviderRejected, e.Error.Cause)
	r = cli(t, "start", "--method", "treezor-liveness", "--subject", "404700")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "retrying will not help")
	require.NotContains(t, r.stderr, "unavailable")
}
