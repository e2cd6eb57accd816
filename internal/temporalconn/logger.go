package temporalconn

import (
	"errors"
	"log/slog"

	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
)

// sdkLogger is the SDK's logger over slog, with one change: the SDK logs every failed activity attempt as
// "Activity error." at ERROR. A provider's 503 or 429 is retried by the activity's retry policy and ends in an
// outcome the workflow logs, so each attempt is a warning, not an error an operator is paged for. Errors no retry
// fixes keep ERROR (a rejected credential, an unknown user: someone must act), except those the provider clients
// mark benign (a user's incomplete data), which the SDK itself logs at DEBUG.
type sdkLogger struct{ tlog.Logger }

// newSDKLogger wraps an slog logger for the Temporal client.
func newSDKLogger(l *slog.Logger) tlog.Logger { return sdkLogger{tlog.NewStructuredLogger(l)} }

// The SDK's message for a failed activity attempt (internal_task_handlers.go).
const activityErrorMessage = "Activity error."

func (l sdkLogger) Error(msg string, keyvals ...any) {
	if msg == activityErrorMessage && retryableFailure(keyvals) {
		l.Logger.Warn(msg, keyvals...)
		return
	}
	l.Logger.Error(msg, keyvals...)
}

// With keeps the wrapper on the loggers the SDK derives for each workflow and activity.
func (l sdkLogger) With(keyvals ...any) tlog.Logger {
	return sdkLogger{tlog.With(l.Logger, keyvals...)}
}

// WithCallerSkip keeps the source location the SDK asks for.
func (l sdkLogger) WithCallerSkip(depth int) tlog.Logger {
	if s, ok := l.Logger.(tlog.WithSkipCallers); ok {
		return sdkLogger{s.WithCallerSkip(depth)}
	}
	return l
}

// retryableFailure reports whether the log line's error is an application error the retry policy may retry.
func retryableFailure(keyvals []any) bool {
	for _, v := range keyvals {
		err, ok := v.(error)
		if !ok {
			continue
		}
		var appErr *temporal.ApplicationError
		return errors.As(err, &appErr) && !appErr.NonRetryable()
	}
	return false
}
