// Command kycflow-devstack is `make run`: it starts the pinned Temporal dev server (state in a file, UI on :8233),
// the provider sandbox (Treezor, Solaris and Yousign on :8090), the webhook relay (:8088) and the kycflow worker,
// wired together, prints where everything is and how to start a verification, and stops it all on Ctrl-C.
//
// The worker talks to the sandbox, never to a real provider: `make run` needs no provider account.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/internal/logging"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-devstack: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		dataDir     = flag.String("data", ".data", "folder for the dev server's SQLite file (git-ignored)")
		port        = flag.Int("port", 7233, "Temporal frontend gRPC port")
		uiPort      = flag.Int("ui-port", 8233, "Temporal Web UI port")
		binDir      = flag.String("bin", "bin", "folder holding temporal and the kycflow binaries")
		logLevel    = flag.String("temporal-log-level", "warn", "dev server log level")
		sandboxAddr = flag.String("sandbox-addr", sandbox.DefaultAddr, "listen address of the provider sandbox")
		relayAddr   = flag.String("relay-addr", "127.0.0.1:8088", "listen address of the webhook relay")
		relayAdmin  = flag.String("relay-admin-addr", "127.0.0.1:9188", "listen address of the relay's /readyz and /metrics")
		codecAddr   = flag.String("codec-addr", "127.0.0.1:8089", "listen address of the codec server")
		metricsAddr = flag.String("worker-metrics-addr", "127.0.0.1:9190", "listen address of the worker's /metrics")
		uiBin       = flag.String("ui-bin", "bin/temporal-ui/server", "Temporal's UI server (`make ui` builds it); empty: the dev server's own UI, which cannot sign in to the codec server")
		timeScale   = flag.Float64("time-scale", sandbox.DefaultTimeScale, "sandbox time scale: provider delays are multiplied by it")
		faults      = flag.String("faults", "", "faults the sandbox injects for every subject, e.g. dup,reorder=0.5 (dup, reorder, drop, burst, limit)")
	)
	flag.Parse()
	clock, err := sandbox.NewClock(*timeScale)
	if err != nil {
		return fmt.Errorf("-time-scale: %w", err)
	}
	if _, err := sandbox.ParseGlobalFaults(*faults); err != nil {
		return fmt.Errorf("-faults: %w", err)
	}

	// SIGHUP: the terminal closed (tmux kill-session, a closed window). Asking for SIGPIPE turns a write to a closed
	// stdout into an EPIPE error, which the console turns into a stop, instead of the signal that killed devstack
	// before it could stop its children.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, outputGone := context.WithCancel(ctx)
	defer outputGone()
	con := &console{w: os.Stdout, gone: outputGone}

	ports := []devstack.Port{
		{What: "Temporal gRPC", Flag: "-port", Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))},
		{What: "provider sandbox", Flag: "-sandbox-addr", Addr: *sandboxAddr},
		{What: "webhook relay", Flag: "-relay-addr", Addr: *relayAddr},
		{What: "relay admin", Flag: "-relay-admin-addr", Addr: *relayAdmin},
		{What: "codec server", Flag: "-codec-addr", Addr: *codecAddr},
		{What: "worker metrics", Flag: "-worker-metrics-addr", Addr: *metricsAddr},
	}
	if *uiPort != 0 {
		ports = append(ports, devstack.Port{What: "Temporal UI", Flag: "-ui-port", Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(*uiPort))})
	}
	if err := devstack.CheckPortsFree(ports); err != nil {
		return fmt.Errorf("cannot start:\n  %w", err)
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return err
	}
	// The payload key and the codec tokens are made once and kept with the dev server's state: Temporal's
	// database holds only ciphertext, as it would in production, and the codec server shows it to who signs in.
	_, statErr := os.Stat(filepath.Join(*dataDir, "temporal.db"))
	secrets, err := devstack.EnsurePayloadSecrets(*dataDir)
	if err != nil {
		return err
	}
	// A data folder from before make run encrypted holds plaintext histories; a key made now would have the
	// worker refuse them, and every verification still open there would stop. Keep reading them (the documented
	// migration switch) until the marker is removed.
	marker := filepath.Join(*dataDir, "plaintext-histories")
	if secrets.KeyCreated && statErr == nil {
		if err := os.WriteFile(marker, []byte("The histories in temporal.db predate the payload key: kycflow reads their plaintext payloads (KYCFLOW_PAYLOAD_ALLOW_PLAINTEXT) while this file exists.\n"), 0o644); err != nil {
			return err
		}
	}
	if _, err := os.Stat(marker); err == nil {
		secrets.AllowPlaintext = true
		con.say(fmt.Sprintf("notice: %s holds histories from before payload encryption: plaintext payloads are read too until you remove %s (or rm -rf %s)\n",
			*dataDir, marker, *dataDir))
	}
	if *uiBin != "" && *uiPort != 0 {
		if _, err := os.Stat(*uiBin); err != nil {
			return fmt.Errorf("-ui-bin %s: %w (`make ui` builds Temporal's UI server)", *uiBin, err)
		}
	}
	con.say("Starting the Temporal dev server, the provider sandbox, the webhook relay, the worker, the codec server and the UI...\n")
	// The processes log for a person here: one compact line per event. Their default stays JSON.
	textLogs := []string{logging.EnvFormat + "=" + logging.FormatText}
	stack, err := devstack.StartStack(ctx, devstack.StackOptions{
		BinDir: *binDir,
		Temporal: devstack.TemporalOptions{
			Binary:    filepath.Join(*binDir, "temporal"),
			Port:      *port,
			UIPort:    *uiPort,
			DBFile:    filepath.Join(*dataDir, "temporal.db"),
			LogLevel:  *logLevel,
			LogFormat: "pretty",
		},
		SandboxAddr:       *sandboxAddr,
		RelayAddr:         *relayAddr,
		RelayAdminAddr:    *relayAdmin,
		WorkerMetricsAddr: *metricsAddr,
		TimeScale:         *timeScale,
		Faults:            *faults,
		Env:               map[string][]string{"sandbox": textLogs, "relay": textLogs, "worker": textLogs, "codec": textLogs},
		Output:            con,
		Payload:           &secrets,
		CodecAddr:         *codecAddr,
		UIBin:             *uiBin,
	})
	if err != nil {
		return err
	}
	profile := filepath.Join(*dataDir, "temporal.toml")
	// The temporal CLI's connection to the stack, with the codec server and the writer token, so that `temporal
	// workflow show` decodes and `temporal workflow start` encodes.
	err = devstack.WriteProfile(profile, devstack.Profile{Name: "default",
		Comment: "Written by make run: the temporal CLI's connection to the dev stack (TEMPORAL_CONFIG_FILE=" + profile + ").",
		Address: stack.Temporal.HostPort, CodecURL: devstack.BrowserURL(stack.CodecURL), CodecToken: secrets.Writer})
	if err != nil {
		return err
	}
	defer func() {
		con.Mute()
		con.say("\nStopping...")
		stack.Stop()
		con.say(" stopped.\n")
	}()

	d := clock.Deadlines(signals.MethodTreezorLiveness)
	con.say(fmt.Sprintf(`
kycflow is running, against the provider sandbox (a development tool: no real provider is called).
  Temporal UI:      http://localhost:%[1]d (read-only; decisions go through bin/kycflow decide)
  Codec server:     %[14]s: payloads are encrypted with %[15]s; to read them decoded in the UI, sign in once at
                    %[14]s/login with the %[16]q token of %[17]s
  Temporal gRPC:    %[2]s (namespace default, task queue %[3]s)
  CLI profile:      %[18]s (address, namespace, codec server): export TEMPORAL_CONFIG_FILE=%[18]s
  Sandbox:          %[4]s (Treezor /treezor, Solaris /solaris, Yousign /yousign; scenarios: %[4]s/sandbox/scenarios)
  Webhook relay:    %[5]s (readiness and metrics on %[13]s/readyz, %[13]s/metrics)
  Worker metrics:   %[19]s
  Time scale:       %[6]g (a provider day lasts %[7]s; pass compressed deadlines, see below)
  Logs below, one line per event, prefixed with the process' name.

Run every scenario of every method and print a table (in another terminal):
  make demo

Or start one by hand: the README's quick start runs as written against Treezor user %[11]s, who never opens
the link (so you can look, list and cancel); for a scenario that plays out, create a subject and run the command
the sandbox answers (its deadlines match the time scale):
  curl -s %[4]s/sandbox/subjects -d '{"method":"%[8]s","scenario":"HAPPYPATH"}'
  bin/kycflow start --method %[8]s --subject <subjectId> --url-validity %[9]s --review-deadline %[10]s
  bin/kycflow wait kyc/treezor/<subjectId>

The kycflow CLI encrypts what it sends with the stack's key: export KYCFLOW_PAYLOAD_KEY_FILE=%[15]s

Filter the runs in the UI, or with (the profile sends payloads through the codec server):
  TEMPORAL_CONFIG_FILE=%[18]s bin/temporal workflow list --query "KycOutcome = 'approved'"

The dev server keeps its state in %[12]s across restarts; the sandbox keeps its users and sessions in memory, so
after a restart an older verification's URL answers 404 and its provider events never come: start a new one.
Ctrl-C stops everything.
`, *uiPort, stack.Temporal.HostPort, signals.TaskQueue, stack.SandboxURL, stack.RelayURL, clock.Scale,
		clock.Duration(24*time.Hour).Round(time.Millisecond), signals.MethodTreezorLiveness,
		time.Duration(d.URLValidity), time.Duration(d.Review), sandbox.ExampleTreezorUser, *dataDir, stack.RelayAdminURL,
		devstack.BrowserURL(stack.CodecURL), secrets.KeyFile, devstack.CodecReader, secrets.TokensFile, profile,
		stack.WorkerMetricsURL))

	for {
		select {
		case <-ctx.Done():
			return nil
		case name := <-stack.Exited():
			if name == "codec" { // it only reads: the stack goes on, and the UI shows ciphertext meanwhile
				con.say("codec server exited (see its log above): the UI shows payloads encrypted until make run restarts\n")
				continue
			}
			return fmt.Errorf("%s exited; see its log above", name)
		case <-stack.Temporal.Done():
			return fmt.Errorf("temporal dev server exited")
		}
	}
}
