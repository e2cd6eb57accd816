package bench

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// TestShapeCountsARecordedHistory counts a live verification recorded on the dev server. The expected figures were
// counted in the JSON file itself, by event type; the version marker's TemporalChangeVersion upsert is not billed.
func TestShapeCountsARecordedHistory(t *testing.T) {
	f, err := os.Open("../workflows/testdata/treezor-liveness-approved-di9.json")
	require.NoError(t, err)
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	var s Shape
	for _, e := range h.GetEvents() {
		s.add(e)
	}
	s.HistoryBytes = 0 // the stored size, not what this test checks
	require.Equal(t, Shape{Events: 67, Signals: 5, Activities: 5, WorkflowTasks: 10, Timers: 2, Upserts: 6, VersionUpserts: 1,
		Updates: 2, ActivityAttempts: 5, Markers: 1}, s)
	require.Equal(t, 1+5+2+5+2+5, s.Billable(), "start, signals, updates, activity attempts, timers, upserts but the version's")
}
