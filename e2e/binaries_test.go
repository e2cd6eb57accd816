package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kycflow/kycflow/internal/devstack"
)

// The package's tests share one build of kycflow's binaries, laid out as `make build` lays out bin/: the
// Temporal CLI beside them, so that kycflow-devstack and the README's `bin/...` commands find what they expect.
var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries returns the folder holding the freshly built binaries, bin/temporal and bin/temporal-ui/server.
func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() { binDir, binErr = build() })
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

func build() (string, error) {
	temporalBin, err := devstack.TemporalBinary()
	if err != nil {
		return "", err
	}
	uiBin, err := devstack.UIBinary()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "kycflow-e2e-bin-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"./cmd/kycflow-worker", "./cmd/kycflow-relay", "./cmd/kycflow-sandbox", "./cmd/kycflow-devstack", "./cmd/kycflow", "./cmd/kycflow-codec")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	if err := os.Symlink(temporalBin, filepath.Join(dir, "temporal")); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "temporal-ui"), 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := os.Symlink(uiBin, filepath.Join(dir, "temporal-ui", "server")); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
