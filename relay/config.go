package relay

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/internal/logging"
	"github.com/kycflow/kycflow/internal/temporalconn"
	"github.com/kycflow/kycflow/payloadcodec"
)

// Config is the relay's configuration, read from the environment by LoadConfig. NewHandler fills zero values of
// the handler's settings with the defaults below, so tests may set only what they need.
type Config struct {
	// Addr is the listen address of the webhook endpoints; AdminAddr that of /readyz and /metrics (loopback
	// unless set).
	Addr      string
	AdminAddr string
	// Temporal is where and how to reach Temporal: the SDK's environment configuration (TEMPORAL_PROFILE,
	// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, ...).
	Temporal temporalconn.Connection
	// Log is the logger's level and format (KYCFLOW_LOG_LEVEL, KYCFLOW_LOG_FORMAT).
	Log logging.Settings

	// Webhook secrets per provider. Several secrets are accepted at once so a secret can be rotated without
	// downtime: add the new one, switch the provider's subscription, then remove the old one.
	TreezorSecrets Secrets
	SolarisSecrets Secrets
	YousignSecrets Secrets

	// PayloadCodec encrypts the signals' payloads like every other kycflow process (KYCFLOW_PAYLOAD_KEY).
	PayloadCodec *payloadcodec.Codec
	// GrpcCompression compresses requests to Temporal (TEMPORAL_GRPC_COMPRESSION; none unless gzip is asked for).
	GrpcCompression client.GrpcCompression

	// MaxBodyBytes bounds a webhook's body; above it the relay answers 413.
	MaxBodyBytes int64
	// SignalTimeout bounds each Temporal call made for one webhook (lookup, signal).
	SignalTimeout time.Duration
	// LookupWait is how long the relay keeps retrying a visibility lookup that found no workflow, since
	// visibility lags a moment behind the workflow that just set its KycProviderReference.
	LookupWait time.Duration
	// GraceAttempts: while the provider's delivery attempt counter (Solaris-Webhook-Attempt, X-Yousign-Retry) is at
	// most this, a Solaris or Yousign event with no workflow yet gets 503 so that the provider retries; after it,
	// 200 and the event is counted as unwanted. A delivery without the counter is past the grace window.
	GraceAttempts int
}

// Defaults.
const (
	DefaultAddr          = "127.0.0.1:8088"
	DefaultAdminAddr     = "127.0.0.1:9188"
	DefaultMaxBodyBytes  = 1 << 20
	DefaultSignalTimeout = 5 * time.Second
	DefaultLookupWait    = 2 * time.Second
	DefaultGraceAttempts = 3
)

// Environment variables the relay reads.
const (
	EnvAddr               = "KYCFLOW_RELAY_ADDR"
	EnvAdminAddr          = "KYCFLOW_RELAY_ADMIN_ADDR"
	EnvTemporalAddress    = "TEMPORAL_ADDRESS"
	EnvTemporalNamespace  = "TEMPORAL_NAMESPACE"
	EnvTreezorSecrets     = "TREEZOR_WEBHOOK_SECRETS"
	EnvTreezorSecretsFile = "TREEZOR_WEBHOOK_SECRETS_FILE"
	EnvSolarisSecrets     = "SOLARIS_WEBHOOK_SECRETS"
	EnvSolarisSecretsFile = "SOLARIS_WEBHOOK_SECRETS_FILE"
	EnvYousignSecrets     = "YOUSIGN_WEBHOOK_SECRETS"
	EnvYousignSecretsFile = "YOUSIGN_WEBHOOK_SECRETS_FILE"
	EnvMaxBodyBytes       = "KYCFLOW_RELAY_MAX_BODY_BYTES"
	EnvSignalTimeout      = "KYCFLOW_RELAY_SIGNAL_TIMEOUT"
	EnvLookupWait         = "KYCFLOW_RELAY_LOOKUP_WAIT"
	EnvGraceAttempts      = "KYCFLOW_RELAY_GRACE_ATTEMPTS"
)

// Bounds of the numeric settings.
const (
	maxMaxBodyBytes = 64 << 20
	// Yousign waits 10 s on a retried delivery, and fx stops the process 15 s after a shutdown starts: a webhook's
	// lookups and signal should fit in both.
	maxSignalTimeout = 10 * time.Second
	maxLookupWait    = 10 * time.Second
)

