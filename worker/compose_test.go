package worker_test

import (
	"os"
	"regexp"
	"strconv"
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

// TestComposeRunsTheClusterConfig: docker-compose.yml runs Temporal's server from the same config and dynamic
// config files as `make cluster` (deploy/temporal, mounted), and the two agree on what kycflow relies on: the
// frontend's port and mTLS, the certificates every client presents, PostgreSQL, the dynamic config, and the search
// attributes. No Docker engine runs here, so the compose file is checked against the files, and the files are what
// `make cluster` and `make chaos` run.
func TestComposeRunsTheClusterConfig(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	require.NoError(t, err)
	type service struct {
		Entrypoint  []string          `yaml:"entrypoint"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
	}
	var compose struct {
		Services map[string]service `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))
	temporal := compose.Services["temporal"]
	mounts := map[string]string{}
	for _, v := range temporal.Volumes {
		parts := strings.Split(v, ":")
		mounts[parts[0]] = parts[1]
	}
	configTarget, dynamicTarget := mounts["./deploy/temporal/config/cluster.yaml"], mounts["./deploy/temporal/dynamicconfig.yaml"]
	require.Equal(t, "/etc/temporal/config/cluster.yaml", configTarget, "the server reads deploy/temporal's config")
	require.NotEmpty(t, dynamicTarget, "the server reads deploy/temporal's dynamic config")
	entry := strings.Join(temporal.Entrypoint, " ")
	require.Contains(t, entry, "--root /etc/temporal --config config --env cluster", "the mounted file is the config the server loads")
	env := temporal.Environment
	require.Equal(t, dynamicTarget, env["KYCFLOW_TEMPORAL_DYNAMIC_CONFIG"])
	certsDir := mounts["temporal-certs"]
	require.Equal(t, certsDir, env["KYCFLOW_TLS_DIR"], "the server's certificates are the certs service's")

	// The config as the server renders it with compose's environment.
	tmpl, err := os.ReadFile("../deploy/temporal/config/cluster.yaml")
	require.NoError(t, err)
	rendered := renderEnvTemplate(t, string(tmpl), env)
	var cfg struct {
		Persistence struct {
			Datastores map[string]struct {
				SQL struct {
					ConnectAddr string `yaml:"connectAddr"`
				} `yaml:"sql"`
			} `yaml:"datastores"`
		} `yaml:"persistence"`
		Global struct {
			TLS struct {
				Frontend struct {
					Server struct {
						CertFile          string   `yaml:"certFile"`
						RequireClientAuth bool     `yaml:"requireClientAuth"`
						ClientCAFiles     []string `yaml:"clientCaFiles"`
					} `yaml:"server"`
				} `yaml:"frontend"`
			} `yaml:"tls"`
		} `yaml:"global"`
		Services map[string]struct {
			RPC struct {
				GRPCPort int `yaml:"grpcPort"`
			} `yaml:"rpc"`
		} `yaml:"services"`
		DynamicConfigClient struct {
			Filepath string `yaml:"filepath"`
		} `yaml:"dynamicConfigClient"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(rendered), &cfg))
	for name, ds := range cfg.Persistence.Datastores {
		require.Equal(t, "postgresql:5432", ds.SQL.ConnectAddr, "datastore %s is compose's PostgreSQL", name)
	}
	require.True(t, cfg.Global.TLS.Frontend.Server.RequireClientAuth, "the frontend asks every client for a certificate")
	require.Equal(t, certsDir+"/server.pem", cfg.Global.TLS.Frontend.Server.CertFile)
	require.Equal(t, []string{certsDir + "/ca.pem"}, cfg.Global.TLS.Frontend.Server.ClientCAFiles)
	require.Equal(t, dynamicTarget, cfg.DynamicConfigClient.Filepath)
	port := strconv.Itoa(cfg.Services["frontend"].RPC.GRPCPort)
	require.Equal(t, []string{"127.0.0.1:" + port + ":" + port}, temporal.Ports, "the frontend's port, on loopback")

	// Every client presents the certs service's client certificate and trusts its CA.
	for _, name := range []string{"worker", "relay"} {
		svcEnv := compose.Services[name].Environment
		require.Equal(t, "temporal:"+port, svcEnv["TEMPORAL_ADDRESS"], name)
		require.Equal(t, certsDir+"/client.pem", svcEnv["TEMPORAL_TLS_CLIENT_CERT_PATH"], name)
		require.Equal(t, certsDir+"/client-key.pem", svcEnv["TEMPORAL_TLS_CLIENT_KEY_PATH"], name)
		require.Equal(t, certsDir+"/ca.pem", svcEnv["TEMPORAL_TLS_SERVER_CA_CERT_PATH"], name)
		require.Contains(t, compose.Services[name].Volumes, "temporal-certs:"+certsDir+":ro", name)
	}

	// The dynamic config is well formed: every key a list of values with optional constraints.
	dyn, err := os.ReadFile("../deploy/temporal/dynamicconfig.yaml")
	require.NoError(t, err)
	var values map[string][]struct {
		Value       any            `yaml:"value"`
		Constraints map[string]any `yaml:"constraints"`
	}
	require.NoError(t, yaml.Unmarshal(dyn, &values))
	require.Contains(t, values, "frontend.namespaceRPS.visibility", "the visibility limit is stated, not left implicit")
	// On, every use of a search attribute re-reads the cluster metadata from the database: 21 more database calls
	// per live verification on the cluster (issue 18's benchmark).
	for _, v := range values["system.forceSearchAttributesCacheRefreshOnRead"] {
		require.Equal(t, false, v.Value, "the search attribute cache stays on, as in production")
	}

	// The search attributes compose registers are exactly the workflows'.
	register := strings.Join(compose.Services["search-attributes"].Command, " ")
	var names []string
	for _, key := range signals.SearchAttributes {
		names = append(names, key.GetName())
	}
	require.Contains(t, register, "for name in "+strings.Join(names, " ")+";")
}

// renderEnvTemplate renders the server config's `{{ env "X" | default "Y" }}` placeholders as the server (sprig)
// does, and fails on any other template action.
func renderEnvTemplate(t *testing.T, text string, env map[string]string) string {
	t.Helper()
	re := regexp.MustCompile(`\{\{\s*env\s+"([A-Z0-9_]+)"\s*\|\s*default\s+"([^"]*)"\s*\}\}`)
	out := re.ReplaceAllStringFunc(text, func(m string) string {
		sub := re.FindStringSubmatch(m)
		if v, ok := env[sub[1]]; ok && v != "" {
			return v
		}
		return sub[2]
	})
	require.NotContains(t, out, "{{", "only env/default placeholders")
	return out
}

// TestComposeOperations: the compose stack's operations match `make run`'s and `make cluster`'s: the UI calls the
// codec server with its cookie, the codec server holds the workers' key and serves on loopback, the worker exports
// metrics where the compose Prometheus scrapes them, and Prometheus and Grafana load deploy/'s rules and dashboards.
func TestComposeOperations(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Profiles    []string                         `yaml:"profiles"`
			Build       struct{ Args map[string]string } `yaml:"build"`
			Environment map[string]string                `yaml:"environment"`
			Ports       []string                         `yaml:"ports"`
			Volumes     []string                         `yaml:"volumes"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))
	ui := compose.Services["temporal-ui"].Environment
	require.Equal(t, "true", ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"])
	codec := compose.Services["codec"]
	require.Equal(t, "kycflow-codec", codec.Build.Args["COMMAND"])
	require.Contains(t, codec.Environment, payloadcodec.EnvKey)
	require.Contains(t, codec.Environment["KYCFLOW_CODEC_CORS_ORIGINS"], "http://localhost:8080", "the UI's origin")
	require.Contains(t, ui["TEMPORAL_CODEC_ENDPOINT"], ":8089")
	for _, svc := range []string{"codec", "prometheus", "grafana"} {
		for _, p := range compose.Services[svc].Ports {
			require.True(t, strings.HasPrefix(p, "127.0.0.1:"), "%s publishes %s beyond loopback", svc, p)
		}
	}

	metricsAddr := compose.Services["worker"].Environment[worker.EnvMetricsAddr]
	require.NotEmpty(t, metricsAddr, "the worker exports metrics")
	_, port, _ := strings.Cut(metricsAddr, ":")
	scrape, err := os.ReadFile("../deploy/prometheus/compose.yml")
	require.NoError(t, err)
	// Every replica of a scaled service is its own target (DNS service discovery), on the port it listens on.
	var prom struct {
		ScrapeConfigs []struct {
			JobName      string `yaml:"job_name"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(scrape, &prom))
	targets := map[string]string{}
	for _, sc := range prom.ScrapeConfigs {
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				targets[n] = strconv.Itoa(d.Port)
			}
		}
	}
	require.Equal(t, port, targets["worker"], "Prometheus scrapes every worker's metrics port")
	_, relayPort, _ := strings.Cut(compose.Services["relay"].Environment["KYCFLOW_RELAY_ADMIN_ADDR"], ":")
	require.Equal(t, relayPort, targets["relay"], "Prometheus scrapes every relay's admin port")
	mounts := strings.Join(append(compose.Services["prometheus"].Volumes, compose.Services["grafana"].Volumes...), " ")
	for _, f := range []string{"./deploy/prometheus/alerts.yml", "./deploy/prometheus/compose.yml", "./deploy/grafana/dashboards", "./deploy/grafana/provisioning"} {
		require.Contains(t, mounts, f)
	}
}
