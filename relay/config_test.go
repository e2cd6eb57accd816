package relay

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func validEnv() map[string]string {
	return map[string]string{
		"TREEZOR_WEBHOOK_SECRETS": "tz-s3cret-0123456789",
		"SOLARIS_WEBHOOK_SECRETS": "sol-s3cret-0123456789",
		"YOUSIGN_WEBHOOK_SECRETS": "ys-s3cret-0123456789",
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(env(validEnv()))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8088", cfg.Addr)
	require.Equal(t, "127.0.0.1:9188", cfg.AdminAddr, "readiness and metrics on loopback unless set")
	require.Equal(t, "localhost:7233", cfg.Temporal.Address())
	require.Equal(t, "default", cfg.Temporal.Namespace())
	require.Equal(t, int64(1<<20), cfg.MaxBodyBytes)
	require.Equal(t, 5*time.Second, cfg.SignalTimeout)
	require.Equal(t, 2*time.Second, cfg.LookupWait)
	require.Equal(t, 3, cfg.GraceAttempts)
	require.Equal(t, Secrets{"tz-s3cret-0123456789"}, cfg.TreezorSecrets)
}

func TestLoadConfigSecretLists(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "solaris")
	// In a file, one secret per line: a comma is part of a secret there.
	require.NoError(t, os.WriteFile(file, []byte("first-secret-0123456\nsecond,third-0123456789\n\n"), 0o600))
	vars := validEnv()
	vars["TREEZOR_WEBHOOK_SECRETS"] = " old-secret-0123456 , new-secret-0123456 ,"
	vars["SOLARIS_WEBHOOK_SECRETS"] = ""
	vars["SOLARIS_WEBHOOK_SECRETS_FILE"] = file
	cfg, err := LoadConfig(env(vars))
	require.NoError(t, err)
	require.Equal(t, Secrets{"old-secret-0123456", "new-secret-0123456"}, cfg.TreezorSecrets)
	require.Equal(t, Secrets{"first-secret-0123456", "second,third-0123456789"}, cfg.SolarisSecrets)

	// A short secret is refused, by position, never quoted.
	vars["YOUSIGN_WEBHOOK_SECRETS"] = "long-enough-secret-01,x"
	_, err = LoadConfig(env(vars))
	require.ErrorContains(t, err, "YOUSIGN_WEBHOOK_SECRETS: secret 2 of 2 is 1 bytes long, 16 at least")
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	emptyFile := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(emptyFile, []byte(" \n\n"), 0o600))
	tests := []struct {
		name    string
		change  map[string]string
		wantErr []string
	}{
		{"no Treezor secret", map[string]string{"TREEZOR_WEBHOOK_SECRETS": ""}, []string{"TREEZOR_WEBHOOK_SECRETS (or TREEZOR_WEBHOOK_SECRETS_FILE) is required"}},
		{"no Solaris secret", map[string]string{"SOLARIS_WEBHOOK_SECRETS": ""}, []string{"SOLARIS_WEBHOOK_SECRETS (or SOLARIS_WEBHOOK_SECRETS_FILE) is required"}},
		{"no Yousign secret", map[string]string{"YOUSIGN_WEBHOOK_SECRETS": ""}, []string{"YOUSIGN_WEBHOOK_SECRETS (or YOUSIGN_WEBHOOK_SECRETS_FILE) is required"}},
		{"only commas", map[string]string{"YOUSIGN_WEBHOOK_SECRETS": " , ,"}, []string{"YOUSIGN_WEBHOOK_SECRETS holds no secret"}},
		{"empty secrets file", map[string]string{"YOUSIGN_WEBHOOK_SECRETS": "", "YOUSIGN_WEBHOOK_SECRETS_FILE": emptyFile}, []string{"YOUSIGN_WEBHOOK_SECRETS_FILE holds no secret"}},
		{"missing secrets file", map[string]string{"YOUSIGN_WEBHOOK_SECRETS": "", "YOUSIGN_WEBHOOK_SECRETS_FILE": "/nonexistent"}, []string{"YOUSIGN_WEBHOOK_SECRETS_FILE"}},
		{"secret twice", map[string]string{"TREEZOR_WEBHOOK_SECRETS_FILE": emptyFile}, []string{"set TREEZOR_WEBHOOK_SECRETS or TREEZOR_WEBHOOK_SECRETS_FILE, not both"}},
		{"address without port", map[string]string{"KYCFLOW_RELAY_ADDR": "localhost"}, []string{"KYCFLOW_RELAY_ADDR"}},
		{"admin address without port", map[string]string{"KYCFLOW_RELAY_ADMIN_ADDR": "localhost"}, []string{"KYCFLOW_RELAY_ADMIN_ADDR"}},
		{"admin address is the webhook address", map[string]string{"KYCFLOW_RELAY_ADMIN_ADDR": "127.0.0.1:8088"},
			[]string{"KYCFLOW_RELAY_ADMIN_ADDR and KYCFLOW_RELAY_ADDR are both 127.0.0.1:8088"}},
		{"Temporal address without port", map[string]string{"TEMPORAL_ADDRESS": "temporal"}, []string{"TEMPORAL_ADDRESS"}},
		{"body limit malformed", map[string]string{"KYCFLOW_RELAY_MAX_BODY_BYTES": "1MiB"}, []string{"KYCFLOW_RELAY_MAX_BODY_BYTES"}},
		{"body limit too small", map[string]string{"KYCFLOW_RELAY_MAX_BODY_BYTES": "10"}, []string{"KYCFLOW_RELAY_MAX_BODY_BYTES=10"}},
		{"signal timeout malformed", map[string]string{"KYCFLOW_RELAY_SIGNAL_TIMEOUT": "5"}, []string{"KYCFLOW_RELAY_SIGNAL_TIMEOUT"}},
		{"signal timeout too long", map[string]string{"KYCFLOW_RELAY_SIGNAL_TIMEOUT": "1m"}, []string{"KYCFLOW_RELAY_SIGNAL_TIMEOUT=1m0s"}},
		{"lookup wait negative", map[string]string{"KYCFLOW_RELAY_LOOKUP_WAIT": "-1s"}, []string{"KYCFLOW_RELAY_LOOKUP_WAIT"}},
		{"grace attempts malformed", map[string]string{"KYCFLOW_RELAY_GRACE_ATTEMPTS": "three"}, []string{"KYCFLOW_RELAY_GRACE_ATTEMPTS"}},
		{"bad log level", map[string]string{"KYCFLOW_LOG_LEVEL": "loud"}, []string{"KYCFLOW_LOG_LEVEL"}},
		{"unknown compression", map[string]string{"TEMPORAL_GRPC_COMPRESSION": "zstd"}, []string{"TEMPORAL_GRPC_COMPRESSION"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := validEnv()
			for k, v := range tc.change {
				vars[k] = v
			}
			_, err := LoadConfig(env(vars))
			require.Error(t, err)
			for _, want := range tc.wantErr {
				require.Contains(t, err.Error(), want)
			}
			require.NotContains(t, err.Error(), "s3cret", "secrets never appear in errors")
		})
	}
}