// LoadConfig reads and validates the configuration. Every problem is reported at once, each naming its variable;
// secret values never appear in errors.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	cfg := Config{
		Addr:          cmp.Or(getenv(EnvAddr), DefaultAddr),
		AdminAddr:     cmp.Or(getenv(EnvAdminAddr), DefaultAdminAddr),
		MaxBodyBytes:  DefaultMaxBodyBytes,
		SignalTimeout: DefaultSignalTimeout,
		LookupWait:    DefaultLookupWait,
		GraceAttempts: DefaultGraceAttempts,
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		errs = append(errs, fmt.Errorf("%s=%q: want host:port, such as %s", EnvAddr, cfg.Addr, DefaultAddr))
	}
	if _, _, err := net.SplitHostPort(cfg.AdminAddr); err != nil {
		errs = append(errs, fmt.Errorf("%s=%q: want host:port, such as %s", EnvAdminAddr, cfg.AdminAddr, DefaultAdminAddr))
	} else if cfg.AdminAddr == cfg.Addr {
		errs = append(errs, fmt.Errorf("%s and %s are both %s: readiness and metrics need an address of their own", EnvAdminAddr, EnvAddr, cfg.Addr))
	}
	var err error
	cfg.Temporal, err = temporalconn.LoadConnection(getenv, os.Environ())
	errs = append(errs, err)
	cfg.Log, err = logging.FromEnv(getenv)
	errs = append(errs, err)
	cfg.TreezorSecrets, err = secretsFrom(getenv, EnvTreezorSecrets, EnvTreezorSecretsFile)
	errs = append(errs, err)
	cfg.SolarisSecrets, err = secretsFrom(getenv, EnvSolarisSecrets, EnvSolarisSecretsFile)
	errs = append(errs, err)
	cfg.YousignSecrets, err = secretsFrom(getenv, EnvYousignSecrets, EnvYousignSecretsFile)
	errs = append(errs, err)

	if s := getenv(EnvMaxBodyBytes); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: want a number of bytes such as %d", EnvMaxBodyBytes, s, DefaultMaxBodyBytes))
		case n < 1024 || n > maxMaxBodyBytes:
			errs = append(errs, fmt.Errorf("%s=%d: want between 1024 and %d bytes", EnvMaxBodyBytes, n, maxMaxBodyBytes))
		default:
			cfg.MaxBodyBytes = n
		}
	}
	cfg.SignalTimeout, err = durationFrom(getenv, EnvSignalTimeout, DefaultSignalTimeout, time.Millisecond, maxSignalTimeout)
	errs = append(errs, err)
	cfg.LookupWait, err = durationFrom(getenv, EnvLookupWait, DefaultLookupWait, 0, maxLookupWait)
	errs = append(errs, err)
	if s := getenv(EnvGraceAttempts); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100 {
			errs = append(errs, fmt.Errorf("%s=%q: want a number of delivery attempts between 0 and 100", EnvGraceAttempts, s))
		} else {
			cfg.GraceAttempts = n
		}
	}
	codec, err := payloadcodec.FromEnv(getenv)
	errs = append(errs, err)
	cfg.PayloadCodec = codec
	compression, err := temporalconn.Compression(getenv)
	errs = append(errs, err)
	cfg.GrpcCompression = compression
	return cfg, errors.Join(errs...)
}

func durationFrom(getenv func(string) string, name string, def, lo, hi time.Duration) (time.Duration, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return def, fmt.Errorf("%s=%q: want a duration such as %s", name, s, def)
	case d < lo || d > hi:
		return def, fmt.Errorf("%s=%s: want between %s and %s", name, d, lo, hi)
	}
	return d, nil
}

// MinSecretLength is the shortest webhook secret the relay accepts: an HMAC key of a few characters can be
// guessed.
const MinSecretLength = 16

// secretsFrom reads a comma-separated list of secrets from the variable itself, or one secret per line from the file
// the *_FILE variable names (Docker and Kubernetes secrets; there a comma may be part of a secret), never both. An
// empty list is an error: a provider without a secret must not mean "accept everything". So is a secret shorter
// than MinSecretLength; the error names the variable and the entry's position, never the secret.
func secretsFrom(getenv func(string) string, name, fileName string) (Secrets, error) {
	v, path := getenv(name), getenv(fileName)
	var raw, source string
	switch {
	case v != "" && path != "":
		return nil, fmt.Errorf("set %s or %s, not both", name, fileName)
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			// The error names the path, never the content.
			return nil, fmt.Errorf("%s: %w", fileName, err)
		}
		raw, source = string(b), fileName
	case v != "":
		raw, source = v, name
	default:
		return nil, fmt.Errorf("%s (or %s) is required: the relay accepts no webhook that it cannot verify", name, fileName)
	}
	s := parseSecrets(raw, source == fileName)
	if len(s) == 0 {
		return nil, fmt.Errorf("%s holds no secret (a comma-separated list, or one per line in a file, expected)", source)
	}
	for i, secret := range s {
		if len(secret) < MinSecretLength {
			return nil, fmt.Errorf("%s: secret %d of %d is %d bytes long, %d at least", source, i+1, len(s), len(secret), MinSecretLength)
		}
	}
	return s, nil
}

// parseSecrets splits a list on commas (a variable) or on lines (a file), trimming spaces and dropping empty
// entries.
func parseSecrets(raw string, lines bool) Secrets {
	sep := func(r rune) bool { return r == ',' }
	if lines {
		sep = func(r rune) bool { return r == '\n' || r == '\r' }
	}
	var out Secrets
	for _, f := range strings.FieldsFunc(raw, sep) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Secrets is a list of webhook secrets. It prints and logs as a count, never as its values.
type Secrets []string

// String hides the values.
func (s Secrets) String() string { return fmt.Sprintf("[%d secret(s)]", len(s)) }

// GoString hides the values from %#v.
func (s Secrets) GoString() string { return s.String() }

// LogValue hides the values from slog.
func (s Secrets) LogValue() slog.Value { return slog.StringValue(s.String()) }

// keys returns the usable HMAC keys; an empty secret is never one, since anyone could sign with it.
func (s Secrets) keys() [][]byte {
	out := make([][]byte, 0, len(s))
	for _, v := range s {
		if v != "" {
			out = append(out, []byte(v))
		}
	}
	return out
}
