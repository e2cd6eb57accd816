// Package worker is the kycflow worker as an fx application: configuration from the environment, a slog JSON
// logger, the Temporal client, the provider clients, and the Temporal worker started and stopped by fx's lifecycle.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/activities/solaris"
	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/activities/yousign"
	"github.com/kycflow/kycflow/internal/census"
	"github.com/kycflow/kycflow/internal/metrics"
	"github.com/kycflow/kycflow/internal/temporalconn"
	"github.com/kycflow/kycflow/internal/tracing"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/signals"
)

// Module is the whole worker application for a validated configuration.
func Module(cfg Config) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		fx.Provide(NewLogger),
		tracing.Module("kycflow-worker"),
		MetricsModule,
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

// NewLogger is the logger every component writes to (JSON lines unless KYCFLOW_LOG_FORMAT=text). Nothing personal
// is logged: workflows log IDs and outcomes only, and provider clients never log bodies.
func NewLogger(cfg Config) *slog.Logger {
	return cfg.Log.New(os.Stdout)
}

// TemporalModule provides a Temporal client, closed when the application stops.
var TemporalModule = fx.Module("temporal",
	fx.Provide(NewTemporalClient),
)

// NewTemporalClient dials Temporal lazily, so the worker starts even if the server comes up a moment later.
// With tracing on, its interceptor also traces the workers made from it: workflows, signals and activities.
func NewTemporalClient(lc fx.Lifecycle, cfg Config, logger *slog.Logger, m client.MetricsHandler, tr *tracing.Tracing) (client.Client, error) {
	interceptors, err := tr.Interceptors()
	if err != nil {
		return nil, err
	}
	return temporalconn.NewLazy(lc, temporalconn.Settings{
		Connection: cfg.Temporal, Codec: cfg.PayloadCodec,
		Compression: cfg.GrpcCompression, Metrics: m, Interceptors: interceptors,
	}, logger)
}

// MetricsModule provides the metrics handler the Temporal client records into: with KYCFLOW_METRICS_ADDR, the
// SDK's and the workflows' metrics on /metrics there; without, none.
var MetricsModule = fx.Module("metrics",
	fx.Provide(func(e *metrics.Exporter) client.MetricsHandler {
		if e == nil {
			return client.MetricsNopHandler
		}
		return e.Handler
	}),
	fx.Provide(func(lc fx.Lifecycle, cfg Config, logger *slog.Logger) (*metrics.Exporter, error) {
		if cfg.MetricsAddr == "" {
			return nil, nil
		}
		e, err := metrics.New(func(err error) {
			logger.Error("A metric is dropped: its labels differ from its declaration", "error", err)
		})
		if err != nil {
			return nil, err
		}
		stop := func() {}
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				if stop, err = e.Serve(cfg.MetricsAddr); err != nil {
					return err
				}
				logger.Info("Serving metrics", "addr", cfg.MetricsAddr)
				return nil
			},
			OnStop: func(context.Context) error {
				stop()
				return e.Close()
			},
		})
		return e, nil
	}),
	// The census: how many verifications are in each step now, from Temporal's visibility (see package census).
	fx.Invoke(func(lc fx.Lifecycle, cfg Config, e *metrics.Exporter, c client.Client, logger *slog.Logger) error {
		if e == nil || cfg.CensusInterval == 0 {
			return nil
		}
		cs, err := census.New(c, cfg.Temporal.Namespace(), e.Registry, logger)
		if err != nil {
			return err
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				go func() { defer close(done); cs.Run(ctx, cfg.CensusInterval) }()
				return nil
			},
			OnStop: func(context.Context) error {
				stop()
				<-done
				return nil
			},
		})
		return nil
	}),
)

// ProvidersModule provides the activity structs over the configured providers' clients. An unconfigured provider
// keeps a nil client, so its activities fail at once with ProviderNotConfigured instead of being retried.
var ProvidersModule = fx.Module("providers",
	fx.Provide(NewActivities),
)

