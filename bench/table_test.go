package bench

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTableWaitingRows: the waiting rows print what was measured, and say so where nothing was, instead of zeros
// against their targets.
func TestTableWaitingRows(t *testing.T) {
	tests := []struct {
		name    string
		waiting Waiting
		want    []string
		notWant []string
	}{
		{"not parked", Waiting{}, []string{"not measured (-waiting 0)"}, []string{"worker RSS MB", "wake-up"}},
		{"too few to evict", Waiting{Count: 500, WorkerRSSMB: 70}, []string{"worker RSS MB, 500 waiting", "not measured (under 2000 waiting)"}, nil},
		{"measured", Waiting{Count: 100000, WorkerRSSMB: 135, WakeCached: Summary{Count: 50, P99ms: 33.8},
			WakeEvicted: Summary{Count: 50, P99ms: 60.5}, WakeRatio: 1.79},
			[]string{"worker RSS MB, 100000 waiting", "135", "(50 each)", "33.8", "60.5", "1.79"}, []string{"not measured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			PrintTable(&b, Report{Waiting: tt.waiting})
			for _, s := range tt.want {
				require.Contains(t, b.String(), s)
			}
			for _, s := range tt.notWant {
				require.NotContains(t, b.String(), s)
			}
		})
	}
}
