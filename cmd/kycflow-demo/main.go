// Command kycflow-demo is `make demo`: against the stack `make run` started (Temporal at $TEMPORAL_ADDRESS, the
// provider sandbox at -sandbox), it runs one verification per scenario of every method, as a signup backend would
// (create the user or person at the provider, start the verification through the starter package, wait for its
// outcome), and prints a table: method, scenario, expected outcome, actual outcome, time. It exits 1 when an
// outcome is not the expected one.
//
// The sandbox and this demo are development tools only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	tlog "go.temporal.io/sdk/log"

	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/sandbox/matrix"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

func main() {
	ok, err := run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-demo: %v\n", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// devRunKey is where `make run` keeps its payload key.
const devRunKey = ".data/payload.key"

func run() (bool, error) {
	var (
		sandboxURL  = flag.String("sandbox", envOr("KYCFLOW_SANDBOX_URL", "http://"+sandbox.DefaultAddr), "base URL of the provider sandbox")
		methods     = flag.String("method", "", "only these methods (comma-separated; default all)")
		scenarios   = flag.String("scenario", "", "only these scenarios (comma-separated names such as HAPPYPATH; default all)")
		faults      = flag.String("faults", "", "faults for every verification (comma-separated: dup, reorder, drop, burst, limit)")
		concurrency = flag.Int("concurrency", 0, "verifications run at once (0: all)")
		timeout     = flag.Duration("timeout", 5*time.Minute, "give up on a verification after this long")
	)
	flag.Parse()
	cases, err := selectCases(*methods, *scenarios, *faults)
	if err != nil {
		return false, err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, err := starter.OptionsFromEnv(func(k string) string {
		switch k {
		case starter.EnvTemporalAddress:
			return envOr(k, "127.0.0.1:7233") // where `make run` serves it
		case payloadcodec.EnvKeyFile:
			// `make run` encrypts with the key it keeps in .data; a key of the shell's wins.
			if os.Getenv(payloadcodec.EnvKey) == "" && os.Getenv(k) == "" {
				if _, err := os.Stat(devRunKey); err == nil {
					return devRunKey
				}
			}
		}
		return os.Getenv(k)
	})
	if err != nil {
		return false, err
	}
	opts.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := starter.Dial(dialCtx, opts)
	if err != nil {
		return false, fmt.Errorf("%w (is `make run` running?)", err)
	}
	defer st.Close()
	runner, err := matrix.New(ctx, matrix.Config{SandboxURL: *sandboxURL, Starter: st, Concurrency: *concurrency, Timeout: *timeout})
	if err != nil {
		return false, err
	}

	clock := runner.Clock()
	fmt.Printf("Running %d verifications against %s (time scale %g: a provider day lasts %s)...\n",
		len(cases), *sandboxURL, clock.Scale, clock.Duration(24*time.Hour).Round(time.Millisecond))
	start := time.Now()
	n := 0
	results := runner.Run(ctx, cases, func(r matrix.Result) {
		n++
		mark := "ok"
		if !r.OK() {
			mark = "MISMATCH"
		}
		fmt.Printf("  [%2d/%d] %-8s %s: %s\n", n, len(cases), mark, r.Name(), r.Actual())
	})
	fmt.Printf("\nAll done in %s.\n\n", time.Since(start).Round(10*time.Millisecond))
	ok := matrix.WriteTable(os.Stdout, results)
	fmt.Printf(`
The runs are in the Temporal UI (http://localhost:8233), filterable by KycMethod, KycProvider, KycStep, KycOutcome
and KycProviderReference, e.g.:
  bin/temporal workflow list --query "KycOutcome = 'approved'"
  bin/temporal workflow list --query "KycMethod = 'treezor-qes' AND KycOutcome = 'fraud_suspected'"
`)
	return ok, nil
}

func selectCases(methods, scenarios, faults string) ([]matrix.Case, error) {
	var ms []signals.Method
	for _, s := range split(methods) {
		m, err := signals.ParseMethod(s)
		if err != nil {
			return nil, fmt.Errorf("-method: %w", err)
		}
		ms = append(ms, m)
	}
	var names []string
	for _, s := range split(scenarios) {
		names = append(names, strings.ToUpper(s))
	}
	var fs []sandbox.Fault
	if faults != "" {
		g, err := sandbox.ParseGlobalFaults(faults)
		if err != nil {
			return nil, fmt.Errorf("-faults: %w", err)
		}
		for _, r := range g {
			fs = append(fs, r.Fault)
		}
	}
	cases := matrix.Cases(ms, names, fs)
	if len(cases) == 0 {
		return nil, fmt.Errorf("no scenario matches -method %q -scenario %q", methods, scenarios)
	}
	return cases, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