// NewActivities builds a client for every configured provider; the activities that receive a provider reference
// start its alias through c.
func NewActivities(cfg Config, c client.Client, logger *slog.Logger, tr *tracing.Tracing) (Activities, error) {
	// Each provider call is a span of the activity's trace when tracing is on.
	httpOpts := providerhttp.Options{Transport: tr.Transport(providerhttp.PooledTransport())}
	aliases := &activities.Aliases{Client: c}
	acts := Activities{Treezor: &activities.Treezor{Aliases: aliases}, Solaris: &activities.Solaris{Aliases: aliases},
		Yousign: &activities.Yousign{Aliases: aliases}}
	var enabled []string
	if c := cfg.Treezor; c.BaseURL != "" {
		tz, err := treezor.New(treezor.Config{BaseURL: c.BaseURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scope: c.Scope, HTTP: httpOpts})
		if err != nil {
			return Activities{}, fmt.Errorf("treezor client: %w", err)
		}
		acts.Treezor.Client = tz
		enabled = append(enabled, string(signals.ProviderTreezor))
	}
	if c := cfg.Solaris; c.BaseURL != "" {
		sol, err := solaris.New(solaris.Config{BaseURL: c.BaseURL, TokenURL: c.TokenURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, HTTP: httpOpts})
		if err != nil {
			return Activities{}, fmt.Errorf("solaris client: %w", err)
		}
		acts.Solaris.Client = sol
		enabled = append(enabled, string(signals.ProviderSolaris))
	}
	if c := cfg.Yousign; c.BaseURL != "" {
		ys, err := yousign.New(yousign.Config{BaseURL: c.BaseURL, APIKey: c.APIKey, HTTP: httpOpts})
		if err != nil {
			return Activities{}, fmt.Errorf("yousign client: %w", err)
		}
		acts.Yousign.Client = ys
		enabled = append(enabled, string(signals.ProviderYousign))
	}
	logger.Info("Providers configured", "providers", enabled, "payloadEncryption", cfg.PayloadCodec != nil)
	if cfg.PayloadCodec == nil {
		// Allowed (Treezor and Solaris inputs hold IDs, not names), but never silently: outcomes, reasons and
		// provider references then sit in clear in Temporal's database, UI and exported histories.
		logger.Warn("No payload key: workflow inputs, results and failures are stored in clear in Temporal; set " + payloadcodec.EnvKey + " to encrypt them")
	}
	return acts, nil
}

// WorkerModule runs the Temporal worker: started in OnStart (a start error aborts the application) and stopped
// in OnStop; a fatal worker error shuts the application down with a non-zero exit code.
var WorkerModule = fx.Module("worker",
	fx.Invoke(func(lc fx.Lifecycle, sd fx.Shutdowner, c client.Client, cfg Config, acts Activities, logger *slog.Logger) {
		sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
		w := sdkworker.New(c, signals.TaskQueue, sdkworker.Options{
			WorkerStopTimeout:                cfg.StopTimeout,
			MaxConcurrentWorkflowTaskPollers: cfg.Pollers,
			MaxConcurrentActivityTaskPollers: cfg.Pollers,
			OnFatalError: func(err error) {
				logger.Error("Temporal worker stopped on a fatal error", "error", err)
				_ = sd.Shutdown(fx.ExitCode(1))
			},
		})
		Register(w, acts)
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				if err := w.Start(); err != nil {
					return fmt.Errorf("start worker on task queue %s: %w", signals.TaskQueue,
						temporalconn.ExplainDialError(err, !strings.HasPrefix(cfg.Temporal.Secure(), "plaintext")))
				}
				logger.Info("Worker polling", "taskQueue", signals.TaskQueue, "temporal", cfg.Temporal.Address(), "namespace", cfg.Temporal.Namespace(), "connection", cfg.Temporal.Secure())
				return nil
			},
			OnStop: func(context.Context) error {
				w.Stop()
				return nil
			},
		})
	}),
)