func TestLoadConfigSettings(t *testing.T) {
	vars := validEnv()
	vars["KYCFLOW_RELAY_ADDR"] = ":9000"
	vars["KYCFLOW_RELAY_MAX_BODY_BYTES"] = "65536"
	vars["KYCFLOW_RELAY_SIGNAL_TIMEOUT"] = "2s"
	vars["KYCFLOW_RELAY_LOOKUP_WAIT"] = "0s"
	vars["KYCFLOW_RELAY_GRACE_ATTEMPTS"] = "0"
	vars["KYCFLOW_LOG_LEVEL"] = "debug"
	cfg, err := LoadConfig(env(vars))
	require.NoError(t, err)
	require.Equal(t, ":9000", cfg.Addr)
	require.Equal(t, int64(65536), cfg.MaxBodyBytes)
	require.Equal(t, 2*time.Second, cfg.SignalTimeout)
	require.Equal(t, time.Duration(0), cfg.LookupWait)
	require.Equal(t, 0, cfg.GraceAttempts)
	require.Equal(t, slog.LevelDebug, cfg.Log.Level)
}

func TestConfigErrorListsEveryProblem(t *testing.T) {
	_, err := LoadConfig(env(map[string]string{"KYCFLOW_RELAY_SIGNAL_TIMEOUT": "never"}))
	require.Error(t, err)
	require.Len(t, strings.Split(err.Error(), "\n"), 4, "three missing secrets and the timeout at once: %v", err)
}

func TestSecretsNeverPrint(t *testing.T) {
	cfg, err := LoadConfig(env(validEnv()))
	require.NoError(t, err)
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "secrets", cfg.TreezorSecrets)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logged.String()} {
		require.NotContains(t, s, "s3cret")
	}
	require.Contains(t, fmt.Sprint(cfg.TreezorSecrets), "1 secret")
}
