// Command kycflow-codec is kycflow's remote codec server (package codecserver): the Temporal UI or CLI sends it
// payloads to decode, it answers with the workflow's inputs and results in clear, to callers with a token.
//
//	KYCFLOW_CODEC_ADDR          listen address (default 127.0.0.1:8089)
//	KYCFLOW_CODEC_TOKENS_FILE   tokens, one per line: `name role token` (role reader or writer); required
//	KYCFLOW_CODEC_CORS_ORIGINS  browser origins allowed to call it, comma-separated (the Temporal UI's)
//	KYCFLOW_PAYLOAD_KEY[_FILE], KYCFLOW_PAYLOAD_OLD_KEYS[_FILE]   the namespace's keyring; required
//	TEMPORAL_PROFILE, TEMPORAL_ADDRESS, TEMPORAL_TLS_*, ...       the namespace it serves, as for the worker
//	KYCFLOW_LOG_LEVEL, KYCFLOW_LOG_FORMAT                         as for the worker (JSON lines by default)
//
// At start it connects to Temporal the way the worker does and checks that the namespace exists: its keyring is
// that namespace's, so it serves no other, and a wrong certificate or address stops it with the setting at fault
// instead of a UI that later shows ciphertext.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kycflow/kycflow/codecserver"
	"github.com/kycflow/kycflow/internal/logging"
	"github.com/kycflow/kycflow/internal/temporalconn"
	"github.com/kycflow/kycflow/payloadcodec"
)

func main() {
	if err := run(os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "kycflow-codec:", err)
		os.Exit(1)
	}
}

func run(getenv func(string) string) error {
	codec, err := payloadcodec.FromEnv(getenv)
	if err != nil {
		return err
	}
	if codec == nil {
		return fmt.Errorf("%s (or %s) is required: the codec server decodes with the namespace's key", payloadcodec.EnvKey, payloadcodec.EnvKeyFile)
	}
	path := getenv("KYCFLOW_CODEC_TOKENS_FILE")
	if path == "" {
		return errors.New("KYCFLOW_CODEC_TOKENS_FILE is required: every request needs a bearer token")
	}
	tokens, err := codecserver.LoadTokens(path)
	if err != nil {
		return fmt.Errorf("KYCFLOW_CODEC_TOKENS_FILE: %w", err)
	}
	var origins []string
	for _, o := range strings.Split(getenv("KYCFLOW_CODEC_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	conn, err := temporalconn.LoadConnection(getenv, os.Environ())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := checkNamespace(ctx, conn); err != nil {
		return err
	}
	logSettings, err := logging.FromEnv(getenv)
	if err != nil {
		return err
	}
	logger := logSettings.New(os.Stdout)
	srv := &http.Server{
		Addr: cmp.Or(getenv("KYCFLOW_CODEC_ADDR"), "127.0.0.1:8089"),
		Handler: codecserver.New(codec, codecserver.Options{Tokens: tokens, Origins: origins,
			Namespaces: []string{conn.Namespace()}, Log: logger}),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("Codec server listening", "addr", srv.Addr, "tokens", len(tokens), "origins", origins, "keyId", codec.KeyID(),
		"temporal", conn.Address(), "namespace", conn.Namespace(), "connection", conn.Secure())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// checkNamespace connects to Temporal and finds the namespace, retrying for a minute while the server is not up
// yet; a refused certificate or a missing namespace fails at once.
func checkNamespace(ctx context.Context, conn temporalconn.Connection) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tlsOn := !strings.HasPrefix(conn.Secure(), "plaintext")
	var last error
	for {
		last = describeNamespace(ctx, conn)
		var (
			notFound *serviceerror.NamespaceNotFound
			denied   *serviceerror.PermissionDenied
		)
		switch {
		case last == nil:
			return nil
		case errors.As(last, &notFound):
			return fmt.Errorf("namespace %s does not exist on %s: its keyring is the one this codec server serves", conn.Namespace(), conn.Address())
		case errors.As(last, &denied), status.Code(last) == codes.Unauthenticated:
			return fmt.Errorf("connect to Temporal at %s: %w (check the API key or the client certificate's permissions)", conn.Address(), last)
		case ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
			return errors.New("stopped while connecting to Temporal")
		}
		if explained := temporalconn.ExplainDialError(last, tlsOn); explained.Error() != last.Error() {
			return fmt.Errorf("connect to Temporal at %s: %w", conn.Address(), explained)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("connect to Temporal at %s: %w", conn.Address(), last)
		case <-time.After(time.Second):
		}
	}
}

func describeNamespace(ctx context.Context, conn temporalconn.Connection) error {
	opts := conn.Options
	// The connection's retries stay out of the log: the error that ends them is returned.
	opts.Logger = tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	attempt, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.DialContext(attempt, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().DescribeNamespace(attempt, &workflowservice.DescribeNamespaceRequest{Namespace: conn.Namespace()})
	return err
}
