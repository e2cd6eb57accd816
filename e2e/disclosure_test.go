package e2e_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/sandbox/matrix"
	"github.com/kycflow/kycflow/signals"
)

// idnowReference is the shape of the IDnow reference the sandbox's Solaris hands out (the mobile SDK's token).
var idnowReference = regexp.MustCompile(`TST-[0-9A-F]{5}`)

// requireNothingUndisclosable walks what the backend may show its user after a scenario, the outcome and the status
// query, and fails on anything a provider forbids showing:
//   - a fraud reason shown to the user (Treezor's FRAUD_SUSPICION_* codes, IDnow's fraud codes);
//   - any Solaris reason shown for a failed identification (seed 003: "No reason can be disclosed for the final
//     failed status");
//   - the IDnow reference anywhere in the outcome or the status: it is the mobile SDK's token for the app, not data
//     for a record or a screen.
func (e *env) requireNothingUndisclosable(ctx context.Context, t *testing.T, r matrix.Result) {
	t.Helper()
	require.NotNil(t, r.Outcome)
	st, err := e.starter.Status(ctx, r.Verification)
	require.NoError(t, err)
	solarisFailed := r.Scenario.Method == signals.MethodSolarisIDnow && r.Outcome.Status == signals.OutcomeRefused
	for where, rs := range map[string][]signals.Reason{"outcome": r.Outcome.Reasons, "status": st.Reasons} {
		for _, reason := range rs {
			if !reason.UserShowable && reason.UserMessage == "" {
				continue
			}
			require.NotEqual(t, signals.CategoryFraud, reason.Category, "%s: fraud reason %s is shown to the user", where, reason.Code)
			require.False(t, solarisFailed, "%s: reason %s of a failed Solaris identification is shown to the user", where, reason.Code)
		}
	}
	// The texts a backend shows as they are: the outcome's and the status's user messages, and every shown reason's.
	// None may speak of fraud (Treezor: "you mustn't indicate to end users that they are suspected of fraud"), and
	// a failed Solaris identification's may not name its reason.
	texts := map[string]string{"outcome userMessage": r.Outcome.UserMessage, "status userMessage": st.UserMessage}
	for _, rs := range [][]signals.Reason{r.Outcome.Reasons, st.Reasons} {
		for _, reason := range rs {
			if reason.UserShowable {
				texts["reason "+reason.Code+" userMessage"] = reason.UserMessage
			}
		}
	}
	for where, text := range texts {
		lower := strings.ToLower(text)
		require.False(t, strings.Contains(lower, "fraud") || strings.Contains(lower, "suspic"), "%s speaks of fraud: %q", where, text)
		if solarisFailed {
			for _, reason := range r.Outcome.Reasons {
				require.NotContains(t, text, reason.Code, "%s names the failed identification's reason", where)
			}
		}
	}
	for where, v := range map[string]any{"outcome": r.Outcome, "status": st} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.False(t, idnowReference.Match(b), "%s holds the IDnow reference: %s", where, b)
	}
}
