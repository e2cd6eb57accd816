package sandbox_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

// TestExampleUserWaitsForTheBackend: the README's quick start starts verifications for Treezor user 123456. The
// user exists from the start, every Treezor method opens a session for them, and they never act on it, so the
// quick start's status, list, renew and cancel find the verification running.
func TestExampleUserWaitsForTheBackend(t *testing.T) {
	h := newHarness(t, sandbox.Config{ExampleUsers: true})
	user := sandbox.ExampleTreezorUser
	id, err := h.tz.InitiateLiveness(bg(), user, "https://signup.example.test/done")
	require.NoError(t, err)
	require.NotEmpty(t, id.URL)
	_, err = h.tz.InitiateQES(bg(), user, "https://signup.example.test/done")
	require.NoError(t, err, "the example user has every field QES needs")
	time.Sleep(200 * time.Millisecond) // many provider days at the test clock
	require.Empty(t, h.matching(forWorkflow(signals.WorkflowID(signals.ProviderTreezor, user))), "the user never opens the link")

	// A URL from before a restart: the new sandbox does not know it, and says why.
	restarted := newHarness(t, sandbox.Config{ExampleUsers: true})
	resp, err := http.Get(restarted.api.URL + "/sessions/" + lastPathSegment(id.URL))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, string(body), "keeps its sessions in memory")
	require.Contains(t, string(body), "start a new verification")
}

func lastPathSegment(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }
