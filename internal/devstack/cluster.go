package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"go.temporal.io/sdk/converter"

	"github.com/kycflow/kycflow/internal/devcerts"
	"github.com/kycflow/kycflow/internal/temporalconn"
	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

// ClusterProfile is the name of the temporal CLI profile the cluster writes, which every process connects with.
const ClusterProfile = "cluster"

// ClusterOptions configure StartCluster.
type ClusterOptions struct {
	// ServerBin and SQLToolBin are Temporal's server and temporal-sql-tool, 1.29.1 (`make cluster-bin`).
	ServerBin, SQLToolBin string
	// UIBin is Temporal's UI server (github.com/temporalio/ui-server); empty runs no UI. UIPort is its port, and
	// CodecAddr the codec server's listen address (empty: free ports).
	UIBin     string
	UIPort    int
	CodecAddr string
	// SchemaDir is the server module's schema/postgresql/v12.
	SchemaDir string
	// ConfigDir holds config/cluster.yaml and dynamicconfig.yaml (deploy/temporal).
	ConfigDir string
	// BinDir holds kycflow's binaries.
	BinDir string
	// DataDir keeps the PostgreSQL data, the certificates and the client profile across restarts.
	DataDir string
	// PostgresURL (postgres://user:password@host:port) uses that PostgreSQL instead of starting one in DataDir.
	PostgresURL string
	// PostgresBin is PostgreSQL's bin folder (initdb, postgres, pg_isready).
	PostgresBin string
	// Port is the frontend's; 0 picks a free one, as for every other port.
	Port int
	// Workers and Relays are how many of each to run (at least 1).
	Workers, Relays int
	// SandboxAddr is the sandbox's listen address (empty: a free port); TimeScale and Faults as for StartStack;
	// MinDeadline is the sandbox's floor of a compressed deadline (0: its default, 2 s).
	SandboxAddr string
	TimeScale   float64
	MinDeadline time.Duration
	Faults      string
	Output      io.Writer
}

// Cluster is kycflow on a production-shaped engine on one machine: PostgreSQL, Temporal's server with mTLS on
// its frontend, the sandbox, several relays (the sandbox spreads its deliveries over them) and several workers.
type Cluster struct {
	Address     string
	ProfileFile string
	Certs       devcerts.Set
	SandboxURL  string
	// RelayURLs and RelayAdminURLs are each relay's webhook and admin base URLs.
	RelayURLs, RelayAdminURLs []string
	Credentials               sandbox.Credentials

	// UIURL is the Temporal UI's, when ClusterOptions.UIBin is set.
	UIURL string
	// Payload are the payload key every process encrypts with and the codec server's tokens (in DataDir/codec);
	// CodecURL is the codec server's.
	Payload  PayloadSecrets
	CodecURL string

	Postgres, Server, Sandbox, UI, Codec *Process
	Relays, Workers                      []*Process

	opts      ClusterOptions
	pgAddr    string
	pgUser    string
	pgPass    string
	ports     map[string]string
	secrets   sandbox.WebhookSecrets
	relayAddr []string
	codecAddr string
	out       *lockedWriter
	// namespaceReady is set once the namespace is registered: from then on the server is ready when it serves it.
	namespaceReady bool
}

