package worker_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/worker"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func validEnv() map[string]string {
	return map[string]string{
		"TREEZOR_BASE_URL":      "https://acme.sandbox.treezor.co/",
		"TREEZOR_CLIENT_ID":     "client",
		"TREEZOR_CLIENT_SECRET": "s3cret-value",
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := worker.LoadConfig(env(validEnv()))
	require.NoError(t, err)
	require.Equal(t, "localhost:7233", cfg.Temporal.Address())
	require.Equal(t, "default", cfg.Temporal.Namespace())
	require.Equal(t, 10*time.Second, cfg.StopTimeout)
	require.Equal(t, 1000, cfg.WorkflowCacheSize)
	require.Equal(t, 4, cfg.Pollers)
	require.Equal(t, time.Minute, cfg.CensusInterval)
	offEnv := validEnv()
	offEnv["KYCFLOW_CENSUS_INTERVAL"] = "0"
	off, err := worker.LoadConfig(env(offEnv))
	require.NoError(t, err)
	require.Zero(t, off.CensusInterval, "0 turns the census off")
	require.Equal(t, "https://acme.sandbox.treezor.co", cfg.Treezor.BaseURL, "trailing slash trimmed")
	require.Equal(t, "s3cret-value", cfg.Treezor.ClientSecret)
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("from-file\n"), 0o600))
	tests := []struct {
		name    string
		change  map[string]string
		wantErr []string
	}{
		{"no provider at all", map[string]string{"TREEZOR_BASE_URL": ""}, []string{"no provider configured", "SOLARIS_BASE_URL"}},
		{"relative base URL", map[string]string{"TREEZOR_BASE_URL": "acme.treezor.co"}, []string{"TREEZOR_BASE_URL=", "absolute http(s) URL"}},
		{"missing client id and secret", map[string]string{"TREEZOR_CLIENT_ID": "", "TREEZOR_CLIENT_SECRET": ""},
			[]string{"TREEZOR_CLIENT_ID is required", "TREEZOR_CLIENT_SECRET (or TREEZOR_CLIENT_SECRET_FILE) is required"}},
		{"secret twice", map[string]string{"TREEZOR_CLIENT_SECRET_FILE": secretFile}, []string{"not both"}},
		{"secret file missing", map[string]string{"TREEZOR_CLIENT_SECRET": "", "TREEZOR_CLIENT_SECRET_FILE": "/nonexistent"}, []string{"TREEZOR_CLIENT_SECRET_FILE"}},
		{"bad log level", map[string]string{"KYCFLOW_LOG_LEVEL": "loud"}, []string{"KYCFLOW_LOG_LEVEL"}},
		{"stop timeout too long", map[string]string{"KYCFLOW_WORKER_STOP_TIMEOUT": "1m"}, []string{"KYCFLOW_WORKER_STOP_TIMEOUT=1m0s"}},
		{"stop timeout malformed", map[string]string{"KYCFLOW_WORKER_STOP_TIMEOUT": "ten"}, []string{"KYCFLOW_WORKER_STOP_TIMEOUT"}},
		{"address without port", map[string]string{"TEMPORAL_ADDRESS": "temporal"}, []string{"TEMPORAL_ADDRESS"}},
		{"cache size zero", map[string]string{"KYCFLOW_WORKFLOW_CACHE_SIZE": "0"}, []string{"KYCFLOW_WORKFLOW_CACHE_SIZE", "from 1 to 100000"}},
		{"one poller", map[string]string{"KYCFLOW_WORKER_POLLERS": "1"}, []string{"KYCFLOW_WORKER_POLLERS"}},
		{"census every second", map[string]string{"KYCFLOW_CENSUS_INTERVAL": "1s"}, []string{"KYCFLOW_CENSUS_INTERVAL=1s", "from 10s to 1h"}},
		{"census interval malformed", map[string]string{"KYCFLOW_CENSUS_INTERVAL": "often"}, []string{"KYCFLOW_CENSUS_INTERVAL", "or 0 to turn the census off"}},
		{"unknown compression", map[string]string{"TEMPORAL_GRPC_COMPRESSION": "zstd"}, []string{`TEMPORAL_GRPC_COMPRESSION="zstd": want none or gzip`}},
		{"solaris half configured", map[string]string{"SOLARIS_BASE_URL": "https://api.solaris-sandbox.de"},
			[]string{"SOLARIS_TOKEN_URL is required", "SOLARIS_CLIENT_ID is required", "SOLARIS_CLIENT_SECRET (or SOLARIS_CLIENT_SECRET_FILE) is required"}},
		{"yousign without key", map[string]string{"YOUSIGN_BASE_URL": "https://api-sandbox.yousign.app/v3"},
			[]string{"YOUSIGN_API_KEY (or YOUSIGN_API_KEY_FILE) is required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := validEnv()
			for k, v := range tc.change {
				vars[k] = v
			}
			_, err := worker.LoadConfig(env(vars))
			require.Error(t, err)
			for _, want := range tc.wantErr {
				require.Contains(t, err.Error(), want)
			}
			require.NotContains(t, err.Error(), "s3cret-value", "secrets never appear in errors")
		})
	}
}

