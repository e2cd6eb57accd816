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
