package bench

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
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

// TestShapeBillsMarkersByKind: Temporal Cloud bills a local activity and a side effect as the marker the worker
// records for it; a version marker is not billed.
func TestShapeBillsMarkersByKind(t *testing.T) {
	tests := []struct {
		marker       string
		wantShape    Shape
		wantBillable int
	}{
		{"LocalActivity", Shape{Events: 1, Markers: 1, LocalActivities: 1}, 2},
		{"SideEffect", Shape{Events: 1, Markers: 1, SideEffects: 1}, 2},
		{"MutableSideEffect", Shape{Events: 1, Markers: 1, SideEffects: 1}, 2},
		{"Version", Shape{Events: 1, Markers: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.marker, func(t *testing.T) {
			var s Shape
			s.add(&historypb.HistoryEvent{
				EventType:  enumspb.EVENT_TYPE_MARKER_RECORDED,
				Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: tt.marker}},
			})
			s.HistoryBytes = 0
			require.Equal(t, tt.wantShape, s)
			require.Equal(t, tt.wantBillable, s.Billable(), "the start and the marker's action")
		})
	}
}
