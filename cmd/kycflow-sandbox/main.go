// Command kycflow-sandbox plays Treezor, Solaris and Yousign for kycflow on a development machine or in tests:
// their APIs under /treezor, /solaris and /yousign, and their signed webhooks sent to the relay, with outcomes
// chosen by scenario (see package sandbox). It is a development and test tool only: never point a production
// worker or relay at it.
//
// Configuration comes from the environment (KYCFLOW_SANDBOX_*, see sandbox.LoadConfig); `make run` sets it.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kycflow/kycflow/internal/logging"
	"github.com/kycflow/kycflow/internal/pprofserver"
	"github.com/kycflow/kycflow/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-sandbox: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	addr, cfg, err := sandbox.LoadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logSettings, err := logging.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	logger := logSettings.New(os.Stdout)
	cfg.Logger = logger
	srv, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	stopProfiler, err := pprofserver.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	defer stopProfiler()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%s=%s: %w", sandbox.EnvAddr, addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("Sandbox listening: a development and test tool only", "addr", ln.Addr().String(),
		"publicUrl", cfg.PublicURL, "webhookUrl", cfg.WebhookURL, "timeScale", cfg.Clock.Scale,
		"minDeadline", cfg.Clock.MinDeadline.String(), "faults", cfg.Faults.String())

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}
