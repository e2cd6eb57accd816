package worker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/internal/logging"
	"github.com/kycflow/kycflow/internal/temporalconn"
	"github.com/kycflow/kycflow/payloadcodec"
)

// Config is the worker's configuration, read from the environment.
type Config struct {
	// Temporal is where and how to reach Temporal: the SDK's environment configuration (TEMPORAL_PROFILE,
	// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, ...).
	Temporal temporalconn.Connection
	// Log is the logger's level and format (KYCFLOW_LOG_LEVEL, KYCFLOW_LOG_FORMAT).
	Log logging.Settings
	// StopTimeout bounds how long in-flight activities may finish on shutdown; below fx's 15 s stop timeout.
	StopTimeout time.Duration
	// WorkflowCacheSize bounds the workflows kept in memory between their tasks. A verification waits for days, so
	// caching every one (the SDK's default is 10,000) costs memory for nothing: an evicted workflow is replayed
	// from its short history when its next webhook arrives.
	WorkflowCacheSize int
	// Pollers is the number of concurrent workflow task and activity task polls.
	Pollers int
	// A provider is enabled when its base URL is set; its other settings are then required.
	Treezor TreezorConfig
	Solaris SolarisConfig
	Yousign YousignConfig
	// PayloadCodec encrypts payloads when KYCFLOW_PAYLOAD_KEY is set; nil leaves them plain.
	PayloadCodec *payloadcodec.Codec
	// GrpcCompression compresses requests to Temporal (TEMPORAL_GRPC_COMPRESSION; none unless gzip is asked for).
	GrpcCompression client.GrpcCompression
	// MetricsAddr serves /metrics (KYCFLOW_METRICS_ADDR); empty exports nothing.
	MetricsAddr string
	// CensusInterval is how often the worker counts the running verifications by method and step in Temporal's
	// visibility for /metrics (KYCFLOW_CENSUS_INTERVAL, default 1m; 0 turns it off).
	CensusInterval time.Duration
}

// TreezorConfig holds the Treezor API credentials.
type TreezorConfig struct {
	BaseURL      string
	ClientID     string
	ClientSecret string
	Scope        string
}

// SolarisConfig holds the Solaris API credentials.
type SolarisConfig struct {
	BaseURL      string
	TokenURL     string
	ClientID     string
	ClientSecret string
}

// YousignConfig holds the Yousign API key.
type YousignConfig struct {
	BaseURL string
	APIKey  string
}

// Environment variables the worker reads. The table in README.md lists them with their defaults.
const (
	EnvTemporalAddress   = "TEMPORAL_ADDRESS"
	EnvTemporalNamespace = "TEMPORAL_NAMESPACE"
	EnvStopTimeout       = "KYCFLOW_WORKER_STOP_TIMEOUT"
	EnvWorkflowCacheSize = "KYCFLOW_WORKFLOW_CACHE_SIZE"
	EnvPollers           = "KYCFLOW_WORKER_POLLERS"
	// EnvMetricsAddr is where the worker serves /metrics (Prometheus); unset, it exports none.
	EnvMetricsAddr         = "KYCFLOW_METRICS_ADDR"
	EnvCensusInterval      = "KYCFLOW_CENSUS_INTERVAL"
	EnvTreezorBaseURL      = "TREEZOR_BASE_URL"
	EnvTreezorClientID     = "TREEZOR_CLIENT_ID"
	EnvTreezorClientSecret = "TREEZOR_CLIENT_SECRET"
	EnvTreezorSecretFile   = "TREEZOR_CLIENT_SECRET_FILE"
	EnvTreezorScope        = "TREEZOR_SCOPE"
	EnvSolarisBaseURL      = "SOLARIS_BASE_URL"
	EnvSolarisTokenURL     = "SOLARIS_TOKEN_URL"
	EnvSolarisClientID     = "SOLARIS_CLIENT_ID"
	EnvSolarisClientSecret = "SOLARIS_CLIENT_SECRET"
	EnvSolarisSecretFile   = "SOLARIS_CLIENT_SECRET_FILE"
	// EnvAllowPlaintextPII=true lets the worker run Yousign without a payload key (personal data in clear).
	EnvAllowPlaintextPII = "KYCFLOW_ALLOW_PLAINTEXT_PII"
	EnvYousignBaseURL    = "YOUSIGN_BASE_URL"
	EnvYousignAPIKey     = "YOUSIGN_API_KEY"
	EnvYousignAPIKeyFile = "YOUSIGN_API_KEY_FILE"
)

const maxStopTimeout = 14 * time.Second

// defaultCensusInterval is how often the census counts, unless KYCFLOW_CENSUS_INTERVAL says otherwise.
const defaultCensusInterval = time.Minute

