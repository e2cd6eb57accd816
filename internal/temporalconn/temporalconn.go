// Package temporalconn is how kycflow's long-running processes (worker, relay) connect to Temporal: lazily, so a
// process starts while the server is still coming up, with the process' slog logger and the shared payload codec,
// and closed when the fx application stops.
package temporalconn

import (
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.uber.org/fx"
	"google.golang.org/grpc"

	"github.com/kycflow/kycflow/payloadcodec"
)

// Settings name the Temporal namespace to connect to.
type Settings struct {
	// Connection is where and how to reach Temporal (LoadConnection).
	Connection Connection
	// Codec encrypts payloads; nil leaves them plain.
	Codec *payloadcodec.Codec
	// Compression is the requests' gRPC compression; nil is the SDK's default, gzip.
	Compression client.GrpcCompression
	// DialOptions are added to the SDK's (the relay's signal deduplication).
	DialOptions []grpc.DialOption
	// Metrics receives the SDK's metrics and the workflows' own; nil records none.
	Metrics client.MetricsHandler
	// Interceptors wrap the client's calls and the workers' (tracing).
	Interceptors []interceptor.ClientInterceptor
}

// EnvCompression chooses how requests to Temporal are compressed: "none", kycflow's default, or "gzip", the SDK's.
const EnvCompression = "TEMPORAL_GRPC_COMPRESSION"

// Compression reads TEMPORAL_GRPC_COMPRESSION. kycflow's requests are small (one webhook, a few commands), and
// gzip sets up a whole deflate state for each one: under `make bench` that was 20% of the worker's CPU and 16% of
// the relay's, spent to save bytes on what is usually a local link. Choose gzip where bandwidth costs more.
func Compression(getenv func(string) string) (client.GrpcCompression, error) {
	switch v := getenv(EnvCompression); v {
	case "", "none":
		return &client.GrpcCompressionNone{}, nil
	case "gzip":
		return &client.GrpcCompressionGzip{}, nil
	default:
		return nil, fmt.Errorf("%s=%q: want none or gzip", EnvCompression, v)
	}
}

// NewLazy makes a client that dials on first use and is closed when the application stops.
func NewLazy(lc fx.Lifecycle, s Settings, logger *slog.Logger) (client.Client, error) {
	c, err := client.NewLazyClient(s.Options(newSDKLogger(logger)))
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", s.Connection.Address(), err)
	}
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}

// Options are the client options of the settings, with logger.
func (s Settings) Options(logger log.Logger) client.Options {
	opts := s.Connection.Options
	opts.HostPort, opts.Namespace = s.Connection.Address(), s.Connection.Namespace()
	opts.Logger = logger
	opts.DataConverter = payloadcodec.DataConverter(s.Codec)
	opts.FailureConverter = payloadcodec.FailureConverter(s.Codec)
	opts.ConnectionOptions.GrpcCompression = s.Compression
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, s.DialOptions...)
	opts.MetricsHandler = s.Metrics
	opts.Interceptors = append(opts.Interceptors, s.Interceptors...)
	return opts
}
