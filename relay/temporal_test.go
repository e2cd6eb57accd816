package relay

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunningByReferenceQuery(t *testing.T) {
	require.Equal(t, "KycProviderReference = 'abc-123' AND ExecutionStatus = 'Running'", RunningByReferenceQuery("abc-123"))
	require.Equal(t, `KycProviderReference = 'a\'b\\c' AND ExecutionStatus = 'Running'`, RunningByReferenceQuery(`a'b\c`),
		"escaped even though ValidReference rejects such references")
}

func TestValidReference(t *testing.T) {
	for _, ok := range []string{"9dfe4b7a1c0e4a6d8f3b2a1c0e4a6d8fcidt", "6e8f3c1a-5b2d-4f7e-9a0c-1d2e3f4a5b6c", "a", "idv_1.2:3"} {
		require.True(t, ValidReference(ok), ok)
	}
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'a'
	}
	for _, bad := range []string{"", "-abc", "a b", "a'b", `a"b`, `a\b`, "a/b", "é", "a\nb", "a%", string(long)} {
		require.False(t, ValidReference(bad), bad)
	}
}
