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
	"github.com/kycflow/kycflow/payloadcodec"
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
		onCluster   = flag.Bool("cluster", false, "run on the PostgreSQL cluster of `make cluster` (Temporal's server with mTLS, payloads encrypted, one worker and one relay) instead of the dev server")
		serverBin   = flag.String("server", "bin/temporal-server-1.29.1/server", "with -cluster: Temporal's server binary")
		sqlTool     = flag.String("sql-tool", "bin/temporal-server-1.29.1/sql", "with -cluster: temporal-sql-tool")
		schemaDir   = flag.String("schema", "", "with -cluster: the server module's schema/postgresql/v12")
		configDir   = flag.String("config", "deploy/temporal", "with -cluster: folder of config/cluster.yaml and dynamicconfig.yaml")
		pgBin       = flag.String("postgres-bin", "/usr/lib/postgresql/15/bin", "with -cluster: PostgreSQL's bin folder")
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
	started := time.Now().UTC()
	var (
		target    bench.Target
		c         client.Client
		devConfig []string
		dbPaths   []string
		profAddrs map[string]string
		enginePID int
	)
	if *onCluster {
		fmt.Fprintln(os.Stderr, "Starting the cluster (PostgreSQL, Temporal's server with mTLS), the sandbox, a relay and a worker...")
		clusterDir, err := os.MkdirTemp("", "kycflow-bench-cluster-")
		if err != nil {
			return err
		}
		// PostgreSQL runs as the postgres user when this runs as root: it must be able to reach its data folder.
		_ = os.Chmod(clusterDir, 0o755)
		defer os.RemoveAll(clusterDir)
		cl, err := devstack.StartCluster(ctx, devstack.ClusterOptions{
			ServerBin: abs(*serverBin), SQLToolBin: abs(*sqlTool), SchemaDir: abs(*schemaDir), ConfigDir: abs(*configDir),
			BinDir: abs(*binDir), DataDir: clusterDir, PostgresBin: *pgBin, Workers: 1, Relays: 1,
			TimeScale: 1e-6, Output: out,
		})
		if err != nil {
			return err
		}
		defer cl.Stop()
		// Every side connects as kycflow's processes do on the cluster: its profile, over mTLS, payloads encrypted.
		if c, err = cl.Dial(ctx); err != nil {
			return err
		}
		target = bench.Target{Engine: "cluster", EngineMetricsURL: cl.MetricsURL(), SandboxURL: cl.SandboxURL, RelayURL: cl.RelayURLs[0],
			Credentials: cl.Credentials, WebhookSecrets: cl.WebhookSecrets(),
			PIDs: func() map[string]int {
				pids := map[string]int{"temporal": cl.Server.PID(), "worker": cl.Workers[0].PID(), "relay": cl.Relays[0].PID(), "sandbox": cl.Sandbox.PID()}
				if cl.Postgres != nil {
					pids["postgres"] = cl.Postgres.PID()
				}
				return pids
			},
			ConnectionEnv: append(cl.ConnectionEnv(), payloadcodec.EnvKeyFile+"="+cl.Payload.KeyFile),
		}
		dbPaths = []string{cl.PostgresDataDir()}
		enginePID = cl.Server.PID()
	} else {
		fmt.Fprintln(os.Stderr, "Starting dev server, sandbox, relay and worker...")
		metricsPort, err := devstack.FreePort()
		if err != nil {
			return err
		}
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
		// The bare engine's worker and client connect as kycflow's processes do (TEMPORAL_GRPC_COMPRESSION): the
		// ratio measures kycflow, not a difference in client settings.
		compression, err := temporalconn.Compression(os.Getenv)
		if err != nil {
			return err
		}
		c, err = client.Dial(client.Options{HostPort: stack.Temporal.HostPort, Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
			ConnectionOptions: client.ConnectionOptions{GrpcCompression: compression}})
		if err != nil {
			return err
		}
		target = bench.DevServerTarget(stack)
		dbPaths = []string{filepath.Join(dataDir, "temporal.db"), filepath.Join(dataDir, "temporal.db-wal")}
		profAddrs, enginePID = stack.ProfileAddrs, stack.Temporal.PID()
	}
	defer c.Close()
	runner, err := bench.NewRunner(target, c, opts, os.Stderr)
	if err != nil {
		return err
	}
	runner.DBPaths = dbPaths
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := runner.StartPeer(ctx, self, out); err != nil {
		return err
	}
	defer runner.Peer.Stop(10 * time.Second)
	if *profile {
		runner.Profile = &bench.Profile{Addrs: profAddrs, EnginePID: enginePID,
			Dir: *outDir, Prefix: started.Format("20060102-150405") + "-", Seconds: *profSecs}
	}
	rep := bench.Report{Engine: target.Engine, Commit: commit(), Started: started, Options: opts, DevServerConfig: devConfig,
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

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
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
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the provider stub and the webhook handler")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Connected as kycflow's processes are (TEMPORAL_* and the payload key from the environment the benchmark
	// gives it): the same compression, TLS and encryption, so the comparison measures the code, not the settings.
	conn, err := temporalconn.LoadConnection(os.Getenv, os.Environ())
	if err != nil {
		return err
	}
	compression, err := temporalconn.Compression(os.Getenv)
	if err != nil {
		return err
	}
	codec, err := payloadcodec.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	opts := temporalconn.Settings{Connection: conn, Codec: codec, Compression: compression}.
		Options(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	c, err := client.Dial(opts)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return bench.ServePeer(ctx, c, *addr)
}
