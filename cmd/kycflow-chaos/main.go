// Command kycflow-chaos is `make chaos`: the scenario matrix on the cluster stack (PostgreSQL, Temporal's server
// with mTLS, two relays, two workers) while it SIGKILLs and restarts, at random points and each more than once, a
// worker, a relay, the Temporal server and PostgreSQL. It then checks that every verification ended exactly once
// with the outcome its scenario implies, that none is stuck, and that every webhook a relay acknowledged as
// signalled is in a workflow history. It prints what it killed when, and the table of outcomes; it exits 1 on any
// miss.
//
// Deadlines are long enough that no restart crosses one by design: the sandbox's time runs 6 times slower than
// `make run`'s (a provider day is 10 s) and no deadline is under 12 s, while a kill keeps its process down 1-3 s.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/kycflow/kycflow/internal/devcerts"
	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/sandbox/matrix"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

func main() {
	ok, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kycflow-chaos:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// kill is one entry of the schedule: what, when (from the matrix's start), for how long.
type kill struct {
	target string
	at     time.Duration
	down   time.Duration
}

func run() (bool, error) {
	var (
		binDir    = flag.String("bin", "bin", "folder holding the kycflow binaries")
		serverBin = flag.String("server", "bin/temporal-server-1.29.1/server", "Temporal's server binary")
		sqlTool   = flag.String("sql-tool", "bin/temporal-server-1.29.1/sql", "temporal-sql-tool")
		schemaDir = flag.String("schema", "", "the server module's schema/postgresql/v12")
		configDir = flag.String("config", "deploy/temporal", "folder of config/cluster.yaml and dynamicconfig.yaml")
		pgBin     = flag.String("postgres-bin", "/usr/lib/postgresql/15/bin", "PostgreSQL's bin folder")
		seed      = flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the kill schedule (printed, to replay a run)")
		logFile   = flag.String("log", "", "write the processes' logs here (default: a temporary file, kept on failure)")
	)
	flag.Parse()
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	data, err := os.MkdirTemp("", "kycflow-chaos-")
	if err != nil {
		return false, err
	}
	// PostgreSQL runs as the postgres user when this runs as root: it must be able to reach its data folder.
	_ = os.Chmod(data, 0o755)
	defer os.RemoveAll(data)
	logPath := *logFile
	if logPath == "" {
		logPath = filepath.Join(os.TempDir(), fmt.Sprintf("kycflow-chaos-%d.log", time.Now().Unix()))
	}
	logs, err := os.Create(logPath)
	if err != nil {
		return false, err
	}
	defer logs.Close()

	scale, minDeadline := 6*sandbox.DefaultTimeScale, 6*sandbox.DefaultMinDeadline
	fmt.Printf("Starting the cluster (PostgreSQL, Temporal with mTLS, 2 relays, 2 workers); logs in %s\n", logPath)
	c, err := devstack.StartCluster(ctx, devstack.ClusterOptions{
		ServerBin: abs(*serverBin), SQLToolBin: abs(*sqlTool), SchemaDir: abs(*schemaDir), ConfigDir: abs(*configDir),
		BinDir: abs(*binDir), DataDir: data, PostgresBin: *pgBin, Workers: 2, Relays: 2,
		TimeScale: scale, MinDeadline: minDeadline, Output: logs,
	})
	if err != nil {
		return false, fmt.Errorf("start the cluster: %w (logs in %s)", err, logPath)
	}
	defer c.Stop()

	tc, err := c.Dial(ctx)
	if err != nil {
		return false, err
	}
	defer tc.Close()
	connOK, err := checkConnections(ctx, c, abs(*binDir), data)
	if err != nil {
		return false, err
	}
	st := &starter.Starter{Client: tc}
	runner, err := matrix.New(ctx, matrix.Config{SandboxURL: c.SandboxURL, Starter: st, Timeout: 10 * time.Minute})
	if err != nil {
		return false, err
	}
	cases := matrix.Cases(nil, nil, nil)
	schedule := newSchedule(*seed)
	fmt.Printf("Running %d verifications (a provider day lasts %s, no deadline under %s) while killing, seed %d:\n",
		len(cases), runner.Clock().Duration(24*time.Hour).Round(time.Millisecond), minDeadline, *seed)

	start := time.Now()
	chaosCtx, stopChaos := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var (
		chaosErr error
		done     int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		done, chaosErr = inflict(chaosCtx, c, schedule, start)
	}()
	results := runner.Run(ctx, cases, nil)
	stopChaos()
	wg.Wait()
	took := time.Since(start)
	if chaosErr != nil {
		return false, fmt.Errorf("restart after a kill: %w (logs in %s)", chaosErr, logPath)
	}

	fmt.Printf("\nThe matrix took %s; %d of the %d kills ran during it.\n\n", took.Round(time.Second), done, len(schedule))
	ok := matrix.WriteTable(os.Stdout, results)
	lost, extraRuns, err := checkHistories(ctx, c, tc, results)
	if err != nil {
		return false, err
	}
	stuck, err := openVerifications(ctx, tc)
	if err != nil {
		return false, err
	}
	fmt.Printf("\nWebhooks acknowledged as signalled but missing from every history: %d\n", len(lost))
	for _, l := range lost {
		fmt.Println("  " + l)
	}
	fmt.Printf("Verifications with more runs than their case started: %d\n", len(extraRuns))
	for _, e := range extraRuns {
		fmt.Println("  " + e)
	}
	fmt.Printf("Verifications still open after the matrix: %d\n", len(stuck))
	for _, s := range stuck {
		fmt.Println("  " + s)
	}
	if done < len(schedule) {
		// A kill that never ran tested nothing: the run does not count as a pass.
		fmt.Printf("Kills the matrix ended before: %d (the schedule must fit in the matrix)\n", len(schedule)-done)
	}
	ok = ok && len(lost) == 0 && len(extraRuns) == 0 && len(stuck) == 0 && connOK && done == len(schedule)
	if ok {
		fmt.Println("\nChaos run passed: every verification ended once with its scenario's outcome, nothing stuck, nothing lost.")
		_ = os.Remove(logPath)
	} else {
		fmt.Printf("\nChaos run FAILED (seed %d); the processes' logs are in %s\n", *seed, logPath)
	}
	return ok, nil
}

// newSchedule kills each kind of process more than once, at random points of the matrix's first two minutes at most
// (it runs close to three), each for 1-3 s, one at a time. A run fails unless every kill ran during the matrix.
func newSchedule(seed uint64) []kill {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	targets := []string{"worker-1", "relay-1", "temporal", "postgres", "worker-2", "relay-2", "temporal", "postgres", "worker-1", "relay-2"}
	rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	var out []kill
	at := 2 * time.Second
	for _, t := range targets {
		at += time.Duration(3000+rng.IntN(9000)) * time.Millisecond // the last at 2 min at most
		out = append(out, kill{target: t, at: at, down: time.Duration(1000+rng.IntN(2000)) * time.Millisecond})
	}
	return out
}

// inflict runs the schedule: SIGKILL, a pause, restart (and wait until ready). It reports how many kills ran.
func inflict(ctx context.Context, c *devstack.Cluster, schedule []kill, start time.Time) (int, error) {
	for i, k := range schedule {
		select {
		case <-ctx.Done():
			return i, nil
		case <-time.After(time.Until(start.Add(k.at))):
		}
		killedAt := time.Since(start)
		switch {
		case k.target == "temporal":
			c.KillServer()
		case k.target == "postgres":
			c.KillPostgres()
		case strings.HasPrefix(k.target, "worker-"):
			c.Workers[index(k.target)].Kill()
		case strings.HasPrefix(k.target, "relay-"):
			c.Relays[index(k.target)].Kill()
		}
		time.Sleep(k.down)
		restartCtx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var err error
		switch {
		case k.target == "temporal":
			err = c.StartServer(restartCtx)
		case k.target == "postgres":
			err = c.RestartPostgres(restartCtx)
		case strings.HasPrefix(k.target, "worker-"):
			err = c.RestartWorker(restartCtx, index(k.target))
		case strings.HasPrefix(k.target, "relay-"):
			err = c.RestartRelay(restartCtx, index(k.target))
		}
		cancel()
		if err != nil {
			return i, fmt.Errorf("%s: %w", k.target, err)
		}
		fmt.Printf("  %7s  killed %-9s (SIGKILL), down %4s, back at %s\n", killedAt.Round(100*time.Millisecond), k.target,
			k.down.Round(100*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	}
	return len(schedule), nil
}

func index(name string) int {
	var i int
	_, _ = fmt.Sscanf(name[strings.LastIndexByte(name, '-')+1:], "%d", &i)
	return i - 1
}

// checkHistories reads every case's runs. It lists the webhooks a relay acknowledged as signalled (the sandbox keeps
// their event IDs) that are in no run's history of the subject's workflow, and the verifications with more runs
// than their case started.
func checkHistories(ctx context.Context, c *devstack.Cluster, tc client.Client, results []matrix.Result) (lost, extra []string, err error) {
	resp, err := http.Get(c.SandboxURL + "/sandbox/stats")
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var stats []sandbox.SubjectStats
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return nil, nil, err
	}
	dc, err := c.DataConverter() // the cluster encrypts its payloads
	if err != nil {
		return nil, nil, err
	}
	bySubject := map[string]sandbox.SubjectStats{}
	for _, s := range stats {
		bySubject[s.Key] = s
	}
	for _, r := range results {
		if r.Verification.WorkflowID == "" {
			continue
		}
		seen, runs, err := historyEventIDs(ctx, tc, dc, r.Verification.WorkflowID)
		if err != nil {
			return nil, nil, err
		}
		// Each case has a subject of its own: one run, and one more where the backend renewed (a live
		// verification's new session starts a new run once the expired one closed). More means a start the
		// backend retried through an outage began a second verification.
		allowed := 1
		if r.Scenario.RenewAfter != (sandbox.At{}) {
			allowed = 2
		}
		if runs > allowed {
			extra = append(extra, fmt.Sprintf("%s: %d runs of %s (at most %d)", r.Name(), runs, r.Verification.WorkflowID, allowed))
		}
		st, ok := bySubject[r.Subject]
		if !ok || len(st.Signalled) == 0 {
			continue
		}
		// Temporal records the same signed content once (the relay signals with its digest as the request ID):
		// an event is in the history by its own ID or by another's with the same content.
		recorded := map[string]bool{}
		for _, e := range st.Signalled {
			if seen[e.EventID] {
				recorded[e.Content] = true
			}
		}
		for _, e := range st.Signalled {
			if !seen[e.EventID] && !recorded[e.Content] {
				lost = append(lost, fmt.Sprintf("%s: event %s of %s", r.Name(), e.EventID, r.Verification.WorkflowID))
			}
		}
	}
	return lost, extra, nil
}

// historyEventIDs collects the provider event IDs of the webhook signals in every run of a workflow ID, and counts
// the runs.
func historyEventIDs(ctx context.Context, tc client.Client, dc converter.DataConverter, workflowID string) (map[string]bool, int, error) {
	seen := map[string]bool{}
	runs, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowId = '%s'", workflowID),
	})
	if err != nil {
		return nil, 0, err
	}

	for _, e := range runs.GetExecutions() {
		iter := tc.GetWorkflowHistory(ctx, workflowID, e.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				return nil, 0, err
			}
			a := ev.GetWorkflowExecutionSignaledEventAttributes()
			if a == nil || len(a.GetInput().GetPayloads()) == 0 {
				continue
			}
			var w signals.Webhook
			if err := dc.FromPayload(a.GetInput().GetPayloads()[0], &w); err == nil && w.EventID != "" {
				seen[w.EventID] = true
			}
		}
	}
	return seen, len(runs.GetExecutions()), nil
}

