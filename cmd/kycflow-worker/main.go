// Command kycflow-worker runs kycflow's workflows and activities. Configuration comes from the environment; see
// README.md.
package main

import (
	"fmt"
	"os"

	"go.uber.org/fx"

	"github.com/kycflow/kycflow/internal/pprofserver"
	"github.com/kycflow/kycflow/worker"
)

func main() {
	cfg, err := worker.LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-worker: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	stopProfiler, err := pprofserver.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kycflow-worker: %v\n", err)
		os.Exit(2)
	}
	defer stopProfiler()
	fx.New(worker.Module(cfg)).Run()
}
