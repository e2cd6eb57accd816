package starter_test

import (
	"os"
	"testing"

	"github.com/kycflow/kycflow/internal/testenv"
)

// TestMain stops the shared dev server stack that the integration tests start on first use.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Stop()
	os.Exit(code)
}