// LoadConfig reads and validates the configuration. Every problem is reported at once, each naming its variable,
// so that a misconfigured deployment is fixed in one go. Secret values never appear in errors.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	cfg := Config{
		StopTimeout:       10 * time.Second,
		WorkflowCacheSize: 1000,
		Pollers:           4,
		Treezor: TreezorConfig{
			BaseURL:  strings.TrimRight(getenv(EnvTreezorBaseURL), "/"),
			ClientID: getenv(EnvTreezorClientID),
			Scope:    getenv(EnvTreezorScope),
		},
	}
	var err error
	cfg.Temporal, err = temporalconn.LoadConnection(getenv, os.Environ())
	errs = append(errs, err)
	cfg.Log, err = logging.FromEnv(getenv)
	errs = append(errs, err)
	if s := getenv(EnvStopTimeout); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 10s", EnvStopTimeout, s))
		case d <= 0 || d > maxStopTimeout:
			errs = append(errs, fmt.Errorf("%s=%s: want more than 0 and at most %s (fx stops the process after 15s)", EnvStopTimeout, d, maxStopTimeout))
		default:
			cfg.StopTimeout = d
		}
	}
	if cfg.MetricsAddr = getenv(EnvMetricsAddr); cfg.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want host:port, such as 127.0.0.1:9190", EnvMetricsAddr, cfg.MetricsAddr))
		}
	}
	cfg.CensusInterval = defaultCensusInterval
	if s := getenv(EnvCensusInterval); s != "" {
		// Each round is a count query per method and step (35), spread over half the interval: at 1 minute, about
		// 1.2 a second for 30 s per worker, against a production namespace's 10 visibility requests a second.
		switch d, err := time.ParseDuration(s); {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 1m, or 0 to turn the census off", EnvCensusInterval, s))
		case d != 0 && (d < 10*time.Second || d > time.Hour):
			errs = append(errs, fmt.Errorf("%s=%s: want 0 (off) or from 10s to 1h", EnvCensusInterval, d))
		default:
			cfg.CensusInterval = d
		}
	}
	errs = append(errs, intSetting(getenv, EnvWorkflowCacheSize, 1, 100000, &cfg.WorkflowCacheSize),
		intSetting(getenv, EnvPollers, 2, 64, &cfg.Pollers))
	if cfg.Treezor.BaseURL != "" {
		errs = append(errs, requireURL(EnvTreezorBaseURL, cfg.Treezor.BaseURL), required(EnvTreezorClientID, cfg.Treezor.ClientID))
		secret, err := secretFrom(getenv, EnvTreezorClientSecret, EnvTreezorSecretFile)
		errs = append(errs, err)
		cfg.Treezor.ClientSecret = secret
	}
	cfg.Solaris = SolarisConfig{
		BaseURL:  strings.TrimRight(getenv(EnvSolarisBaseURL), "/"),
		TokenURL: getenv(EnvSolarisTokenURL),
		ClientID: getenv(EnvSolarisClientID),
	}
	if cfg.Solaris.BaseURL != "" {
		errs = append(errs, requireURL(EnvSolarisBaseURL, cfg.Solaris.BaseURL), requireURL(EnvSolarisTokenURL, cfg.Solaris.TokenURL),
			required(EnvSolarisClientID, cfg.Solaris.ClientID))
		secret, err := secretFrom(getenv, EnvSolarisClientSecret, EnvSolarisSecretFile)
		errs = append(errs, err)
		cfg.Solaris.ClientSecret = secret
	}
	cfg.Yousign = YousignConfig{BaseURL: strings.TrimRight(getenv(EnvYousignBaseURL), "/")}
	if cfg.Yousign.BaseURL != "" {
		errs = append(errs, requireURL(EnvYousignBaseURL, cfg.Yousign.BaseURL))
		key, err := secretFrom(getenv, EnvYousignAPIKey, EnvYousignAPIKeyFile)
		errs = append(errs, err)
		cfg.Yousign.APIKey = key
	}
	codec, err := payloadcodec.FromEnv(getenv)
	errs = append(errs, err)
	cfg.PayloadCodec = codec
	// Yousign needs the user's names in the workflow input: without a key they would sit in clear in Temporal's
	// database, UI and exported histories. Fail closed, unless the operator says the data is not personal (a
	// development stack on the sandbox's synthetic users).
	if cfg.Yousign.BaseURL != "" && codec == nil && err == nil {
		switch v := getenv(EnvAllowPlaintextPII); v {
		case "true":
		case "", "false":
			errs = append(errs, fmt.Errorf("%s is set but %s is not: Yousign's names would be stored in clear in Temporal; "+
				"set a payload key, or %s=true for a development stack with synthetic users", EnvYousignBaseURL, payloadcodec.EnvKey, EnvAllowPlaintextPII))
		default:
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", EnvAllowPlaintextPII, v))
		}
	}
	compression, err := temporalconn.Compression(getenv)
	errs = append(errs, err)
	cfg.GrpcCompression = compression
	if cfg.Treezor.BaseURL == "" && cfg.Solaris.BaseURL == "" && cfg.Yousign.BaseURL == "" {
		errs = append(errs, fmt.Errorf("no provider configured: set %s, %s or %s (and their credentials)",
			EnvTreezorBaseURL, EnvSolarisBaseURL, EnvYousignBaseURL))
	}
	return cfg, errors.Join(errs...)
}

// intSetting reads an optional whole number within [lo, hi] into dst.
func intSetting(getenv func(string) string, name string, lo, hi int, dst *int) error {
	v := getenv(name)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("%s=%q: want a whole number from %d to %d", name, v, lo, hi)
	}
	*dst = n
	return nil
}

func required(name, v string) error {
	if v == "" {
		return fmt.Errorf("%s is required", name)
	}
	return nil
}

func requireURL(name, v string) error {
	if v == "" {
		return fmt.Errorf("%s is required", name)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q: want an absolute http(s) URL", name, v)
	}
	return nil
}

// secretFrom reads a secret from the variable itself or from the file the *_FILE variable names (Docker and
// Kubernetes secrets), never both.
func secretFrom(getenv func(string) string, name, fileName string) (string, error) {
	v, path := getenv(name), getenv(fileName)
	switch {
	case v != "" && path != "":
		return "", fmt.Errorf("set %s or %s, not both", name, fileName)
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", fileName, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%s: file %s is empty", fileName, path)
		}
		return s, nil
	case strings.TrimSpace(v) != "":
		return strings.TrimSpace(v), nil
	case v != "":
		return "", fmt.Errorf("%s is blank", name)
	}
	return "", fmt.Errorf("%s (or %s) is required", name, fileName)
}