func TestLoadConfigSecretFromFile(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("from-file\n"), 0o600))
	vars := validEnv()
	vars["TREEZOR_CLIENT_SECRET"] = ""
	vars["TREEZOR_CLIENT_SECRET_FILE"] = secretFile
	cfg, err := worker.LoadConfig(env(vars))
	require.NoError(t, err)
	require.Equal(t, "from-file", cfg.Treezor.ClientSecret)
}

func TestConfigErrorListsEveryProblem(t *testing.T) {
	_, err := worker.LoadConfig(env(map[string]string{"TREEZOR_BASE_URL": "https://acme.sandbox.treezor.co", "KYCFLOW_LOG_LEVEL": "loud"}))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 3, "log level, client id and secret reported at once: %v", err)
}

func TestLoadConfigProvidersAreOptional(t *testing.T) {
	cfg, err := worker.LoadConfig(env(map[string]string{
		"YOUSIGN_BASE_URL": "https://api-sandbox.yousign.app/v3", "YOUSIGN_API_KEY": "key",
		"KYCFLOW_PAYLOAD_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)),
	}))
	require.NoError(t, err)
	require.Empty(t, cfg.Treezor.BaseURL)
	require.Equal(t, "key", cfg.Yousign.APIKey)
}

// TestLoadConfigYousignNeedsAPayloadKey: Yousign puts the user's names in the workflow input, so a worker with
// Yousign and no payload key refuses to start, naming the switch for synthetic data; with the switch it starts.
func TestLoadConfigYousignNeedsAPayloadKey(t *testing.T) {
	yousign := map[string]string{"YOUSIGN_BASE_URL": "https://api-sandbox.yousign.app/v3", "YOUSIGN_API_KEY": "key"}
	_, err := worker.LoadConfig(env(yousign))
	require.ErrorContains(t, err, "KYCFLOW_PAYLOAD_KEY is not")
	require.ErrorContains(t, err, worker.EnvAllowPlaintextPII+"=true")

	yousign[worker.EnvAllowPlaintextPII] = "true"
	_, err = worker.LoadConfig(env(yousign))
	require.NoError(t, err)
}

// TestLoadConfigRefusesABlankSecret: a client secret of spaces is no secret; it stops the worker at start.
func TestLoadConfigRefusesABlankSecret(t *testing.T) {
	_, err := worker.LoadConfig(env(map[string]string{
		"TREEZOR_BASE_URL": "https://sandbox.treezor.example", "TREEZOR_CLIENT_ID": "id", "TREEZOR_CLIENT_SECRET": "   ",
	}))
	require.ErrorContains(t, err, "TREEZOR_CLIENT_SECRET is blank")
}
