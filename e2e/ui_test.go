package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/devstack"
)

// cancelReason is what the test's verification is closed with: it appears in the workflow's result only, so the
// page and the database show it in clear only through the codec server.
const cancelReason = "ticket 7f3a: the applicant asked to stop"

// encryptedMarker is how the UI shows an undecoded payload's encoding, binary/encrypted: base64, as stored.
var encryptedMarker = base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))

// TestUIShowsDecodedPayloads drives Temporal's UI in headless Chromium against `make run`'s stack: it lists the
// verifications filtered by KycStep, opens one, and shows its decoded input and result once the browser has
// signed in to the codec server; with the codec server stopped the same page shows ciphertext, and the dev
// server's database never holds the result in clear. Screenshots are written as test artifacts (go test
// -artifacts keeps them).
func TestUIShowsDecodedPayloads(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs every process, and a browser (run `make test`)")
	}
	browser := chromiumPath(t)
	d := startDevstack(t)
	drain(d)

	// One closed verification, started and cancelled with the CLI as the README's quick start does.
	work := t.TempDir()
	require.NoError(t, os.Symlink(binaries(t), filepath.Join(work, "bin")))
	require.NoError(t, os.Symlink(d.DataDir, filepath.Join(work, ".data")))
	script := `export TEMPORAL_CONFIG_FILE=.data/temporal.toml KYCFLOW_PAYLOAD_KEY_FILE=.data/payload.key
bin/kycflow start --method treezor-qes --subject 123456 >/dev/null
bin/kycflow cancel --wait --reason "` + cancelReason + `" kyc/treezor/123456 >/dev/null`
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir, cmd.Env = work, cleanEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	artifacts := t.ArtifactDir()
	ctx := newBrowser(t, browser)
	shot := func(name string) {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(artifacts, name+".png"), png, 0o644))
	}
	// pageText waits until the page's text holds want (the UI renders after its API calls), then returns it.
	pageText := func(want string) string {
		var text string
		deadline := time.Now().Add(45 * time.Second)
		for time.Now().Before(deadline) {
			var err error
			text, err = chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			require.NoError(t, err)
			if strings.Contains(text, want) {
				return text
			}
			time.Sleep(300 * time.Millisecond)
		}
		return text
	}

	// The list, filtered by the search attribute kycflow sets at each step.
	list := d.UIURL + "/namespaces/default/workflows?query=" + url.QueryEscape("KycStep = 'completed'")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(list)))
	text := pageText("kyc/treezor/123456")
	shot("1-list-filtered-by-KycStep")
	require.Contains(t, text, "kyc/treezor/123456", "the filtered list shows the verification")

	// Opened from the list. Not signed in: the page shows what Temporal stores, ciphertext.
	history := d.UIURL + "/namespaces/default/workflows/" + url.PathEscape("kyc/treezor/123456")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`a[href*="123456"]`)))
	text = pageText(encryptedMarker)
	shot("2-not-signed-in-ciphertext")
	require.Contains(t, text, encryptedMarker, "without a session the UI shows the stored encoding")
	require.Contains(t, text, "Sign in to the codec server", "and says how to read it")
	require.NotContains(t, text, cancelReason)

	// Sign in once with the operator's reader token, as the README says; the codec server sends the browser back.
	tokens, err := os.ReadFile(filepath.Join(d.DataDir, "codec-tokens"))
	require.NoError(t, err)
	reader := tokenOf(t, string(tokens), devstack.CodecReader)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(d.CodecURL+"/login?return="+url.QueryEscape(history)),
		chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", reader),
		chromedp.Click("#sign-in"),
	))
	text = pageText(cancelReason)
	shot("3-signed-in-decoded")
	require.Contains(t, text, cancelReason, "the result, decoded")
	require.Contains(t, text, "subjectId", "the input, decoded")
	require.NotContains(t, text, encryptedMarker)

	// The codec server stops: the same page, reloaded, shows ciphertext again, and the stack goes on.
	codec := childNamed(t, d, "kycflow-codec")
	require.NoError(t, syscall.Kill(codec, syscall.SIGTERM))
	require.Eventually(t, func() bool { return !alive(codec) }, 20*time.Second, 100*time.Millisecond)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(history)))
	text = pageText(encryptedMarker)
	shot("4-codec-stopped-ciphertext")
	require.Contains(t, text, encryptedMarker)
	require.NotContains(t, text, cancelReason)

	// Temporal's database holds only ciphertext.
	for _, name := range []string{"temporal.db", "temporal.db-wal"} {
		b, err := os.ReadFile(filepath.Join(d.DataDir, name))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.False(t, bytes.Contains(b, []byte(cancelReason)), "%s holds the result in clear", name)
		require.False(t, bytes.Contains(b, []byte(`"subjectId"`)), "%s holds the input in clear", name)
	}
	t.Logf("screenshots in %s", artifacts)
}

// chromiumPath finds headless Chromium (Debian's chromium; .ci/run installs it) or skips with a notice.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium on PATH: .ci/run installs Debian's chromium")
	}
	t.Skip("notice: no Chromium on PATH (apt-get install chromium): the browser test of the UI is skipped")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile; it dies with the test.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1400, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancelTimeout)
	require.NoError(t, chromedp.Do(ctx))
	return ctx
}

// tokenOf is the token named name in a codec tokens file.
func tokenOf(t *testing.T, file, name string) string {
	t.Helper()
	for _, line := range strings.Split(file, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == name {
			return f[2]
		}
	}
	t.Fatalf("no token named %s", name)
	return ""
}

// childNamed is the PID of devstack's child running binary.
func childNamed(t *testing.T, d *devstackRun, binary string) int {
	t.Helper()
	for _, pid := range d.children {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if strings.Contains(string(cmdline), binary) {
			return pid
		}
	}
	t.Fatalf("no child of devstack runs %s", binary)
	return 0
}
