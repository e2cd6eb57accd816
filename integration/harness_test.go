package integration_test

import (
	"os"
	"testing"

	"github.com/kycflow/kycflow/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Stop()
	os.Exit(code)
}
