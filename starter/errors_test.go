package starter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/workflows"
)

func TestClassify(t *testing.T) {
	live := context.Background()
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	almostExpired, cancelSoon := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelSoon()
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	appErr := func(typ string) error {
		return temporal.NewNonRetryableApplicationError("identification could not be started", typ, nil)
	}
	tests := []struct {
		name      string
		ctx       context.Context
		err       error
		want      Kind
		wantCause string
	}{
		{"user data incomplete", live, appErr(signals.CauseUserDataIncomplete), ErrUserDataIncomplete, signals.CauseUserDataIncomplete},
		{"provider unavailable", live, appErr(signals.CauseProviderUnavailable), ErrProviderUnavailable, signals.CauseProviderUnavailable},
		{"provider rejected", live, appErr(signals.CauseProviderRejected), ErrProviderRejected, signals.CauseProviderRejected},
		{"method mismatch", live, appErr(workflows.ErrTypeMethodMismatch), ErrMethodMismatch, workflows.ErrTypeMethodMismatch},
		{"invalid input in the workflow", live, appErr(workflows.ErrTypeInvalidInput), ErrInvalidRequest, workflows.ErrTypeInvalidInput},
		{"cancelled while initiating (no cause)", live, appErr(""), ErrClosed, ""},
		{"the workflow's answer beats a passed deadline", expired, appErr(signals.CauseUserDataIncomplete), ErrUserDataIncomplete, signals.CauseUserDataIncomplete},
		{"wrapped application error", live, fmt.Errorf("failed workflow update: %w", appErr(workflows.ErrTypeMethodMismatch)), ErrMethodMismatch, workflows.ErrTypeMethodMismatch},
		{"not found", live, serviceerror.NewNotFound("workflow not found"), ErrNotFound, ""},
		{"unavailable", live, serviceerror.NewUnavailable("connection refused"), ErrTemporalUnavailable, ""},
		{"unavailable until the deadline", expired, serviceerror.NewUnavailable("connection refused"), ErrTemporalUnavailable, ""},
		{"long poll cut short by the caller's deadline", expired, serviceerror.NewUnavailable("context deadline exceeded"), ErrTimeout, ""},
		{"server-side deadline", live, serviceerror.NewDeadlineExceeded("context deadline exceeded"), ErrTemporalUnavailable, ""},
		{"caller's deadline (gRPC)", expired, serviceerror.NewDeadlineExceeded("context deadline exceeded"), ErrTimeout, ""},
		{"caller's deadline (context)", expired, context.DeadlineExceeded, ErrTimeout, ""},
		{"update poll timed out with the caller", expired, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewDeadlineExceeded("x")), ErrTimeout, ""},
		{"update poll timed out on its own", live, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewDeadlineExceeded("x")), ErrTemporalUnavailable, ""},
		{"update poll against a dead frontend", expired, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewUnavailable("x")), ErrTemporalUnavailable, ""},
		{"the frontend gave up just before the caller's deadline", almostExpired, serviceerror.NewDeadlineExceeded("context deadline exceeded"), ErrTimeout, ""},
		{"a refused connection just before the caller's deadline", almostExpired, serviceerror.NewUnavailable("connection refused"), ErrTemporalUnavailable, ""},
		{"a query that failed just before the caller's deadline", almostExpired, serviceerror.NewQueryFailed("panic"), ErrUnexpected, ""},
		{"caller cancelled", cancelled, context.Canceled, ErrCanceled, ""},
		{"caller cancelled (gRPC)", cancelled, serviceerror.NewCanceled("canceled"), ErrCanceled, ""},
		// A restarted server answers it for a moment before its namespace registry is loaded (seen in `make chaos`):
		// a backend retries it like an outage; the message still says to check the namespace.
		{"namespace not found", live, serviceerror.NewNamespaceNotFound("prod"), ErrTemporalUnavailable, ""},
		{"query failed", live, serviceerror.NewQueryFailed("unknown queryType status"), ErrUnexpected, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := error(classify(tc.ctx, "start", "kyc/treezor/1", tc.err))
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.want, e.Kind)
			require.Equal(t, tc.wantCause, e.Cause)
			require.Equal(t, "kyc/treezor/1", e.WorkflowID)
			require.ErrorIs(t, err, tc.want, "errors.Is reaches the kind")
			require.ErrorIs(t, err, tc.err, "errors.Is reaches the underlying error")
			for _, other := range []Kind{ErrNotFound, ErrTimeout, ErrUserDataIncomplete} {
				if other != tc.want {
					require.NotErrorIs(t, err, other)
				}
			}
			require.True(t, strings.HasPrefix(err.Error(), "start kyc/treezor/1: "+tc.want.Error()+": "), err.Error())
		})
	}

	t.Run("an *Error is kept as is", func(t *testing.T) {
		orig := &Error{Kind: ErrClosed, Op: "cancel"}
		require.Same(t, orig, classify(live, "renew", "", fmt.Errorf("context: %w", orig)))
	})
	t.Run("the application error stays reachable", func(t *testing.T) {
		err := error(classify(live, "start", "", appErr(signals.CauseUserDataIncomplete)))
		var ae *temporal.ApplicationError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, signals.CauseUserDataIncomplete, ae.Type())
	})
}

