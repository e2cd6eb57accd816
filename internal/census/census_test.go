package census_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/census"
	"github.com/kycflow/kycflow/internal/testenv"
	"github.com/kycflow/kycflow/signals"
)

// TestCensusCountsRunningVerificationsByStep runs against a real dev server: two QES verifications wait for their
// users and one is cancelled; the census counts what Temporal's visibility holds, whichever worker started them,
// and a step nobody is in counts 0.
func TestCensusCountsRunningVerificationsByStep(t *testing.T) {
	s := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var started []signals.VerificationInput
	for _, user := range []string{"810001", "810002", "810003"} {
		in := signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: user}
		v, _, err := s.Starter.Start(ctx, in)
		require.NoError(t, err)
		started = append(started, in)
		if user == "810003" {
			require.NoError(t, s.Starter.Cancel(ctx, v, "test"))
			_, err := s.Starter.Wait(ctx, v)
			require.NoError(t, err)
		} else {
			t.Cleanup(func() { _ = s.Starter.Cancel(context.Background(), v, "test done") })
		}
	}
	require.Len(t, started, 3)

	registry := prometheus.NewRegistry()
	cs, err := census.New(s.Client, "default", registry, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	gauge := func(m signals.Method, step signals.Step) float64 {
		families, err := registry.Gather()
		require.NoError(t, err)
		for _, f := range families {
			if f.GetName() != census.Metric {
				continue
			}
			for _, mt := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range mt.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["method"] == string(m) && labels["step"] == string(step) {
					return mt.GetGauge().GetValue()
				}
			}
		}
		return -1
	}
	// Visibility is eventually consistent: count again until it shows both.
	require.Eventually(t, func() bool {
		return cs.Count(ctx, 0) == nil && gauge(signals.MethodTreezorQES, signals.StepAwaitingUser) == 2
	}, 20*time.Second, 200*time.Millisecond, "two QES verifications await their users")
	require.Zero(t, gauge(signals.MethodTreezorQES, signals.StepOverdue))
	require.Zero(t, gauge(signals.MethodSolarisIDnow, signals.StepAwaitingUser))
	require.Equal(t, len(signals.Methods)*len(census.Steps), testutil.CollectAndCount(registry, census.Metric),
		"a series for every method and step, zeros included")
	families, err := registry.Gather()
	require.NoError(t, err)
	var completed float64
	for _, f := range families {
		if f.GetName() == "kycflow_census_completed_timestamp_seconds" {
			completed = f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	require.InDelta(t, float64(time.Now().Unix()), completed, 60, "when the last complete round counted")
}
