package bench

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentiles(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	s := l.Summarize()
	require.Equal(t, Summary{Count: 100, P50ms: 50, P99ms: 99, MaxMs: 100}, s)
	require.Equal(t, Summary{}, (&Latencies{}).Summarize())
}

func TestRSSOfThisProcess(t *testing.T) {
	rss, err := RSSBytes(os.Getpid())
	require.NoError(t, err)
	require.Greater(t, rss, int64(1<<20), "a Go test binary uses more than 1 MiB")
}

func TestFlowsBusy(t *testing.T) {
	tests := []struct {
		name  string
		flows Flows
		cpus  int
		cpuMs float64
		busy  float64
	}{
		{"two saturated cores", Flows{PerSecond: 40, CPUMsPerFlow: map[string]float64{"temporal": 40, "bench": 10}}, 2, 50, 1},
		{"a quarter of two cores", Flows{PerSecond: 10, CPUMsPerFlow: map[string]float64{"temporal": 50}}, 2, 50, 0.25},
		{"no core count", Flows{PerSecond: 10, CPUMsPerFlow: map[string]float64{"temporal": 50}}, 0, 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.cpuMs, tt.flows.CPUMs())
			require.InDelta(t, tt.busy, tt.flows.Busy(tt.cpus), 1e-9)
		})
	}
}