func TestErrorTypesMatchTheWorkflows(t *testing.T) {
	require.Equal(t, workflows.ErrTypeInvalidInput, errTypeInvalidInput)
	require.Equal(t, workflows.ErrTypeMethodMismatch, errTypeMethodMismatch)
	require.Equal(t, workflows.ErrTypeOperatorActionRejected, errTypeOperatorActionRejected)
	require.Equal(t, workflows.ErrTypeNoURL, errTypeNoURL)
}

func TestValidate(t *testing.T) {
	ok := signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "123456"}
	with := func(f func(*signals.VerificationInput)) signals.VerificationInput {
		in := ok
		f(&in)
		return in
	}
	tests := []struct {
		name      string
		in        signals.VerificationInput
		wantField string // empty: valid
	}{
		{"minimal", ok, ""},
		{"every option", with(func(in *signals.VerificationInput) {
			in.Method, in.RedirectURL, in.Language = signals.MethodSolarisIDnow, "https://app.example/done", "DE"
			in.Deadlines = signals.Deadlines{URLValidity: signals.Duration(time.Hour), Review: signals.Duration(2 * time.Hour)}
		}), ""},
		{"yousign with names", with(func(in *signals.VerificationInput) {
			in.Method, in.Yousign, in.MaxAttempts = signals.MethodYousignVideo, &signals.YousignPerson{FirstName: "Ada", LastName: "Lovelace"}, 3
			in.RedirectURL = "https://app.example/done"
		}), ""},
		{"no method", with(func(in *signals.VerificationInput) { in.Method = "" }), "method"},
		{"unknown method", with(func(in *signals.VerificationInput) { in.Method = "treezor" }), "method"},
		{"no subject", with(func(in *signals.VerificationInput) { in.SubjectID = "" }), "subjectId"},
		{"subject with a slash", with(func(in *signals.VerificationInput) { in.SubjectID = "12/34" }), "subjectId"},
		{"subject with a space", with(func(in *signals.VerificationInput) { in.SubjectID = "12 34" }), "subjectId"},
		{"subject too long", with(func(in *signals.VerificationInput) { in.SubjectID = strings.Repeat("9", 201) }), "subjectId"},
		{"yousign without names", with(func(in *signals.VerificationInput) { in.Method = signals.MethodYousignVideo }), "yousign"},
		{"yousign without last name", with(func(in *signals.VerificationInput) {
			in.Method, in.Yousign = signals.MethodYousignVideo, &signals.YousignPerson{FirstName: "Ada"}
		}), "yousign"},
		{"yousign without redirect URL", with(func(in *signals.VerificationInput) {
			in.Method, in.Yousign = signals.MethodYousignVideo, &signals.YousignPerson{FirstName: "Ada", LastName: "Lovelace"}
		}), "redirectUrl"},
		{"negative attempts", with(func(in *signals.VerificationInput) { in.MaxAttempts = -1 }), "maxAttempts"},
		{"language", with(func(in *signals.VerificationInput) { in.Language = "fr" }), "language"},
		{"negative URL validity", with(func(in *signals.VerificationInput) { in.Deadlines.URLValidity = -1 }), "deadlines.urlValidity"},
		{"negative review bound", with(func(in *signals.VerificationInput) { in.Deadlines.Review = -1 }), "deadlines.review"},
		{"negative verification bound", with(func(in *signals.VerificationInput) { in.Deadlines.Verification = -1 }), "deadlines.verification"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.in)
			if tc.wantField == "" {
				require.NoError(t, err)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, ErrInvalidRequest)
			require.Equal(t, tc.wantField, e.Field)
		})
	}
}

