// Command kycflow-cluster is `make cluster`: kycflow on a production-shaped engine on one machine. It starts
// PostgreSQL (or uses $KYCFLOW_POSTGRES_URL), sets up Temporal's schemas, runs Temporal's server 1.29.1 with mTLS
// on its frontend and the checked-in config (deploy/temporal), registers the namespace and search attributes, and
// starts the provider sandbox, two relays and two workers, all connecting from one temporal CLI profile. Ctrl-C
// stops everything.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/kycflow/kycflow/internal/devcerts"
	"github.com/kycflow/kycflow/internal/devstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kycflow-cluster:", err)
		os.Exit(1)
	}
}

// uiPath is the UI server's absolute path, or empty when it is not built.
func uiPath(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	if _, err := os.Stat(a); err != nil {
		return ""
	}
	return a
}

func run() error {
	var (
		binDir    = flag.String("bin", "bin", "folder holding the kycflow binaries")
		serverBin = flag.String("server", "bin/temporal-server-1.29.1/server", "Temporal's server binary")
		sqlTool   = flag.String("sql-tool", "bin/temporal-server-1.29.1/sql", "temporal-sql-tool")
		uiBin     = flag.String("ui", "bin/temporal-ui/server", "Temporal's UI server (empty: no UI)")
		uiPort    = flag.Int("ui-port", 8080, "Temporal UI port")
		codecAddr = flag.String("codec-addr", "127.0.0.1:8089", "listen address of the codec server")
		schemaDir = flag.String("schema", "", "the server module's schema/postgresql/v12")
		configDir = flag.String("config", "deploy/temporal", "folder of config/cluster.yaml and dynamicconfig.yaml")
		dataDir   = flag.String("data", ".data/cluster", "PostgreSQL data, certificates and the client profile")
		pgBin     = flag.String("postgres-bin", "/usr/lib/postgresql/15/bin", "PostgreSQL's bin folder")
		port      = flag.Int("port", 7233, "Temporal frontend port (mTLS)")
		workers   = flag.Int("workers", 2, "workers to run")
		relays    = flag.Int("relays", 2, "relays to run (the sandbox sends to them in turn)")
		certsOnly = flag.String("certs", "", "only write a local CA, server and client certificates into this folder, and exit (docker-compose's certs service)")
	)
	flag.Parse()
	if *certsOnly != "" {
		set, err := devcerts.Generate(*certsOnly)
		if err != nil {
			return err
		}
		// Every service of the compose stack runs as its own user and reads the keys from a shared volume.
		for _, key := range []string{set.ServerKey, set.ClientKey} {
			if err := os.Chmod(key, 0o644); err != nil {
				return err
			}
		}
		fmt.Println("certificates written to", *certsOnly)
		return nil
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	fmt.Println("Starting PostgreSQL, Temporal's server (mTLS), the sandbox, relays and workers...")
	c, err := devstack.StartCluster(ctx, devstack.ClusterOptions{
		ServerBin: abs(*serverBin), SQLToolBin: abs(*sqlTool), SchemaDir: abs(*schemaDir), ConfigDir: abs(*configDir),
		BinDir: abs(*binDir), DataDir: abs(*dataDir), PostgresURL: os.Getenv("KYCFLOW_POSTGRES_URL"), PostgresBin: *pgBin,
		Port: *port, Workers: *workers, Relays: *relays, Output: os.Stdout, UIBin: uiPath(*uiBin), UIPort: *uiPort,
		CodecAddr: *codecAddr,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("\nStopping...")
		c.Stop()
		fmt.Println("stopped.")
	}()
	fmt.Printf(`
kycflow is running on Temporal 1.29.1 with PostgreSQL, against the provider sandbox.
  Temporal frontend: %[1]s (mTLS: certificates in %[2]s)
  Client profile:    %[3]s, profile %[4]q; every process connects with it, and so does the CLI:
                     export TEMPORAL_CONFIG_FILE=%[3]s TEMPORAL_PROFILE=%[4]s
                     bin/temporal workflow list
  Sandbox:           %[5]s
  Relays:            %[6]v (admin: %[7]v)
  Workers:           %[8]d
  Temporal UI:       %[10]s (read-only: write actions are off, since this UI has no login)
  Codec server:      %[11]s; payloads are encrypted with %[12]s. To read them decoded in the UI, sign in once
                     at %[11]s/login with the %[13]q token of %[14]s (the CLI's profile holds its own)
Ctrl-C stops everything; PostgreSQL's data and the keys stay in %[9]s.
`, c.Address, filepath.Dir(c.Certs.CACert), c.ProfileFile, devstack.ClusterProfile, c.SandboxURL, c.RelayURLs, c.RelayAdminURLs,
		len(c.Workers), abs(*dataDir), cmp.Or(c.UIURL, "none (make cluster-bin builds it)"), devstack.BrowserURL(c.CodecURL), c.Payload.KeyFile,
		devstack.CodecReader, c.Payload.TokensFile)
	<-ctx.Done()
	return nil
}
