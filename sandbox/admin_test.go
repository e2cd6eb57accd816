package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

func TestSubjectHelperAndSessionPage(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	resp, err := http.Post(h.api.URL+"/sandbox/subjects", "application/json",
		strings.NewReader(`{"method":"treezor-qes","scenario":"fraudok"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var subj sandbox.SubjectResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&subj))
	require.Equal(t, "FRAUDOK", subj.Scenario)
	require.Contains(t, subj.Command, "--method treezor-qes --subject "+subj.SubjectID+" --url-validity ")

	id, err := h.tz.InitiateQES(bg(), subj.SubjectID, "")
	require.NoError(t, err)
	page, err := http.Get(id.URL)
	require.NoError(t, err)
	defer page.Body.Close()
	body, _ := io.ReadAll(page.Body)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Contains(t, string(body), "development and test tool")
	require.Contains(t, string(body), "FRAUDOK")

	resp, err = http.Post(h.api.URL+"/sandbox/subjects", "application/json", strings.NewReader(`{"method":"yousign-video","scenario":"NOPE"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestConfigEndpoint(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	resp, err := http.Get(h.api.URL + "/sandbox/config")
	require.NoError(t, err)
	defer resp.Body.Close()
	var info sandbox.Info
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	clock, err := info.Clock()
	require.NoError(t, err)
	require.Equal(t, testClock, clock)
	require.Equal(t, testClock.Deadlines(signals.MethodSolarisIDnow), info.Deadlines[signals.MethodSolarisIDnow])
}

func TestLoadConfig(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	addr, cfg, err := sandbox.LoadConfig(getenv)
	require.NoError(t, err)
	require.Equal(t, sandbox.DefaultAddr, addr)
	require.Equal(t, "http://"+sandbox.DefaultAddr, cfg.PublicURL)
	require.Equal(t, sandbox.DefaultWebhookURL, cfg.WebhookURL)
	require.Equal(t, sandbox.DefaultTimeScale, cfg.Clock.Scale)
	require.Equal(t, sandbox.DevCredentials(), cfg.Credentials)

	env = map[string]string{
		sandbox.EnvTimeScale: "0.001", sandbox.EnvMinDeadline: "500ms", sandbox.EnvFaults: "dup",
		sandbox.EnvYousignWebhookSecret: "s3cret", sandbox.EnvWebhookURL: "http://relay:8088/",
	}
	_, cfg, err = sandbox.LoadConfig(getenv)
	require.NoError(t, err)
	require.Equal(t, sandbox.Clock{Scale: 0.001, MinDeadline: 500 * time.Millisecond}, cfg.Clock)
	require.Equal(t, "s3cret", cfg.WebhookSecrets.Yousign)
	require.Equal(t, "http://relay:8088", cfg.WebhookURL)
	require.Equal(t, "dup", cfg.Faults.String())

	env = map[string]string{sandbox.EnvTimeScale: "fast", sandbox.EnvAddr: "nope", sandbox.EnvFaults: "boom"}
	_, _, err = sandbox.LoadConfig(getenv)
	require.Error(t, err)
	for _, name := range []string{sandbox.EnvTimeScale, sandbox.EnvAddr, sandbox.EnvFaults} {
		require.Contains(t, err.Error(), name)
	}
}