// StartCluster starts everything in order, each part once the one before is ready. On error, what was started is
// stopped.
func StartCluster(ctx context.Context, opts ClusterOptions) (_ *Cluster, err error) {
	opts.Workers, opts.Relays = max(opts.Workers, 1), max(opts.Relays, 1)
	if opts.TimeScale == 0 {
		opts.TimeScale = sandbox.DefaultTimeScale
	}
	c := &Cluster{opts: opts, Credentials: sandbox.DevCredentials(), out: &lockedWriter{w: opts.Output}, ports: map[string]string{}}
	if c.out.w == nil {
		c.out.w = io.Discard
	}
	c.secrets = sandbox.WebhookSecrets{Treezor: newSecret(), Solaris: newSecret(), Yousign: newSecret()}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, err
	}
	if c.Certs, err = devcerts.Generate(filepath.Join(opts.DataDir, "certs")); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	if c.Payload, err = EnsurePayloadSecrets(filepath.Join(opts.DataDir, "codec")); err != nil {
		return nil, err
	}
	if err := c.startPostgres(ctx); err != nil {
		return nil, err
	}
	if err := c.setupSchemas(ctx); err != nil {
		return nil, err
	}
	if err := c.pickPorts(); err != nil {
		return nil, err
	}
	if c.codecAddr, err = addrOrFree(opts.CodecAddr); err != nil {
		return nil, err
	}
	if err := c.writeProfile(); err != nil {
		return nil, err
	}
	if err := c.StartServer(ctx); err != nil {
		return nil, err
	}
	added, err := c.registerNamespace(ctx)
	if err != nil {
		return nil, err
	}
	if added {
		// With SQL visibility, kycflow's attributes are aliases in the namespace (of pre-allocated Keyword
		// columns), which each service's namespace registry reloads every 2 s (system.namespaceCacheRefreshInterval):
		// give every service two refreshes before anything uses them.
		select {
		case <-time.After(searchAttributesPropagation):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := c.startCodecAndUI(ctx); err != nil {
		return nil, err
	}
	sandboxAddr, err := addrOrFree(opts.SandboxAddr)
	if err != nil {
		return nil, err
	}
	c.SandboxURL = "http://" + sandboxAddr
	for range opts.Relays {
		addr, err1 := addrOrFree("")
		admin, err2 := addrOrFree("")
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		c.relayAddr = append(c.relayAddr, addr+"|"+admin)
		c.RelayURLs, c.RelayAdminURLs = append(c.RelayURLs, "http://"+addr), append(c.RelayAdminURLs, "http://"+admin)
	}
	env := sandboxEnv(sandboxAddr, c.SandboxURL, strings.Join(c.RelayURLs, ","), opts.TimeScale, opts.Faults, c.Credentials, c.secrets)
	if opts.MinDeadline > 0 {
		env = append(env, sandbox.EnvMinDeadline+"="+opts.MinDeadline.String())
	}
	if c.Sandbox, err = c.start("sandbox", filepath.Join(opts.BinDir, "kycflow-sandbox"), nil, env, nil); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, c.Sandbox, 30*time.Second, httpOK(c.SandboxURL+"/sandbox/healthz")); err != nil {
		return nil, err
	}
	c.Relays = make([]*Process, opts.Relays)
	for i := range opts.Relays {
		if err := c.RestartRelay(ctx, i); err != nil {
			return nil, err
		}
	}
	c.Workers = make([]*Process, opts.Workers)
	for i := range opts.Workers {
		if err := c.RestartWorker(ctx, i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Stop stops the workers, relays, sandbox, server and PostgreSQL, in that order.
func (c *Cluster) Stop() {
	var ps []*Process
	ps = append(append(append(ps, c.Workers...), c.Relays...), c.Sandbox, c.UI, c.Codec, c.Server, c.Postgres)
	for _, p := range ps {
		if p != nil {
			p.Stop(20 * time.Second)
		}
	}
}

// WebhookSecrets are the secrets the sandbox signs with and the relays check.
func (c *Cluster) WebhookSecrets() sandbox.WebhookSecrets { return c.secrets }

// MetricsURL is the server's Prometheus endpoint.
func (c *Cluster) MetricsURL() string {
	return "http://" + c.ports["KYCFLOW_TEMPORAL_METRICS_ADDR"] + "/metrics"
}

// PostgresDataDir is PostgreSQL's data folder, when the cluster runs its own.
func (c *Cluster) PostgresDataDir() string {
	if c.opts.PostgresURL != "" {
		return ""
	}
	return filepath.Join(c.opts.DataDir, "postgres")
}

// ConnectionEnv is the environment that connects a kycflow process or the temporal CLI to the cluster: its
// profile over mTLS, every other connection setting of the caller's shell blanked.
func (c *Cluster) ConnectionEnv() []string {
	return connectionEnv(c.ProfileFile, ClusterProfile, "", "")
}

// Dial connects to the cluster as kycflow's processes do: from the profile, over mTLS.
func (c *Cluster) Dial(ctx context.Context) (client.Client, error) {
	env := map[string]string{}
	for _, kv := range c.ConnectionEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	conn, err := temporalconn.LoadConnection(func(k string) string { return env[k] }, nil)
	if err != nil {
		return nil, err
	}
	opts := conn.Options
	opts.Logger = quietLogger{}
	codec, err := c.payloadCodec()
	if err != nil {
		return nil, err
	}
	opts.DataConverter, opts.FailureConverter = payloadcodec.DataConverter(codec), payloadcodec.FailureConverter(codec)
	return client.DialContext(ctx, opts)
}

// DataConverter decodes the cluster's payloads, for tools that read histories.
func (c *Cluster) DataConverter() (converter.DataConverter, error) {
	codec, err := c.payloadCodec()
	if err != nil {
		return nil, err
	}
	return payloadcodec.DataConverter(codec), nil
}

func (c *Cluster) payloadCodec() (*payloadcodec.Codec, error) {
	return payloadcodec.FromEnv(func(k string) string { return map[string]string{payloadcodec.EnvKeyFile: c.Payload.KeyFile}[k] })
}

// StartServer starts Temporal's server (again, after KillServer) and waits until its frontend answers over mTLS.
func (c *Cluster) StartServer(ctx context.Context) error {
	stopIfRunning(c.Server)
	env := []string{
		"KYCFLOW_PG_ADDR=" + c.pgAddr, "KYCFLOW_PG_USER=" + c.pgUser, "KYCFLOW_PG_PASSWORD=" + c.pgPass,
		"KYCFLOW_TLS_DIR=" + filepath.Dir(c.Certs.CACert),
		"KYCFLOW_TEMPORAL_DYNAMIC_CONFIG=" + filepath.Join(c.opts.ConfigDir, "dynamicconfig.yaml"),
		"TEMPORAL_LOG_LEVEL=warn",
	}
	for k, v := range c.ports {
		env = append(env, k+"="+v)
	}
	args := []string{"--root", c.opts.ConfigDir, "--config", "config", "--env", "cluster", "--allow-no-auth", "start"}
	p, err := c.start("temporal", c.opts.ServerBin, args, env, nil)
	if err != nil {
		return err
	}
	c.Server = p
	return waitFor(ctx, p, 2*time.Minute, func(ctx context.Context) error {
		cl, err := c.Dial(ctx)
		if err != nil {
			return err
		}
		defer cl.Close()
		if _, err := cl.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return err
		}
		if !c.namespaceReady {
			return nil
		}
		// Back means serving the namespace: right after a restart the frontend is healthy a moment before its
		// namespace registry is loaded, and answers "Namespace default is not found" (found in `make chaos`).
		_, err = cl.DescribeTaskQueue(ctx, signals.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		return err
	})
}

// KillServer kills the server as a crash would.
func (c *Cluster) KillServer() { c.Server.Kill() }

// KillPostgres kills PostgreSQL as a crash would; RestartPostgres starts it again on its data.
func (c *Cluster) KillPostgres() {
	if c.Postgres != nil {
		c.Postgres.Kill()
	}
}

// RestartPostgres starts the cluster's own PostgreSQL again.
func (c *Cluster) RestartPostgres(ctx context.Context) error { return c.startPostgres(ctx) }

// stopIfRunning stops a process a restart replaces, should it still run: two of them would fight for its ports.
func stopIfRunning(p *Process) {
	if p == nil {
		return
	}
	select {
	case <-p.Done():
	default:
		p.Stop(20 * time.Second)
	}
}

// RestartRelay starts relay i (again).
func (c *Cluster) RestartRelay(ctx context.Context, i int) error {
	stopIfRunning(c.Relays[i])
	addr, admin, _ := strings.Cut(c.relayAddr[i], "|")
	name := fmt.Sprintf("relay-%d", i+1)
	p, err := c.start(name, filepath.Join(c.opts.BinDir, "kycflow-relay"), nil, relayEnv(c.ConnectionEnv(), addr, admin, c.secrets, &c.Payload), nil)
	if err != nil {
		return err
	}
	c.Relays[i] = p
	return waitFor(ctx, p, 60*time.Second, httpOK(c.RelayAdminURLs[i]+"/readyz"))
}

// RestartWorker starts worker i (again) and waits until it polls.
func (c *Cluster) RestartWorker(ctx context.Context, i int) error {
	stopIfRunning(c.Workers[i])
	name := fmt.Sprintf("worker-%d", i+1)
	p, err := c.start(name, filepath.Join(c.opts.BinDir, "kycflow-worker"), nil, workerEnv(c.ConnectionEnv(), c.SandboxURL, c.Credentials, &c.Payload), nil)
	if err != nil {
		return err
	}
	c.Workers[i] = p
	cl, err := c.Dial(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	return waitFor(ctx, p, 60*time.Second, func(ctx context.Context) error {
		resp, err := cl.DescribeTaskQueue(ctx, signals.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			return err
		}
		for _, poller := range resp.GetPollers() {
			if strings.HasPrefix(poller.GetIdentity(), strconv.Itoa(p.PID())+"@") {
				return nil
			}
		}
		return fmt.Errorf("%s does not poll yet", name)
	})
}

func (c *Cluster) start(name, binary string, args, env []string, cred *syscall.Credential) (*Process, error) {
	return startProcessAs(name, binary, args, env, c.out.prefixed(name), cred)
}

// startPostgres starts PostgreSQL in DataDir/postgres (initialised on first use), unless PostgresURL names one.
// PostgreSQL refuses to run as root, so as root the cluster runs it as the postgres user.
func (c *Cluster) startPostgres(ctx context.Context) error {
	if c.opts.PostgresURL != "" {
		u, err := url.Parse(c.opts.PostgresURL)
		if err != nil || u.Host == "" {
			return fmt.Errorf("KYCFLOW_POSTGRES_URL: want postgres://user:password@host:port")
		}
		c.pgAddr, c.pgUser = u.Host, u.User.Username()
		c.pgPass, _ = u.User.Password()
		return nil
	}
	if c.pgAddr == "" {
		addr, err := addrOrFree("")
		if err != nil {
			return err
		}
		c.pgAddr, c.pgUser, c.pgPass = addr, "temporal", "temporal"
	}
	stopIfRunning(c.Postgres)
	dir := filepath.Join(c.opts.DataDir, "postgres")
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("PostgreSQL refuses to run as root and there is no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, filepath.Join(c.opts.PostgresBin, "initdb"), "-D", dir, "-U", "temporal",
			"--auth=trust", "-E", "UTF8", "--no-instructions")
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("initdb %s: %w\n%s", dir, err, out.String())
		}
	}
	host, port, _ := net.SplitHostPort(c.pgAddr)
	p, err := c.start("postgres", filepath.Join(c.opts.PostgresBin, "postgres"), []string{"-D", dir, "-p", port,
		"-c", "listen_addresses=" + host, "-c", "unix_socket_directories=", "-c", "max_connections=200"}, nil, cred)
	if err != nil {
		return err
	}
	c.Postgres = p
	return waitFor(ctx, p, 60*time.Second, func(ctx context.Context) error {
		return exec.CommandContext(ctx, filepath.Join(c.opts.PostgresBin, "pg_isready"), "-h", host, "-p", port, "-U", "temporal", "-q").Run()
	})
}

// setupSchemas creates both databases and brings their schemas to the server's version; on an existing database
// only the update runs, which is idempotent.
func (c *Cluster) setupSchemas(ctx context.Context) error {
	host, port, _ := net.SplitHostPort(c.pgAddr)
	for _, db := range []struct{ name, dir string }{{"temporal", "temporal"}, {"temporal_visibility", "visibility"}} {
		tool := func(args ...string) (string, error) {
			base := []string{"--plugin", "postgres12", "--endpoint", host, "--port", port, "--user", c.pgUser, "--database", db.name}
			var out bytes.Buffer
			cmd := exec.CommandContext(ctx, c.opts.SQLToolBin, append(base, args...)...)
			// The password through the environment (the tool's SQL_PASSWORD), not the command line, which ps shows.
			cmd.Env = append(os.Environ(), "SQL_PASSWORD="+c.pgPass)
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			return out.String(), err
		}
		out, err := tool("create-database")
		switch {
		case err == nil:
			if out, err := tool("setup-schema", "-v", "0.0"); err != nil {
				return fmt.Errorf("set up the %s schema: %w\n%s", db.name, err, out)
			}
		case !strings.Contains(out, "already exists"):
			return fmt.Errorf("create database %s: %w\n%s", db.name, err, out)
		}
		if out, err := tool("update-schema", "-d", filepath.Join(c.opts.SchemaDir, db.dir, "versioned")); err != nil {
			return fmt.Errorf("update the %s schema: %w\n%s", db.name, err, out)
		}
	}
	return nil
}

// pickPorts picks the server's ports: the frontend's as asked, the others free.
func (c *Cluster) pickPorts() error {
	for _, k := range []string{"KYCFLOW_TEMPORAL_PORT", "KYCFLOW_TEMPORAL_MEMBERSHIP_PORT", "KYCFLOW_TEMPORAL_HTTP_PORT",
		"KYCFLOW_TEMPORAL_HISTORY_PORT", "KYCFLOW_TEMPORAL_HISTORY_MEMBERSHIP_PORT", "KYCFLOW_TEMPORAL_MATCHING_PORT",
		"KYCFLOW_TEMPORAL_MATCHING_MEMBERSHIP_PORT", "KYCFLOW_TEMPORAL_WORKER_PORT", "KYCFLOW_TEMPORAL_WORKER_MEMBERSHIP_PORT"} {
		port := 0
		if k == "KYCFLOW_TEMPORAL_PORT" {
			port = c.opts.Port
		}
		if port == 0 {
			p, err := freeLowPort()
			if err != nil {
				return err
			}
			port = p
		}
		c.ports[k] = strconv.Itoa(port)
	}
	metrics, err := addrOrFree("")
	if err != nil {
		return err
	}
	c.ports["KYCFLOW_TEMPORAL_METRICS_ADDR"] = metrics
	c.Address = "127.0.0.1:" + c.ports["KYCFLOW_TEMPORAL_PORT"]
	return nil
}

// writeProfile writes the temporal CLI profile the processes connect with.
func (c *Cluster) writeProfile() error {
	c.ProfileFile = filepath.Join(c.opts.DataDir, "temporal.toml")
	return WriteProfile(c.ProfileFile, Profile{Name: ClusterProfile,
		Comment: "Written by kycflow's cluster stack: the connection every process, and the temporal CLI, uses.",
		Address: c.Address, Certs: &c.Certs, CodecURL: BrowserURL(c.codecAddr), CodecToken: c.Payload.Writer})
}

// searchAttributesPropagation is how long newly registered search attributes take to reach every service.
const searchAttributesPropagation = 5 * time.Second

// registerNamespace registers the default namespace and kycflow's search attributes, which a real server, unlike
// the dev server, does not have, and waits until the namespace serves requests. added says whether it registered
// search attributes.
func (c *Cluster) registerNamespace(ctx context.Context) (added bool, err error) {
	cl, err := c.Dial(ctx)
	if err != nil {
		return false, err
	}
	defer cl.Close()
	_, err = cl.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: "default", WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return false, fmt.Errorf("register namespace default: %w", err)
	}
	attrs := map[string]enumspb.IndexedValueType{}
	for _, key := range signals.SearchAttributes {
		attrs[key.GetName()] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	err = waitFor(ctx, c.Server, 2*time.Minute, func(ctx context.Context) error {
		have, err := cl.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
		if err != nil {
			return err
		}
		missing := map[string]enumspb.IndexedValueType{}
		for name, typ := range attrs {
			if _, ok := have.GetCustomAttributes()[name]; !ok {
				missing[name] = typ
			}
		}
		if len(missing) > 0 {
			if _, err := cl.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
				Namespace: "default", SearchAttributes: missing,
			}); err != nil {
				return err
			}
			added = true
		}
		_, err = cl.DescribeTaskQueue(ctx, signals.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil {
			c.namespaceReady = true
		}
		return err
	})
	return added, err
}

// startCodecAndUI runs the codec server (connected over mTLS, as the workers are) and Temporal's UI server
// against the frontend over mTLS with the cluster's client certificate, calling the codec server from the browser.
func (c *Cluster) startCodecAndUI(ctx context.Context) error {
	uiAddr, err := addrOrFree("")
	if c.opts.UIPort != 0 {
		uiAddr, err = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.opts.UIPort)), nil
	}
	if err != nil {
		return err
	}
	_, portText, _ := net.SplitHostPort(uiAddr)
	uiPort, _ := strconv.Atoi(portText)
	codecAddr := c.codecAddr
	p, err := c.start("codec", filepath.Join(c.opts.BinDir, "kycflow-codec"), nil,
		codecEnv(c.ConnectionEnv(), codecAddr, c.Payload, uiOrigins(uiPort)), nil)
	if err != nil {
		return err
	}
	c.Codec, c.CodecURL = p, "http://"+codecAddr
	if err := waitFor(ctx, p, 60*time.Second, httpOK(c.CodecURL+"/healthz")); err != nil {
		return err
	}
	if c.opts.UIBin == "" {
		return nil
	}
	args, err := writeUIConfig(filepath.Join(c.opts.DataDir, "ui"), UIConfig{
		Frontend: c.Address, Certs: &c.Certs, Port: uiPort, CodecEndpoint: BrowserURL(codecAddr),
	})
	if err != nil {
		return err
	}
	if p, err = c.start("ui", c.opts.UIBin, args, nil, nil); err != nil {
		return err
	}
	c.UI, c.UIURL = p, "http://localhost:"+portText
	return waitFor(ctx, p, 60*time.Second, httpOK("http://"+uiAddr+"/api/v1/namespaces"))
}

// httpOK is a readiness check: u answers 200.
func httpOK(u string) func(context.Context) error {
	return func(ctx context.Context) error { return HTTPOK(ctx, u) }
}

// HTTPOK is nil when u answers a GET with 200: a process' readiness or health endpoint.
func HTTPOK(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", u, resp.Status)
	}
	return nil
}

// freeLowPort is a free port below 32768: Temporal stores membership ports in a smallint column, and the kernel's
// ephemeral ports (what FreePort gets) are above it.
func freeLowPort() (int, error) {
	start := 20000 + int(time.Now().UnixNano()%10000)
	for i := range 10000 {
		port := 20000 + (start-20000+i)%12000
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		if claimPort(port) {
			return port, nil
		}
	}
	return 0, errors.New("no free port between 20000 and 32000")
}