func TestStartRejectsInvalidInputWithoutCallingTemporal(t *testing.T) {
	s := &Starter{} // a nil client: any call to Temporal would panic
	_, _, err := s.Start(context.Background(), signals.VerificationInput{Method: signals.MethodTreezorQES})
	require.ErrorIs(t, err, ErrInvalidRequest)
	_, _, err = s.Renew(context.Background(), signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "u1"})
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "yousign", e.Field)
	require.Equal(t, "renew", e.Op)
	_, err = s.List(context.Background(), ListRequest{Outcome: "approve"})
	require.ErrorIs(t, err, ErrInvalidRequest)
}

func TestKindsAreDistinctAndDescribed(t *testing.T) {
	seen := map[string]Kind{}
	for k, text := range kindText {
		require.NotEmpty(t, text)
		require.Equal(t, text, k.Error())
		require.NotContains(t, seen, text, "two kinds read the same")
		seen[text] = k
	}
	require.True(t, errors.Is(&Error{Kind: ErrNotFound}, ErrNotFound))
	require.False(t, errors.Is(&Error{Kind: ErrNotFound}, ErrClosed))
}

func TestParseVerification(t *testing.T) {
	tests := []struct {
		id      string
		valid   bool
		subject string
	}{
		{"kyc/treezor/123456", true, "123456"},
		{"kyc/solaris/4f3c9a0e", true, "4f3c9a0e"},
		{"kyc/yousign/user-42", true, "user-42"},
		{"kyc/treezor/", false, ""},
		{"kyc/treezor", false, ""},
		{"kyc/onfido/1", false, ""},
		{"treezor/1", false, ""},
		{"kyc/treezor/1/2", false, ""},
		{"", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			v, err := ParseVerification(tc.id)
			if !tc.valid {
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, ErrInvalidRequest, e.Kind)
				require.Equal(t, "workflowId", e.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, Verification{WorkflowID: tc.id}, v)
			_, subject, err := splitWorkflowID(tc.id)
			require.NoError(t, err)
			require.Equal(t, tc.subject, subject)
		})
	}
	require.Equal(t, Verification{WorkflowID: "kyc/treezor/9"}, VerificationFor(signals.ProviderTreezor, "9"))
}

func TestUpdateID(t *testing.T) {
	a := updateID("kyc/treezor/1", signals.MethodTreezorQES, "req-1")
	require.Equal(t, a, updateID("kyc/treezor/1", signals.MethodTreezorQES, "req-1"), "derived, not random")
	require.True(t, strings.HasPrefix(a, "identification_url/treezor-qes/"), a)
	for _, other := range []string{
		updateID("kyc/treezor/2", signals.MethodTreezorQES, "req-1"),
		updateID("kyc/treezor/1", signals.MethodTreezorLiveness, "req-1"),
		updateID("kyc/treezor/1", signals.MethodTreezorQES, "req-2"),
	} {
		require.NotEqual(t, a, other)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantField string
		wantGzip  bool
	}{
		{name: "defaults: local server, no request compression", env: map[string]string{}},
		{name: "gzip on request", env: map[string]string{"TEMPORAL_GRPC_COMPRESSION": "gzip"}, wantGzip: true},
		{name: "unknown compression", env: map[string]string{"TEMPORAL_GRPC_COMPRESSION": "brotli"}, wantField: "TEMPORAL_GRPC_COMPRESSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := OptionsFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantField != "" {
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, ErrInvalidRequest, e.Kind)
				require.Equal(t, tt.wantField, e.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "localhost:7233", o.HostPort)
			if tt.wantGzip {
				require.IsType(t, &client.GrpcCompressionGzip{}, o.ConnectionOptions.GrpcCompression)
			} else {
				require.IsType(t, &client.GrpcCompressionNone{}, o.ConnectionOptions.GrpcCompression)
			}
		})
	}
}
