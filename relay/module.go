package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"google.golang.org/grpc"

	"github.com/kycflow/kycflow/internal/temporalconn"
	"github.com/kycflow/kycflow/internal/tracing"
	"github.com/kycflow/kycflow/payloadcodec"
)

// Module is the whole relay application for a validated configuration: logger, Temporal client, handler and the
// HTTP server, started and stopped by fx's lifecycle.
func Module(cfg Config) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		tracing.Module("kycflow-relay"),
		fx.Provide(
			NewLogger,
			NewTemporalClient,
			func(c client.Client, cfg Config) Signaler {
				return &TemporalSignaler{Client: c, DataConverter: payloadcodec.DataConverter(cfg.PayloadCodec)}
			},
			NewHandler,
			NewServer,
		),
		// The server is what the application is for: build it even though nothing else asks for it.
		fx.Invoke(func(*Server) {}),
		fx.WithLogger(newFxLogger),
	)
}

// NewLogger is the logger of the relay (JSON lines unless KYCFLOW_LOG_FORMAT=text). Nothing personal is logged (see Handler).
func NewLogger(cfg Config) *slog.Logger {
	return cfg.Log.New(os.Stdout)
}

// newFxLogger keeps fx's own wiring events at debug level.
func newFxLogger(l *slog.Logger) fxevent.Logger {
	fl := &fxevent.SlogLogger{Logger: l}
	fl.UseLogLevel(slog.LevelDebug)
	fl.UseErrorLevel(slog.LevelError)
	return fl
}

// NewTemporalClient dials Temporal lazily: the relay starts (and answers 503) while Temporal is down, and
// /readyz tells when it is reachable.
func NewTemporalClient(lc fx.Lifecycle, cfg Config, logger *slog.Logger, tr *tracing.Tracing) (client.Client, error) {
	interceptors, err := tr.Interceptors()
	if err != nil {
		return nil, err
	}
	return temporalconn.NewLazy(lc, temporalconn.Settings{
		Connection: cfg.Temporal, Codec: cfg.PayloadCodec,
		Compression: cfg.GrpcCompression, DialOptions: []grpc.DialOption{SignalDedupDialOption()},
		Interceptors: interceptors,
	}, logger)
}

// Server is the relay's HTTP servers: the webhooks on cfg.Addr, readiness and metrics on cfg.AdminAddr.
type Server struct {
	srv, admin      *http.Server
	addr, adminAddr net.Addr
}

// Addr is the address the webhook server listens on, once started (useful with port 0).
func (s *Server) Addr() net.Addr { return s.addr }

// AdminAddr is the address of /readyz and /metrics, once started.
func (s *Server) AdminAddr() net.Addr { return s.adminAddr }

// NewServer serves the handler on cfg.Addr and its admin endpoints on cfg.AdminAddr: it listens in OnStart, so a
// taken port stops the application at start, and shuts down gracefully in OnStop, letting requests in flight
// finish within fx's stop timeout. A server that fails while running shuts the application down with exit code 1.
func NewServer(lc fx.Lifecycle, sd fx.Shutdowner, cfg Config, h *Handler, logger *slog.Logger, tr *tracing.Tracing) *Server {
	s := &Server{srv: &http.Server{
		Addr:              cfg.Addr,
		Handler:           tr.Handler(h, "webhook"),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A webhook may wait for a lookup and a signal, each bounded.
		WriteTimeout:   h.cfg.LookupWait + 2*h.cfg.SignalTimeout + 10*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, admin: &http.Server{
		Addr:              cfg.AdminAddr,
		Handler:           h.Admin(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}
	serve := func(srv *http.Server, ln net.Listener, what string) {
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("Relay HTTP server failed", "server", what, "error", err)
				_ = sd.Shutdown(fx.ExitCode(1))
			}
		}()
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			lcfg := &net.ListenConfig{}
			ln, err := lcfg.Listen(ctx, "tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("%s=%s: %w", EnvAddr, cfg.Addr, err)
			}
			adminLn, err := lcfg.Listen(ctx, "tcp", cfg.AdminAddr)
			if err != nil {
				_ = ln.Close()
				return fmt.Errorf("%s=%s: %w", EnvAdminAddr, cfg.AdminAddr, err)
			}
			s.addr, s.adminAddr = ln.Addr(), adminLn.Addr()
			serve(s.srv, ln, "webhooks")
			serve(s.admin, adminLn, "admin")
			logger.Info("Relay listening", "addr", s.addr.String(), "adminAddr", s.adminAddr.String(), "temporal", cfg.Temporal.Address(), "namespace", cfg.Temporal.Namespace(), "connection", cfg.Temporal.Secure(),
				"treezorSecrets", len(cfg.TreezorSecrets), "solarisSecrets", len(cfg.SolarisSecrets), "yousignSecrets", len(cfg.YousignSecrets))
			return nil
		},
		OnStop: func(ctx context.Context) error {
			err := s.srv.Shutdown(ctx)
			if aerr := s.admin.Shutdown(ctx); err == nil {
				err = aerr
			}
			if err != nil {
				return fmt.Errorf("relay HTTP server shutdown: %w", err)
			}
			return nil
		},
	})
	return s
}
