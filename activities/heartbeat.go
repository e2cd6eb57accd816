package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// HeartbeatInterval is how often a provider call tells Temporal it is alive. Temporal answers a heartbeat with the
// activity's cancellation, so a verification cancelled by the backend or closed by an operator stops its provider
// call within this long instead of running its attempt (up to 30 s, in-process retries included) to the end.
// Workflows set the activities' HeartbeatTimeout above it.
const HeartbeatInterval = 2 * time.Second

// heartbeating records a heartbeat every HeartbeatInterval until stop is called; outside an activity (a direct
// call in a test) it does nothing. The SDK throttles heartbeats and cancels ctx when Temporal reports the
// activity cancelled, which aborts the HTTP request in flight.
func heartbeating(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
