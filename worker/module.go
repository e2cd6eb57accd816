// Package worker is the kycflow worker as an fx application: configuration from the environment, a slog JSON
// logger, the Temporal client, the provider clients, and the Temporal worker started and stopped by fx's lifecycle.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/signals"
)

// Module is the whole worker application for a validated configuration.
func Module(cfg Config) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		fx.Provide(NewLogger),
		TemporalModule,
		ProvidersModule,
		WorkerModule,
		fx.WithLogger(newFxLogger),
	)
}

// newFxLogger keeps fx's own wiring events at debug level: at info they bury the worker's logs.
func newFxLogger(l *slog.Logger) fxevent.Logger {
	fl := &fxevent.SlogLogger{Logger: l}
	fl.UseLogLevel(slog.LevelDebug)
	fl.UseErrorLevel(slog.LevelError)
	return fl
}

// NewLogger is the JSON logger every component writes to. Nothing personal is logged: workflows log IDs and
// outcomes only, and provider clients never log bodies.
func NewLogger(cfg Config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// TemporalModule provides a Temporal client, closed when the application stops.
var TemporalModule = fx.Module("temporal",
	fx.Provide(NewTemporalClient),
)

// NewTemporalClient dials Temporal lazily, so the worker starts even if the server comes up a moment later.
func NewTemporalClient(lc fx.Lifecycle, cfg Config, logger *slog.Logger) (client.Client, error) {
	c, err := client.NewLazyClient(client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    tlog.NewStructuredLogger(logger),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}

// ProvidersModule provides the provider clients and the activity structs over them.
var ProvidersModule = fx.Module("providers",
	fx.Provide(
		func(cfg Config) (*treezor.Client, error) {
			return treezor.New(treezor.Config{
				BaseURL:      cfg.Treezor.BaseURL,
				ClientID:     cfg.Treezor.ClientID,
				ClientSecret: cfg.Treezor.ClientSecret,
				Scope:        cfg.Treezor.Scope,
			})
		},
		func(c *treezor.Client) Activities {
			return Activities{Treezor: &activities.Treezor{Client: c}}
		},
	),
)

// WorkerModule runs the Temporal worker: started in OnStart (a start error aborts the application) and stopped
// in OnStop; a fatal worker error shuts the application down with a non-zero exit code.
var WorkerModule = fx.Module("worker",
	fx.Invoke(func(lc fx.Lifecycle, sd fx.Shutdowner, c client.Client, cfg Config, acts Activities, logger *slog.Logger) {
		w := sdkworker.New(c, signals.TaskQueue, sdkworker.Options{
			WorkerStopTimeout: cfg.StopTimeout,
			OnFatalError: func(err error) {
				logger.Error("Temporal worker stopped on a fatal error", "error", err)
				_ = sd.Shutdown(fx.ExitCode(1))
			},
		})
		Register(w, acts)
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				if err := w.Start(); err != nil {
					return fmt.Errorf("start worker on task queue %s: %w", signals.TaskQueue, err)
				}
				logger.Info("Worker polling", "taskQueue", signals.TaskQueue, "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace)
				return nil
			},
			OnStop: func(context.Context) error {
				w.Stop()
				return nil
			},
		})
	}),
)
