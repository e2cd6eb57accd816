package matrix

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

func TestCases(t *testing.T) {
	require.Len(t, Cases(nil, nil, nil), len(sandbox.Scenarios))
	cs := Cases([]signals.Method{signals.MethodSolarisIDnow}, []string{"HAPPYPATH", "LONGREVIEW"}, []sandbox.Fault{sandbox.FaultDrop})
	require.Len(t, cs, 2)
	require.Equal(t, "solaris-idnow/HAPPYPATH+DROP", cs[0].Name())
}

func TestWriteTable(t *testing.T) {
	sc, _ := sandbox.Lookup(signals.MethodTreezorLiveness, "INCOMPLETE")
	ok := Result{Case: Case{Scenario: sc}, Took: 1234 * time.Millisecond,
		Outcome: &signals.Outcome{Status: signals.OutcomeFailed, Cause: signals.CauseUserDataIncomplete}}
	wrongCause := ok
	wrongCause.Outcome = &signals.Outcome{Status: signals.OutcomeFailed, Cause: signals.CauseProviderUnavailable}
	broken := Result{Case: Case{Scenario: sc, Faults: []sandbox.Fault{sandbox.FaultBurst}}, Err: errors.New("boom")}
	require.True(t, ok.OK())
	require.False(t, wrongCause.OK())
	require.False(t, broken.OK())

	var out bytes.Buffer
	require.False(t, WriteTable(&out, []Result{ok, wrongCause, broken}))
	require.Contains(t, out.String(), "treezor-liveness  INCOMPLETE  -       failed (user_data_incomplete)  failed (user_data_incomplete)  1.23s")
	require.Contains(t, out.String(), "burst")
	require.Contains(t, out.String(), "error: boom")
	require.Contains(t, out.String(), "3 verifications: 1 as expected, 2 mismatched")
}