// openVerifications lists the verification workflows still running: stuck ones.
func openVerifications(ctx context.Context, tc client.Client) ([]string, error) {
	var types []string
	for _, m := range signals.Methods {
		types = append(types, "'"+m.WorkflowType()+"'")
	}
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "ExecutionStatus = 'Running' AND WorkflowType IN (" + strings.Join(types, ", ") + ")",
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range resp.GetExecutions() {
		out = append(out, e.GetExecution().GetWorkflowId())
	}
	slices.Sort(out)
	return out, nil
}

// checkConnections runs the kycflow CLI against the mTLS frontend the way a person would: with the cluster's
// profile it works, and with a missing certificate, another CA's certificate or no TLS at all it fails with an
// error that names the setting and the file at fault.
func checkConnections(ctx context.Context, c *devstack.Cluster, binDir, data string) (bool, error) {
	other, err := devcerts.Generate(filepath.Join(data, "other-ca"))
	if err != nil {
		return false, err
	}
	missing := filepath.Join(data, "missing.pem")
	cases := []struct {
		name    string
		env     []string
		wantErr []string
	}{
		{"the cluster's profile", nil, nil},
		{"a missing client certificate", []string{"TEMPORAL_TLS_CLIENT_CERT_PATH=" + missing, "TEMPORAL_TLS_CLIENT_KEY_PATH=" + c.Certs.ClientKey},
			[]string{"TEMPORAL_TLS_CLIENT_CERT_PATH", missing, "no such file"}},
		{"a certificate of another CA", []string{"TEMPORAL_TLS_CLIENT_CERT_PATH=" + other.ClientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH=" + other.ClientKey},
			[]string{"the TLS handshake failed", "TEMPORAL_TLS_CLIENT_CERT_PATH (" + other.ClientCert + ")"}},
		{"no TLS at all", []string{"TEMPORAL_CONFIG_FILE=" + os.DevNull, "TEMPORAL_PROFILE=", "TEMPORAL_ADDRESS=" + c.Address},
			[]string{"the server may require TLS"}},
	}
	fmt.Println("Connecting the kycflow CLI and the codec server to the mTLS frontend:")
	ok := true
	report := func(good bool, what, out string) {
		mark := "ok  "
		if !good {
			mark, ok = "FAIL", false
		}
		fmt.Printf("  %s %-45s %s\n", mark, what, firstLine(out))
	}
	for _, tc := range cases {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cmd := exec.CommandContext(cctx, filepath.Join(binDir, "kycflow"), "list", "--timeout", "20s")
		cmd.Env = append(append(os.Environ(), c.ConnectionEnv()...), tc.env...)
		out, runErr := cmd.CombinedOutput()
		cancel()
		report(wanted(runErr, string(out), tc.wantErr), "CLI: "+tc.name, string(out))
	}
	// The codec server checks its connection at start: with the cluster's profile it runs (the cluster started
	// it), and with a wrong connection it stops at once, naming the setting.
	report(devstack.HTTPOK(ctx, c.CodecURL+"/healthz") == nil, "codec server: the cluster's profile", "running at "+c.CodecURL)
	for _, tc := range cases[1:] {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cmd := exec.CommandContext(cctx, filepath.Join(binDir, "kycflow-codec"))
		cmd.Env = append(append(os.Environ(), c.ConnectionEnv()...), append(tc.env, "KYCFLOW_CODEC_ADDR=127.0.0.1:0",
			"KYCFLOW_PAYLOAD_KEY_FILE="+c.Payload.KeyFile, "KYCFLOW_CODEC_TOKENS_FILE="+c.Payload.TokensFile)...)
		out, runErr := cmd.CombinedOutput()
		cancel()
		report(wanted(runErr, string(out), tc.wantErr), "codec server: "+tc.name, string(out))
	}
	return ok, nil
}

// wanted reports whether a run ended as expected: without error when want is empty, else with an error whose
// output names everything in want.
func wanted(runErr error, out string, want []string) bool {
	if want == nil {
		return runErr == nil
	}
	good := runErr != nil
	for _, w := range want {
		good = good && strings.Contains(out, w)
	}
	return good
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
