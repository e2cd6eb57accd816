package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Credentials are the API credentials the sandbox accepts, as the providers issue them. The worker must be
// configured with the same values.
type Credentials struct {
	TreezorClientID     string
	TreezorClientSecret string
	SolarisClientID     string
	SolarisClientSecret string
	YousignAPIKey       string
}

// DevCredentials are fixed development values: the sandbox holds nothing worth protecting, and the demo, which
// creates users and persons like a signup backend, must know them.
func DevCredentials() Credentials {
	return Credentials{
		TreezorClientID:     "kycflow-dev",
		TreezorClientSecret: "kycflow-dev-treezor-secret",
		SolarisClientID:     "kycflow-dev",
		SolarisClientSecret: "kycflow-dev-solaris-secret",
		YousignAPIKey:       "kycflow-dev-yousign-key",
	}
}

// WebhookSecrets sign the webhooks: Treezor's webhook_secret, the Solaris subscription's secret, the Yousign
// subscription's secret_key. The relay must accept them.
type WebhookSecrets struct {
	Treezor string
	Solaris string
	Yousign string
}

// DevWebhookSecrets are fixed development values, for a sandbox started on its own.
func DevWebhookSecrets() WebhookSecrets {
	return WebhookSecrets{
		Treezor: "kycflow-dev-treezor-webhook-secret",
		Solaris: "kycflow-dev-solaris-webhook-secret",
		Yousign: "kycflow-dev-yousign-webhook-secret",
	}
}

// Environment variables the sandbox binary reads.
const (
	EnvAddr                 = "KYCFLOW_SANDBOX_ADDR"
	EnvPublicURL            = "KYCFLOW_SANDBOX_PUBLIC_URL"
	EnvWebhookURL           = "KYCFLOW_SANDBOX_WEBHOOK_URL"
	EnvTimeScale            = "KYCFLOW_SANDBOX_TIME_SCALE"
	EnvMinDeadline          = "KYCFLOW_SANDBOX_MIN_DEADLINE"
	EnvFaults               = "KYCFLOW_SANDBOX_FAULTS"
	EnvTreezorClientID      = "KYCFLOW_SANDBOX_TREEZOR_CLIENT_ID"
	EnvTreezorClientSecret  = "KYCFLOW_SANDBOX_TREEZOR_CLIENT_SECRET"
	EnvSolarisClientID      = "KYCFLOW_SANDBOX_SOLARIS_CLIENT_ID"
	EnvSolarisClientSecret  = "KYCFLOW_SANDBOX_SOLARIS_CLIENT_SECRET"
	EnvYousignAPIKey        = "KYCFLOW_SANDBOX_YOUSIGN_API_KEY"
	EnvTreezorWebhookSecret = "KYCFLOW_SANDBOX_TREEZOR_WEBHOOK_SECRET"
	EnvSolarisWebhookSecret = "KYCFLOW_SANDBOX_SOLARIS_WEBHOOK_SECRET"
	EnvYousignWebhookSecret = "KYCFLOW_SANDBOX_YOUSIGN_WEBHOOK_SECRET"
)

// Defaults of the binary: the relay's default address is where webhooks go.
const (
	DefaultAddr       = "127.0.0.1:8090"
	DefaultWebhookURL = "http://127.0.0.1:8088"
)

// Config configures a Server.
type Config struct {
	// PublicURL is where the sandbox is reached; identification URLs point to its session pages.
	PublicURL string
	// WebhookURL is the relay's base URL: webhooks go to {WebhookURL}/webhooks/{treezor,solaris,yousign}. Several
	// relays, comma-separated, take the deliveries in turn, as behind a load balancer (a retry may reach another).
	WebhookURL string
	Clock      Clock
	// Credentials are the API credentials accepted; WebhookSecrets sign the webhooks.
	Credentials    Credentials
	WebhookSecrets WebhookSecrets
	// Faults apply to every subject, on top of the faults its names select.
	Faults GlobalFaults
	// Logger receives one line per notable event; nil discards them.
	Logger *slog.Logger
	// ExampleUsers creates the users the README's quick start names (ExampleTreezorUser), so that its commands run
	// as written against `make run`. The binary always sets it.
	ExampleUsers bool
	// MinRetryBackoff is the shortest real wait between two deliveries of a webhook (default 250 ms): a
	// compressed provider backoff would otherwise retry in microseconds.
	MinRetryBackoff time.Duration
}

// LoadConfig reads the binary's configuration: the listen address and the server's Config. Unset variables take
// the development defaults; every problem is reported at once.
func LoadConfig(getenv func(string) string) (string, Config, error) {
	var errs []error
	addr := valueOr(getenv(EnvAddr), DefaultAddr)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		errs = append(errs, fmt.Errorf("%s=%q: want host:port", EnvAddr, addr))
	}
	cfg := Config{
		ExampleUsers: true,
		PublicURL:    strings.TrimRight(valueOr(getenv(EnvPublicURL), "http://"+addr), "/"),
		WebhookURL:   strings.TrimRight(valueOr(getenv(EnvWebhookURL), DefaultWebhookURL), "/"),
	}
	urls := []struct{ name, value string }{{EnvPublicURL, cfg.PublicURL}}
	for _, u := range strings.Split(cfg.WebhookURL, ",") {
		urls = append(urls, struct{ name, value string }{EnvWebhookURL, strings.TrimSpace(u)})
	}
	for _, u := range urls {
		if p, err := url.Parse(u.value); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s=%q: want an absolute http(s) URL", u.name, u.value))
		}
	}
	scale := DefaultTimeScale
	if s := getenv(EnvTimeScale); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a number such as 0.001", EnvTimeScale, s))
		} else {
			scale = v
		}
	}
	clock, err := NewClock(scale)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvTimeScale, err))
	}
	if s := getenv(EnvMinDeadline); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 2s", EnvMinDeadline, s))
		} else {
			clock.MinDeadline = d
		}
	}
	cfg.Clock = clock
	if cfg.Faults, err = ParseGlobalFaults(getenv(EnvFaults)); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvFaults, err))
	}
	dev, devSecrets := DevCredentials(), DevWebhookSecrets()
	cfg.Credentials = Credentials{
		TreezorClientID:     valueOr(getenv(EnvTreezorClientID), dev.TreezorClientID),
		TreezorClientSecret: valueOr(getenv(EnvTreezorClientSecret), dev.TreezorClientSecret),
		SolarisClientID:     valueOr(getenv(EnvSolarisClientID), dev.SolarisClientID),
		SolarisClientSecret: valueOr(getenv(EnvSolarisClientSecret), dev.SolarisClientSecret),
		YousignAPIKey:       valueOr(getenv(EnvYousignAPIKey), dev.YousignAPIKey),
	}
	cfg.WebhookSecrets = WebhookSecrets{
		Treezor: valueOr(getenv(EnvTreezorWebhookSecret), devSecrets.Treezor),
		Solaris: valueOr(getenv(EnvSolarisWebhookSecret), devSecrets.Solaris),
		Yousign: valueOr(getenv(EnvYousignWebhookSecret), devSecrets.Yousign),
	}
	return addr, cfg, errors.Join(errs...)
}

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
