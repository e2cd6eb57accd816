package worker_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/relay"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/worker"
)

// TestComposeMatchesContract keeps docker-compose.yml in step with the code, since no Docker engine runs here to
// try it: every search attribute the workflows upsert is registered, and the worker gets every required setting.
func TestComposeMatchesContract(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))

	register := strings.Join(compose.Services["search-attributes"].Command, " ")
	for _, key := range signals.SearchAttributes {
		require.Contains(t, register, key.GetName(), "docker-compose registers search attribute %s", key.GetName())
	}
	workerEnv := compose.Services["worker"].Environment
	for _, name := range []string{worker.EnvTemporalAddress, worker.EnvTemporalNamespace, worker.EnvTreezorBaseURL,
		worker.EnvTreezorClientID, worker.EnvTreezorClientSecret} {
		require.Contains(t, workerEnv, name, "docker-compose passes %s to the worker", name)
	}
	require.Equal(t, "temporal:7233", workerEnv[worker.EnvTemporalAddress])

	// Temporal is not an open door: whoever reaches the frontend or the UI's write actions can signal a decision.
	for _, svc := range []string{"temporal", "temporal-ui"} {
		for _, p := range compose.Services[svc].Ports {
			require.True(t, strings.HasPrefix(p, "127.0.0.1:"), "%s publishes %s beyond loopback", svc, p)
		}
	}
	require.Equal(t, "${TEMPORAL_DISABLE_WRITE_ACTIONS:-true}", compose.Services["temporal-ui"].Environment["TEMPORAL_DISABLE_WRITE_ACTIONS"],
		"the UI is read-only unless authentication is configured")
	for _, name := range []string{worker.EnvSolarisBaseURL, worker.EnvYousignBaseURL, worker.EnvYousignAPIKey, payloadcodec.EnvKey} {
		require.Contains(t, workerEnv, name, "docker-compose passes %s to the worker", name)
	}
	relayEnv := compose.Services["relay"].Environment
	for _, name := range []string{relay.EnvTemporalAddress, relay.EnvAddr, payloadcodec.EnvKey,
		"TREEZOR_WEBHOOK_SECRETS", "SOLARIS_WEBHOOK_SECRETS", "YOUSIGN_WEBHOOK_SECRETS"} {
		require.Contains(t, relayEnv, name, "docker-compose passes %s to the relay", name)
	}
}
