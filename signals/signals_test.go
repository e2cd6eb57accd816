package signals_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/signals"
)

func TestEveryMethodHasAProviderAndAWorkflowType(t *testing.T) {
	types := map[string]bool{}
	for _, m := range signals.Methods {
		require.NotEmpty(t, m.Provider(), m)
		require.NotEmpty(t, m.WorkflowType(), m)
		require.False(t, types[m.WorkflowType()], "workflow type %s used twice", m.WorkflowType())
		types[m.WorkflowType()] = true
		parsed, err := signals.ParseMethod(string(m))
		require.NoError(t, err)
		require.Equal(t, m, parsed)
	}
	_, err := signals.ParseMethod("treezor")
	require.ErrorContains(t, err, "treezor-liveness", "the error lists the valid methods")
}

func TestWorkflowIDIsPerProviderAndSubject(t *testing.T) {
	require.Equal(t, "kyc/treezor/123456", signals.WorkflowID(signals.MethodTreezorQES.Provider(), "123456"))
	require.Equal(t, signals.WorkflowID(signals.MethodTreezorLiveness.Provider(), "1"),
		signals.WorkflowID(signals.MethodTreezorVideoConference.Provider(), "1"), "Treezor methods share the user's ID")
}

func TestVerificationInputValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      signals.VerificationInput
		wantErr string
	}{
		{"valid", signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "123"}, ""},
		{"unknown method", signals.VerificationInput{Method: "idnow", SubjectID: "123"}, "method: unknown verification method"},
		{"empty subject", signals.VerificationInput{Method: signals.MethodTreezorLiveness}, "subjectId: subject ID is empty"},
		{"slash in subject", signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "1/2"}, "subjectId"},
		{"space in subject", signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "jane doe"}, "subjectId"},
		{"non-ASCII subject", signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "josé"}, "subjectId"},
		{"negative deadline", signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "1",
			Deadlines: signals.Deadlines{Review: signals.Duration(-time.Hour)}}, "deadlines.review"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestDeadlineDefaults(t *testing.T) {
	tests := []struct {
		method                   signals.Method
		url, review, verifyWhole time.Duration
	}{
		{signals.MethodTreezorLiveness, 15 * time.Minute, 24 * time.Hour, 0},
		{signals.MethodTreezorQES, 14 * 24 * time.Hour, 24 * time.Hour, 0},
		{signals.MethodTreezorVideoConference, 14 * 24 * time.Hour, 24 * time.Hour, 0},
		{signals.MethodSolarisIDnow, 14 * 24 * time.Hour, 24 * time.Hour, 0},
		{signals.MethodYousignVideo, 15 * time.Minute, 24 * time.Hour, 7 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(string(tc.method), func(t *testing.T) {
			d := signals.Deadlines{}.WithDefaults(tc.method)
			require.Equal(t, tc.url, time.Duration(d.URLValidity))
			require.Equal(t, tc.review, time.Duration(d.Review))
			require.Equal(t, tc.verifyWhole, time.Duration(d.Verification))
		})
	}
	custom := signals.Deadlines{Review: signals.Duration(time.Hour)}.WithDefaults(signals.MethodTreezorLiveness)
	require.Equal(t, time.Hour, time.Duration(custom.Review), "an operator's value is kept")
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		json string
		want time.Duration
		err  bool
	}{
		{`"15m"`, 15 * time.Minute, false},
		{`"336h"`, 14 * 24 * time.Hour, false},
		{`60000000000`, time.Minute, false},
		{`"fortnight"`, 0, true},
		{`true`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.json, func(t *testing.T) {
			var d signals.Duration
			err := json.Unmarshal([]byte(tc.json), &d)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, time.Duration(d))
		})
	}
	b, err := json.Marshal(signals.Deadlines{URLValidity: signals.Duration(15 * time.Minute)})
	require.NoError(t, err)
	require.JSONEq(t, `{"urlValidity":"15m0s"}`, string(b), "unset deadlines are left out")
}

// TestSubjectIDsAreCanonical: one subject has one spelling per provider, and nothing personal passes for one. The
// errors never echo the value.
func TestSubjectIDsAreCanonical(t *testing.T) {
	tests := []struct {
		provider signals.Provider
		subject  string
		ok       bool
	}{
		{signals.ProviderTreezor, "42", true},
		{signals.ProviderTreezor, "0042", false},
		{signals.ProviderTreezor, "alice@example.com", false},
		{signals.ProviderTreezor, "12345678901234567890", false},
		{signals.ProviderSolaris, "6dc54352d6793a892e0702850d07b831cper", true},
		{signals.ProviderSolaris, "Alice.Smith", false},
		{signals.ProviderYousign, "backend-user-42", true},
		{signals.ProviderYousign, "alice@example.com", false},
		{signals.ProviderYousign, "alice smith", false},
	}
	for _, tt := range tests {
		err := signals.ValidateSubjectOf(tt.provider, tt.subject)
		if tt.ok {
			require.NoError(t, err, "%s %s", tt.provider, tt.subject)
			continue
		}
		require.Error(t, err, "%s %s", tt.provider, tt.subject)
		require.NotContains(t, err.Error(), tt.subject, "the value is not echoed")
	}
}
