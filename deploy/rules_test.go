// Package deploy_test checks the operations files in deploy/ against the code: every alert rule and every
// dashboard query parses as PromQL and names only metrics that kycflow's worker, its relay or the Temporal SDK
// export, so a renamed metric cannot leave an alert silently watching nothing.
package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/kycflow/kycflow/internal/census"
	"github.com/kycflow/kycflow/relay"
	"github.com/kycflow/kycflow/workflows"
)

// exported are the metric names a scrape of kycflow's processes can hold, with the series a histogram or a
// counter adds to its name.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	add := func(base string) {
		for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
			names[base+suffix] = true
		}
	}
	for _, n := range slices.Concat(workflows.WorkflowMetricNames(), relay.MetricNames(), census.MetricNames()) {
		add(n)
	}
	// The SDK's names, from its source: the tally handler kycflow uses adds _total to counters and _seconds to
	// timers (sdktally.NewPrometheusNamingScope).
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	require.NoError(t, err, "find the SDK's module")
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "common", "metrics", "constants.go"))
	require.NoError(t, err)
	sdk := regexp.MustCompile(`TemporalMetricsPrefix \+ "([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	require.NotEmpty(t, sdk, "the SDK's metric names")
	for _, m := range sdk {
		base := "temporal_" + m[1]
		for _, n := range []string{base, base + "_total", base + "_seconds", base + "_failure_total", base + "_latency_seconds"} {
			add(n)
		}
	}
	return names
}

// metricNames are the metrics an expression selects.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	require.NoError(t, err, "expression:\n%s", expr)
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			require.NotEmpty(t, vs.Name, "every selector names its metric: %s", vs)
			out = append(out, vs.Name)
		}
		return nil
	})
	require.NotEmpty(t, out, "expression selects no metric:\n%s", expr)
	return out
}

func TestAlertRules(t *testing.T) {
	names := exported(t)
	b, err := os.ReadFile(filepath.Join("prometheus", "alerts.yml"))
	require.NoError(t, err)
	// Prometheus' rule file format (rulefmt); decoded strictly, so a misspelt key fails here as it would in
	// Prometheus.
	var groups struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&groups))
	var count int
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			count++
			t.Run(r.Alert, func(t *testing.T) {
				require.NotEmpty(t, r.Alert, "an alert rule, not a recording rule")
				require.NotEmpty(t, r.Annotations["runbook"], "says what to do when it fires")
				require.NotEmpty(t, r.Labels["severity"])
				for _, n := range metricNames(t, r.Expr) {
					require.True(t, names[n], "%s names %s, which nothing exports", r.Alert, n)
				}
			})
		}
	}
	require.GreaterOrEqual(t, count, 5)
}

func TestDashboards(t *testing.T) {
	names := exported(t)
	files, err := filepath.Glob(filepath.Join("grafana", "dashboards", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 2, "the funnel and the operations dashboards")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			var d struct {
				UID    string `json:"uid"`
				Panels []struct {
					Title   string `json:"title"`
					Targets []struct {
						Expr string `json:"expr"`
					} `json:"targets"`
				} `json:"panels"`
			}
			require.NoError(t, json.Unmarshal(b, &d))
			require.NotEmpty(t, d.UID)
			require.NotEmpty(t, d.Panels)
			// Grafana's variables, replaced as Grafana would before the query reaches Prometheus.
			vars := strings.NewReplacer(`$__range`, `1d`, `$method`, `.*`)
			for _, p := range d.Panels {
				require.NotEmpty(t, p.Targets, "panel %q queries something", p.Title)
				for _, target := range p.Targets {
					for _, n := range metricNames(t, vars.Replace(target.Expr)) {
						require.True(t, names[n], "panel %q names %s, which nothing exports", p.Title, n)
					}
				}
			}
		})
	}
}
