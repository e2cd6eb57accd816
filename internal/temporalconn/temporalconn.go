// Package temporalconn is how kycflow's long-running processes (worker, relay) connect to Temporal: lazily, so a
// process starts while the server is still coming up, with the process' slog logger and the shared payload codec,
// and closed when the fx application stops.
package temporalconn

import (
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.uber.org/fx"

	"github.com/kycflow/kycflow/payloadcodec"
)

// Settings name the Temporal namespace to connect to.
type Settings struct {
	Address   string
	Namespace string
	// Codec encrypts payloads; nil leaves them plain.
	Codec *payloadcodec.Codec
}

// NewLazy makes a client that dials on first use and is closed when the application stops.
func NewLazy(lc fx.Lifecycle, s Settings, logger *slog.Logger) (client.Client, error) {
	c, err := client.NewLazyClient(client.Options{
		HostPort:      s.Address,
		Namespace:     s.Namespace,
		Logger:        tlog.NewStructuredLogger(logger),
		DataConverter: payloadcodec.DataConverter(s.Codec),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", s.Address, err)
	}
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}
