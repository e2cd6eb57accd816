package temporalconn

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
)

// TestActivityErrorLevels: a failed attempt the retry policy retries (a provider's 503) is a warning; one no retry
// fixes (a rejected credential) stays an error; any other error line is left alone.
func TestActivityErrorLevels(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		err  error
		want string
	}{
		{"retryable attempt", activityErrorMessage, temporal.NewApplicationError("treezor: HTTP 503", "ProviderUnavailable"), "WARN"},
		{"non-retryable", activityErrorMessage, temporal.NewNonRetryableApplicationError("treezor: HTTP 401", "ProviderUnauthorized", nil), "ERROR"},
		{"not an application error", activityErrorMessage, errors.New("panic"), "ERROR"},
		{"another message", "Workflow panic", temporal.NewApplicationError("x", "y"), "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := newSDKLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
			// The SDK derives its loggers with log.With; the wrapper must survive that.
			tlog.With(l, "ActivityType", "Initiate").Error(tt.msg, "Attempt", 2, "Error", tt.err)
			var rec map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
			require.Equal(t, tt.want, rec["level"])
			require.Equal(t, "Initiate", rec["ActivityType"])
		})
	}
}
