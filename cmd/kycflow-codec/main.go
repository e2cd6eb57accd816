// Command kycflow-codec is kycflow's remote codec server (package codecserver): the Temporal UI or CLI sends it
// payloads to decode, it answers with the workflow's inputs and results in clear, to callers with a token.
//
//	KYCFLOW_CODEC_ADDR          listen address (default 127.0.0.1:8089)
//	KYCFLOW_CODEC_TOKENS_FILE   tokens, one per line: `name role token` (role reader or writer); required
//	KYCFLOW_CODEC_CORS_ORIGINS  browser origins allowed to call it, comma-separated (the Temporal UI's)
//	KYCFLOW_PAYLOAD_KEY[_FILE], KYCFLOW_PAYLOAD_OLD_KEYS[_FILE]   the namespace's keyring; required
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

	"github.com/kycflow/kycflow/codecserver"
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
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	srv := &http.Server{
		Addr:              cmp.Or(getenv("KYCFLOW_CODEC_ADDR"), "127.0.0.1:8089"),
		Handler:           codecserver.New(codec, tokens, origins, logger),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("Codec server listening", "addr", srv.Addr, "tokens", len(tokens), "origins", origins, "keyId", codec.KeyID())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
