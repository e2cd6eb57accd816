// Command kycflow-bench is `make bench`: it starts the whole stack (dev server, sandbox, relay, worker) as real
// processes, measures kycflow against the bare engine in the same run, prints a table and writes it as JSON
// under .bench/.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/kycflow/kycflow/bench"
	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/internal/temporalconn"
)

// benchSettings bring the dev server closer to a production server, for both sides alike. start-dev turns the
// search attribute cache off so that attributes added at run time show at once: every search attribute update
// then re-reads them from the database, as no production server does. And on one node, the engine's 4 task queue
// partitions add nothing but stalls: a task written to a partition no poller is waiting on sat in its backlog for
// about 2 s (ActivityTaskScheduled to ActivityTaskStarted), on either side, which made the ratio a lottery.
// Last, the dev server has a single history shard, and each shard reads its transfer queue (the tasks that hand
// workflow and activity tasks to matching) at most 20 times a second: once that budget's burst is spent, every
// workflow or activity task waits ~45 ms before a worker can have it. A production cluster spreads workflows over
// hundreds of shards, each with its own budget. With the limit, a single bare Update-with-Start took 150 ms instead
// of 17, and both sides were bound by that wait instead of by the work each does.
var benchSettings = []string{
	"system.forceSearchAttributesCacheRefreshOnRead=false",
	"matching.numTaskqueueReadPartitions=1",
	"matching.numTaskqueueWritePartitions=1",
	"history.transferProcessorMaxPollRPS=1000",
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "peer" {
		if err := runPeer(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "kycflow-bench peer: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-bench: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var opts bench.Options
	flag.IntVar(&opts.Flows, "flows", 200, "complete flows measured for the bare engine and for kycflow")
	flag.IntVar(&opts.Concurrency, "concurrency", 16, "concurrent flows")
	flag.IntVar(&opts.Rounds, "rounds", 4, "alternating bare and kycflow rounds the flows are split into")
	flag.IntVar(&opts.URLCalls, "url-calls", 50, "time-to-URL calls per caller count (scaled up for 16 callers)")
	flag.IntVar(&opts.WebhookRate, "webhook-rate", 50, "webhooks per second for the acknowledgement measure")
	flag.IntVar(&opts.Webhooks, "webhooks", 800, "webhooks sent in all (half through the relay, half direct)")
	flag.IntVar(&opts.Waiting, "waiting", 10000, "verifications parked on their 14-day link for the memory measure")
	flag.IntVar(&opts.WaitingClients, "waiting-clients", 32, "concurrent starts while parking them")
	var (
		binDir      = flag.String("bin", "bin", "folder holding temporal and the kycflow binaries")
		outDir      = flag.String("out", ".bench", "folder for the JSON reports (git-ignored)")
		logs        = flag.Bool("v", false, "show the processes' logs")
		devDefaults = flag.Bool("dev-defaults", false, "run the dev server with start-dev's own settings: search attributes re-read on every use, 4 task queue partitions")
		profile     = flag.Bool("profile", false, "write CPU profiles of the worker, relay and sandbox (pprof) and of the dev server (perf, if installed) taken during the first kycflow round")
		profSecs    = flag.Int("profile-seconds", 10, "length of each CPU profile; the kycflow flows should last as long")
	)
	var devSettings []string
	flag.Func("dev-config", "an extra dev server setting, KEY=JSON value (repeatable), e.g. matching.numTaskqueueReadPartitions=1",
		func(v string) error { devSettings = append(devSettings, v); return nil })
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	dataDir, err := os.MkdirTemp(*outDir, "run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)

	var out io.Writer = io.Discard
	if *logs {
		out = os.Stderr
	}
	fmt.Fprintln(os.Stderr, "Starting dev server, sandbox, relay and worker...")
	metricsPort, err := devstack.FreePort()
	if err != nil {
		return err
	}
	started := time.Now().UTC()
	var devConfig []string
	if !*devDefaults {
		devConfig = append(devConfig, benchSettings...)
	}
	devConfig = append(devConfig, devSettings...)
	stack, err := devstack.StartStack(ctx, devstack.StackOptions{
		BinDir: *binDir,
		// The same dev server as `make run`: SQLite file in WAL mode.
		Temporal: devstack.TemporalOptions{Binary: filepath.Join(*binDir, "temporal"), DBFile: filepath.Join(dataDir, "temporal.db"),
			MetricsPort: metricsPort, DynamicConfig: devConfig},
		TimeScale: 1e-6, // provider delays vanish: the sandbox answers and sends webhooks at once
		Env:       map[string][]string{"worker": {"KYCFLOW_LOG_LEVEL=warn"}, "relay": {"KYCFLOW_LOG_LEVEL=warn"}, "sandbox": {"KYCFLOW_LOG_LEVEL=warn"}},
		Profile:   *profile,
		Output:    out,
	})
	if err != nil {
		return err
	}
	defer stack.Stop()

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The bare engine's worker and client connect as kycflow's processes do (TEMPORAL_GRPC_COMPRESSION): the ratio
	// measures kycflow, not a difference in client settings.
	compression, err := temporalconn.Compression(os.Getenv)
	if err != nil {
		return err
	}
	c, err := client.Dial(client.Options{HostPort: stack.Temporal.HostPort, Logger: tlog.NewStructuredLogger(quiet),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: compression}})
	if err != nil {
		return err
	}
	defer c.Close()
	runner, err := bench.NewRunner(stack, c, opts, os.Stderr)
	if err != nil {
		return err
	}
	runner.DBFile = filepath.Join(dataDir, "temporal.db")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := runner.StartPeer(ctx, self, out); err != nil {
		return err
	}
	defer runner.Peer.Stop(10 * time.Second)
	if *profile {
		runner.Profile = &bench.Profile{Addrs: stack.ProfileAddrs, EnginePID: stack.Temporal.PID(),
			Dir: *outDir, Prefix: started.Format("20060102-150405") + "-", Seconds: *profSecs}
	}
	rep := bench.Report{Commit: commit(), Started: started, Options: opts, DevServerConfig: devConfig,
		Machine: fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()), CPUs: runtime.NumCPU()}
	if err := runner.Run(ctx, &rep); err != nil {
		return err
	}
	fmt.Println()
	bench.PrintTable(os.Stdout, rep)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(*outDir, rep.Started.Format("20060102-150405")+".json")
	for _, p := range []string{path, filepath.Join(*outDir, "latest.json")} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("\nwritten to %s\n", path)
	return nil
}

// commit names the code measured, marking uncommitted changes.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}

// runPeer is the hand-written peer's process (bench.ServePeer), started by the benchmark: its worker, its provider
// stub and its webhook handler, connected as the bare engine's worker is.
func runPeer(args []string) error {
	fs := flag.NewFlagSet("peer", flag.ExitOnError)
	temporal := fs.String("temporal", "127.0.0.1:7233", "Temporal frontend")
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the provider stub and the webhook handler")
	if err := fs.Parse(args); err != nil {
		return err
	}
	compression, err := temporalconn.Compression(os.Getenv)
	if err != nil {
		return err
	}
	c, err := client.Dial(client.Options{HostPort: *temporal, Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: compression}})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return bench.ServePeer(ctx, c, *addr)
}
