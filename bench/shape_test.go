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

// TestShapeBillsMarkersByKind: Temporal Cloud bills a side effect as its marker, and "all Local Activities
// associated with one Workflow Task" as one action (it "counts all RecordMarkers from each Workflow Task as one
// action"); a version marker is not billed.
func TestShapeBillsMarkersByKind(t *testing.T) {
	type marker struct {
		name string
		task int64 // the workflow task that recorded it
	}
	tests := []struct {
		name         string
		markers      []marker
		wantShape    Shape
		wantBillable int
	}{
		{"a local activity", []marker{{"LocalActivity", 4}}, Shape{Events: 1, Markers: 1, LocalActivities: 1, LocalActivityTasks: 1}, 2},
		{"two local activities in one task", []marker{{"LocalActivity", 4}, {"LocalActivity", 4}},
			Shape{Events: 2, Markers: 2, LocalActivities: 2, LocalActivityTasks: 1}, 2},
		{"local activities in two tasks", []marker{{"LocalActivity", 4}, {"LocalActivity", 9}},
			Shape{Events: 2, Markers: 2, LocalActivities: 2, LocalActivityTasks: 2}, 3},
		{"a side effect", []marker{{"SideEffect", 4}}, Shape{Events: 1, Markers: 1, SideEffects: 1}, 2},
		{"a mutable side effect", []marker{{"MutableSideEffect", 4}}, Shape{Events: 1, Markers: 1, SideEffects: 1}, 2},
		{"a version", []marker{{"Version", 4}}, Shape{Events: 1, Markers: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Shape
			for _, m := range tt.markers {
				s.add(&historypb.HistoryEvent{
					EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
					Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
						MarkerName: m.name, WorkflowTaskCompletedEventId: m.task}},
				})
			}
			s.HistoryBytes, s.lastLocalActivityTask = 0, 0
			require.Equal(t, tt.wantShape, s)
			require.Equal(t, tt.wantBillable, s.Billable(), "the start and the markers' actions")
		})
	}
}

// TestMedianShape: the table shows the median flow by billable actions, then events, and the range of the flows
// read back, so that one flow that started a timer or two more than the others does not stand for all.
func TestMedianShape(t *testing.T) {
	flow := func(timers, events int) Shape { return Shape{Timers: timers, Events: events} }
	tests := []struct {
		name       string
		shapes     []Shape
		want       Shape
		wantSpread ShapeSpread
	}{
		{"none", nil, Shape{}, ShapeSpread{}},
		{"one", []Shape{flow(2, 50)}, flow(2, 50), ShapeSpread{3, 3, 50, 50}},
		{"odd", []Shape{flow(3, 56), flow(0, 40), flow(1, 45)}, flow(1, 45), ShapeSpread{1, 4, 40, 56}},
		{"ties broken by events", []Shape{flow(1, 47), flow(1, 44), flow(1, 46)}, flow(1, 46), ShapeSpread{2, 2, 44, 47}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, spread := medianShape(tt.shapes)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantSpread, spread)
		})
	}
}

// TestSampledFlows: exactly shapeSamples flows are read back, spread over all of them, or every flow of fewer.
func TestSampledFlows(t *testing.T) {
	tests := []struct {
		flows int
		want  []int
	}{
		{200, []int{0, 22, 44, 66, 88, 111, 133, 155, 177}},
		{17, []int{0, 1, 3, 5, 7, 9, 11, 13, 15}},
		{9, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{4, []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		var got []int
		for i := range tt.flows {
			if sampledFlow(i, tt.flows) {
				got = append(got, i)
			}
		}
		require.Equal(t, tt.want, got, "%d flows", tt.flows)
	}
}
