// Command kycflow-relay receives the providers' webhooks, verifies them and signals the verification workflows.
// Configuration comes from the environment; see package relay and README.md.
package main

import (
	"fmt"
	"os"

	"go.uber.org/fx"

	"github.com/kycflow/kycflow/internal/pprofserver"
	"github.com/kycflow/kycflow/relay"
)

func main() {
	cfg, err := relay.LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-relay: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	stopProfiler, err := pprofserver.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-relay: %v\n", err)
		os.Exit(2)
	}
	defer stopProfiler()
	fx.New(relay.Module(cfg)).Run()
}
