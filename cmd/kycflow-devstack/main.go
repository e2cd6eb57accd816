// Command kycflow-devstack is `make run`: it starts the pinned Temporal dev server (state in a file, UI on :8233)
// and the kycflow worker wired to it, prints where everything is, and stops it all on Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kycflow/kycflow/internal/devstack"
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
		dataDir  = flag.String("data", ".data", "folder for the dev server's SQLite file (git-ignored)")
		port     = flag.Int("port", 7233, "Temporal frontend gRPC port")
		uiPort   = flag.Int("ui-port", 8233, "Temporal Web UI port")
		binDir   = flag.String("bin", "bin", "folder holding temporal and the kycflow binaries")
		logLevel = flag.String("temporal-log-level", "warn", "dev server log level")
	)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return err
	}
	fmt.Println("Starting the Temporal dev server...")
	temporal, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
		Binary:   filepath.Join(*binDir, "temporal"),
		Port:     *port,
		UIPort:   *uiPort,
		DBFile:   filepath.Join(*dataDir, "temporal.db"),
		LogLevel: *logLevel,
		Output:   os.Stderr,
	})
	if err != nil {
		return err
	}
	defer temporal.Stop()

	env := []string{"TEMPORAL_ADDRESS=" + temporal.HostPort, "TEMPORAL_NAMESPACE=default"}
	env = append(env, providerDefaults()...)
	worker, err := devstack.StartProcess("worker", filepath.Join(*binDir, "kycflow-worker"), nil, env, os.Stdout)
	if err != nil {
		return err
	}
	defer worker.Stop(20 * time.Second)

	fmt.Printf(`
kycflow is running.
  Temporal UI:      http://localhost:%[1]d
  Temporal gRPC:    %[2]s (namespace default, task queue %[3]s)
  Worker:           bin/kycflow-worker (logs below, JSON)

Start a verification and get its identification URL in one round trip (Update-with-Start):
  bin/temporal workflow execute-update-with-start --address %[2]s \
    --task-queue %[3]s --type %[4]s --workflow-id %[5]s --id-conflict-policy UseExisting \
    --input '{"method":"%[6]s","subjectId":"123456"}' \
    --update-name %[7]s --update-input '{"method":"%[6]s"}'
Its status:
  bin/temporal workflow query --address %[2]s --workflow-id %[5]s --name %[8]s

Ctrl-C stops everything.
`, *uiPort, temporal.HostPort, signals.TaskQueue, signals.WorkflowTreezorLiveness,
		signals.WorkflowID(signals.ProviderTreezor, "123456"), signals.MethodTreezorLiveness,
		signals.UpdateIdentificationURL, signals.QueryStatus)

	select {
	case <-ctx.Done():
		fmt.Println("\nStopping...")
	case <-worker.Done():
		return fmt.Errorf("worker exited: %v", worker.Err())
	case <-temporal.Done():
		return fmt.Errorf("temporal dev server exited")
	}
	return nil
}

// providerDefaults point the worker at local placeholders when no provider is configured, so the stack starts on a
// fresh machine; provider calls then fail (and are retried) until real sandbox credentials are exported.
func providerDefaults() []string {
	defaults := map[string]string{
		"TREEZOR_BASE_URL":      "http://127.0.0.1:8090/treezor",
		"TREEZOR_CLIENT_ID":     "kycflow-dev",
		"TREEZOR_CLIENT_SECRET": "kycflow-dev-secret",
	}
	var env []string
	for _, k := range []string{"TREEZOR_BASE_URL", "TREEZOR_CLIENT_ID", "TREEZOR_CLIENT_SECRET"} {
		if os.Getenv(k) == "" && os.Getenv(k+"_FILE") == "" {
			env = append(env, k+"="+defaults[k])
		}
	}
	return env
}
