package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/kycflow/kycflow/internal/pprofserver"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

// StackOptions configure a Stack: the Temporal dev server, the provider sandbox, the webhook relay and the
// worker, each a real process, wired together.
type StackOptions struct {
	// BinDir holds kycflow-worker, kycflow-relay and kycflow-sandbox.
	BinDir string
	// Temporal configures the dev server (a zero Port picks a free one).
	Temporal TemporalOptions
	// SandboxAddr, RelayAddr and RelayAdminAddr (the relay's /readyz and /metrics) are listen addresses; empty
	// picks free loopback ports.
	SandboxAddr    string
	RelayAddr      string
	RelayAdminAddr string
	// WorkerMetricsAddr is where the worker serves /metrics; empty picks a free loopback port.
	WorkerMetricsAddr string
	// TimeScale is the sandbox's (0: sandbox.DefaultTimeScale); Faults its global faults ("dup,reorder=0.5").
	TimeScale float64
	Faults    string
	// Env adds environment variables to one process: the keys are "sandbox", "relay", "worker" and "codec".
	Env map[string][]string
	// Output receives the processes' logs, each line prefixed with the process' name; nil discards them.
	Output io.Writer
	// Profile makes the sandbox, relay and worker serve pprof on free loopback ports, listed in ProfileAddrs.
	Profile bool
	// Payload, when set, encrypts payloads with its key (worker and relay) and runs the codec server on CodecAddr
	// (empty: a free port) with its tokens; nil runs the sandbox's synthetic users in plaintext.
	Payload   *PayloadSecrets
	CodecAddr string
	// UIBin is Temporal's UI server, run on Temporal.UIPort in place of the dev server's own UI so that it can
	// call the codec server with its cookie (the dev server's UI has no codec.includeCredentials setting).
	UIBin string
}

// Stack is a running local kycflow: dev server, sandbox, relay and worker. The worker talks to the sandbox as it
// would to the providers, and the sandbox signs its webhooks with secrets generated for this stack, which the
// relay checks.
type Stack struct {
	Temporal *Temporal
	Sandbox  *Process
	Relay    *Process
	Worker   *Process
	// Codec and UI run when StackOptions.Payload and UIBin ask for them; CodecURL and UIURL are theirs.
	Codec, UI       *Process
	CodecURL, UIURL string
	// SandboxURL and RelayURL are the base URLs of the sandbox and the relay's webhooks; RelayAdminURL that of
	// the relay's /readyz and /metrics.
	SandboxURL    string
	RelayURL      string
	RelayAdminURL string
	// WorkerMetricsURL is the worker's /metrics.
	WorkerMetricsURL string
	// Credentials are the provider API credentials the sandbox accepts and the worker uses.
	Credentials sandbox.Credentials
	// ProfileAddrs are the pprof addresses of the sandbox, relay and worker, when StackOptions.Profile is set.
	ProfileAddrs map[string]string

	opts    StackOptions
	secrets sandbox.WebhookSecrets
	out     *lockedWriter
	exited  chan string
	uiDir   string

	mu      sync.Mutex
	stopped map[*Process]bool
}

// StartStack starts the four processes in order, each once the previous one is ready: the dev server, the
// sandbox, the relay (once it reaches Temporal) and the worker (once it polls the task queue). On error, what was
// started is stopped.
func StartStack(ctx context.Context, opts StackOptions) (st *Stack, err error) {
	if opts.TimeScale == 0 {
		opts.TimeScale = sandbox.DefaultTimeScale
	}
	s := &Stack{opts: opts, Credentials: sandbox.DevCredentials(), exited: make(chan string, 6),
		out: &lockedWriter{w: opts.Output}, stopped: map[*Process]bool{}}
	if s.out.w == nil {
		s.out.w = io.Discard
	}
	s.secrets = sandbox.WebhookSecrets{Treezor: newSecret(), Solaris: newSecret(), Yousign: newSecret()}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if opts.Temporal.Output == nil {
		opts.Temporal.Output = s.out.prefixed("temporal")
	}
	temporalOpts := opts.Temporal
	if opts.UIBin != "" {
		temporalOpts.UIPort = 0 // the UI server takes the port
	}
	if s.Temporal, err = StartTemporal(ctx, temporalOpts); err != nil {
		return nil, err
	}
	// Free ports are picked once the dev server holds its own: it binds several, each picked at random, and one
	// of them once landed on the relay's port before the relay could bind it.
	if opts.SandboxAddr, err = addrOrFree(opts.SandboxAddr); err != nil {
		return nil, err
	}
	if opts.RelayAddr, err = addrOrFree(opts.RelayAddr); err != nil {
		return nil, err
	}
	if opts.RelayAdminAddr, err = addrOrFree(opts.RelayAdminAddr); err != nil {
		return nil, err
	}
	if opts.WorkerMetricsAddr, err = addrOrFree(opts.WorkerMetricsAddr); err != nil {
		return nil, err
	}
	s.WorkerMetricsURL = "http://" + opts.WorkerMetricsAddr + "/metrics"
	s.opts = opts
	s.SandboxURL, s.RelayURL, s.RelayAdminURL = "http://"+opts.SandboxAddr, "http://"+opts.RelayAddr, "http://"+opts.RelayAdminAddr
	if opts.Profile {
		s.ProfileAddrs = map[string]string{}
		for _, name := range []string{"sandbox", "relay", "worker"} {
			if s.ProfileAddrs[name], err = addrOrFree(""); err != nil {
				return nil, err
			}
		}
	}
	if s.Sandbox, err = s.start("sandbox", "kycflow-sandbox", s.sandboxEnv()); err != nil {
		return nil, err
	}
	if err := s.waitHTTP(ctx, s.Sandbox, s.SandboxURL+"/sandbox/healthz"); err != nil {
		return nil, err
	}
	if err := s.startRelay(ctx, nil); err != nil {
		return nil, err
	}
	if s.Worker, err = s.start("worker", "kycflow-worker", s.workerEnv()); err != nil {
		return nil, err
	}
	if err := s.waitWorker(ctx); err != nil {
		return nil, err
	}
	if err := s.startCodecAndUI(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// startCodecAndUI starts the codec server, when the stack encrypts, and the UI server, when asked for.
func (s *Stack) startCodecAndUI(ctx context.Context) error {
	var endpoint string
	if s.opts.Payload != nil {
		addr, err := addrOrFree(s.opts.CodecAddr)
		if err != nil {
			return err
		}
		env := append(codecEnv(DevServerConnectionEnv(s.Temporal.HostPort), addr, *s.opts.Payload, uiOrigins(s.opts.Temporal.UIPort)),
			s.extraEnv("codec")...)
		if s.Codec, err = s.startArgs("codec", "kycflow-codec", nil, env); err != nil {
			return err
		}
		s.CodecURL, endpoint = "http://"+addr, BrowserURL(addr)
		if err := s.waitHTTP(ctx, s.Codec, s.CodecURL+"/healthz"); err != nil {
			return err
		}
	}
	if s.opts.UIBin == "" || s.opts.Temporal.UIPort == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "kycflow-ui-")
	if err != nil {
		return err
	}
	s.uiDir = dir
	args, err := writeUIConfig(dir, UIConfig{
		Frontend: s.Temporal.HostPort, Port: s.opts.Temporal.UIPort, CodecEndpoint: endpoint,
	})
	if err != nil {
		return fmt.Errorf("UI configuration: %w", err)
	}
	p, err := StartProcess("ui", s.opts.UIBin, args, nil, s.out.prefixed("ui"))
	if err != nil {
		return err
	}
	s.watch("ui", p)
	s.UI, s.UIURL = p, fmt.Sprintf("http://localhost:%d", s.opts.Temporal.UIPort)
	return waitFor(ctx, p, 60*time.Second, httpOK(fmt.Sprintf("http://127.0.0.1:%d/api/v1/namespaces", s.opts.Temporal.UIPort)))
}

// Stop stops the UI, the codec server, the worker, the relay, the sandbox and the dev server, in that order.
func (s *Stack) Stop() {
	for _, p := range []*Process{s.UI, s.Codec, s.Worker, s.Relay, s.Sandbox} {
		s.stop(p)
	}
	if s.Temporal != nil {
		s.Temporal.Stop()
	}
	if s.uiDir != "" {
		_ = os.RemoveAll(s.uiDir)
	}
}

// stop stops a process on purpose: Exited does not report it.
func (s *Stack) stop(p *Process) {
	if p == nil {
		return
	}
	s.mu.Lock()
	s.stopped[p] = true
	s.mu.Unlock()
	p.Stop(20 * time.Second)
}

// Exited receives the name of a process that exited on its own (the stack is then incomplete).
func (s *Stack) Exited() <-chan string { return s.exited }

// RestartRelay stops the relay and starts it again with extra environment variables (later values win), for
// tests of a relay outage or of a secret rotation. It waits until the new relay reaches Temporal.
func (s *Stack) RestartRelay(ctx context.Context, extraEnv []string) error {
	s.stop(s.Relay)
	return s.startRelay(ctx, extraEnv)
}

// StopRelay stops the relay, for tests of a relay outage; RestartRelay brings it back.
func (s *Stack) StopRelay() { s.stop(s.Relay) }

func (s *Stack) startRelay(ctx context.Context, extraEnv []string) error {
	p, err := s.start("relay", "kycflow-relay", append(s.relayEnv(), extraEnv...))
	if err != nil {
		return err
	}
	s.Relay = p
	return s.waitHTTP(ctx, p, s.RelayAdminURL+"/readyz")
}

// WebhookSecrets are the secrets the sandbox signs with and the relay checks.
func (s *Stack) WebhookSecrets() sandbox.WebhookSecrets { return s.secrets }

func (s *Stack) sandboxEnv() []string {
	return append(sandboxEnv(s.opts.SandboxAddr, s.SandboxURL, s.RelayURL, s.opts.TimeScale, s.opts.Faults, s.Credentials, s.secrets),
		s.extraEnv("sandbox")...)
}

func (s *Stack) relayEnv() []string {
	return append(relayEnv(DevServerConnectionEnv(s.Temporal.HostPort), s.opts.RelayAddr, s.opts.RelayAdminAddr, s.secrets, s.payload()),
		s.extraEnv("relay")...)
}

func (s *Stack) workerEnv() []string {
	return append(workerEnv(DevServerConnectionEnv(s.Temporal.HostPort), s.SandboxURL, s.Credentials, s.payload()),
		append([]string{"KYCFLOW_METRICS_ADDR=" + s.opts.WorkerMetricsAddr}, s.extraEnv("worker")...)...)
}

// payload is the stack's payload key, or nil for a plaintext stack.
func (s *Stack) payload() *PayloadSecrets { return s.opts.Payload }

// sandboxEnv runs the sandbox on addr, delivering its webhooks to relayURLs (comma-separated: in turn).
func sandboxEnv(addr, publicURL, relayURLs string, scale float64, faults string, c sandbox.Credentials, w sandbox.WebhookSecrets) []string {
	return []string{
		sandbox.EnvAddr + "=" + addr,
		sandbox.EnvPublicURL + "=" + publicURL,
		sandbox.EnvWebhookURL + "=" + relayURLs,
		sandbox.EnvTimeScale + "=" + strconv.FormatFloat(scale, 'g', -1, 64),
		sandbox.EnvFaults + "=" + faults,
		sandbox.EnvTreezorClientID + "=" + c.TreezorClientID,
		sandbox.EnvTreezorClientSecret + "=" + c.TreezorClientSecret,
		sandbox.EnvSolarisClientID + "=" + c.SolarisClientID,
		sandbox.EnvSolarisClientSecret + "=" + c.SolarisClientSecret,
		sandbox.EnvYousignAPIKey + "=" + c.YousignAPIKey,
		sandbox.EnvTreezorWebhookSecret + "=" + w.Treezor,
		sandbox.EnvSolarisWebhookSecret + "=" + w.Solaris,
		sandbox.EnvYousignWebhookSecret + "=" + w.Yousign,
	}
}

// relayEnv sets every variable the relay reads that the developer's shell might also set, so that real
// provider secrets never meet the sandbox; conn says how to reach Temporal, payload is the payload key (nil:
// none).
func relayEnv(conn []string, addr, adminAddr string, w sandbox.WebhookSecrets, payload *PayloadSecrets) []string {
	return append(append(append(slices.Clip(conn), payloadEnv(payload)...), tracingOff...),
		"KYCFLOW_RELAY_ADDR="+addr,
		"KYCFLOW_RELAY_ADMIN_ADDR="+adminAddr,
		"TREEZOR_WEBHOOK_SECRETS="+w.Treezor, "TREEZOR_WEBHOOK_SECRETS_FILE=",
		"SOLARIS_WEBHOOK_SECRETS="+w.Solaris, "SOLARIS_WEBHOOK_SECRETS_FILE=",
		"YOUSIGN_WEBHOOK_SECRETS="+w.Yousign, "YOUSIGN_WEBHOOK_SECRETS_FILE=",
	)
}

// workerEnv points the worker's three provider clients at the sandbox; conn says how to reach Temporal, payload
// is the payload key (empty: the sandbox's synthetic users in plaintext).
func workerEnv(conn []string, sandboxURL string, c sandbox.Credentials, payload *PayloadSecrets) []string {
	return append(append(append(slices.Clip(conn), payloadEnv(payload)...), tracingOff...),
		"TREEZOR_BASE_URL="+sandboxURL+"/treezor",
		"TREEZOR_CLIENT_ID="+c.TreezorClientID, "TREEZOR_CLIENT_SECRET="+c.TreezorClientSecret,
		"TREEZOR_CLIENT_SECRET_FILE=", "TREEZOR_SCOPE=",
		"SOLARIS_BASE_URL="+sandboxURL+"/solaris",
		"SOLARIS_TOKEN_URL="+sandboxURL+"/solaris/oauth2/token",
		"SOLARIS_CLIENT_ID="+c.SolarisClientID, "SOLARIS_CLIENT_SECRET="+c.SolarisClientSecret,
		"SOLARIS_CLIENT_SECRET_FILE=",
		"YOUSIGN_BASE_URL="+sandboxURL+"/yousign/v3",
		"YOUSIGN_API_KEY="+c.YousignAPIKey, "YOUSIGN_API_KEY_FILE=",
	)
}

// tracingOff blanks the developer's OTLP settings (an endpoint, its headers with an API key): the stack's
// processes trace only when a test or tool asks for it (StackOptions.Env, which comes later and wins).
var tracingOff = []string{"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "OTEL_EXPORTER_OTLP_HEADERS=",
	"OTEL_EXPORTER_OTLP_TRACES_HEADERS="}

// DevServerConnectionEnv points a kycflow process at a plaintext dev server, and blanks every other connection
// setting the developer's shell or temporal CLI profile may hold (an API key or TLS files would turn TLS on).
func DevServerConnectionEnv(hostPort string) []string {
	return connectionEnv(os.DevNull, "", hostPort, "default")
}

// connectionEnv is a process' whole connection: the profile file and name, or the address and namespace; every
// other connection variable is blanked, so nothing of the caller's shell adds to it.
func connectionEnv(configFile, profile, address, namespace string) []string {
	return []string{
		"TEMPORAL_CONFIG_FILE=" + configFile, "TEMPORAL_PROFILE=" + profile,
		"TEMPORAL_ADDRESS=" + address, "TEMPORAL_NAMESPACE=" + namespace,
		"TEMPORAL_API_KEY=", "TEMPORAL_TLS=",
		"TEMPORAL_TLS_CLIENT_CERT_PATH=", "TEMPORAL_TLS_CLIENT_KEY_PATH=", "TEMPORAL_TLS_SERVER_CA_CERT_PATH=",
		"TEMPORAL_TLS_CLIENT_CERT_DATA=", "TEMPORAL_TLS_CLIENT_KEY_DATA=", "TEMPORAL_TLS_SERVER_CA_CERT_DATA=",
		"TEMPORAL_TLS_SERVER_NAME=", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=",
	}
}

// extraEnv is what StackOptions.Env adds to one process, and its pprof address when profiling.
func (s *Stack) extraEnv(name string) []string {
	env := s.opts.Env[name]
	if addr := s.ProfileAddrs[name]; addr != "" {
		env = append(slices.Clip(env), pprofserver.EnvAddr+"="+addr)
	}
	return env
}

func (s *Stack) start(name, binary string, env []string) (*Process, error) {
	return s.startArgs(name, binary, nil, env)
}

func (s *Stack) startArgs(name, binary string, args, env []string) (*Process, error) {
	p, err := StartProcess(name, filepath.Join(s.opts.BinDir, binary), args, env, s.out.prefixed(name))
	if err != nil {
		return nil, err
	}
	s.watch(name, p)
	return p, nil
}

// watch reports p on Exited when it exits on its own.
func (s *Stack) watch(name string, p *Process) {
	go func() {
		<-p.Done()
		s.mu.Lock()
		onPurpose := s.stopped[p]
		s.mu.Unlock()
		if !onPurpose {
			select {
			case s.exited <- name:
			default:
			}
		}
	}()
}

// waitHTTP waits until url answers 200, or the process exits.
func (s *Stack) waitHTTP(ctx context.Context, p *Process, url string) error {
	return waitFor(ctx, p, 30*time.Second, httpOK(url))
}

// waitWorker waits until the worker polls kycflow's task queue for workflows and activities.
func (s *Stack) waitWorker(ctx context.Context) error {
	c, err := client.Dial(client.Options{HostPort: s.Temporal.HostPort, Logger: quietLogger{}})
	if err != nil {
		return fmt.Errorf("dial %s: %w", s.Temporal.HostPort, err)
	}
	defer c.Close()
	return waitFor(ctx, s.Worker, 60*time.Second, func(ctx context.Context) error {
		for _, tq := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := c.DescribeTaskQueue(ctx, signals.TaskQueue, tq)
			if err != nil {
				return err
			}
			if len(resp.GetPollers()) == 0 {
				return fmt.Errorf("no %s poller on task queue %s yet", tq, signals.TaskQueue)
			}
		}
		return nil
	})
}

func waitFor(ctx context.Context, p *Process, limit time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited before it was ready: %v", p.Name, p.Err())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %v (last: %v)", p.Name, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func addrOrFree(addr string) (string, error) {
	if addr != "" {
		return addr, nil
	}
	for range 50 {
		port, err := FreePort()
		if err != nil {
			return "", err
		}
		if claimPort(port) {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
		}
	}
	return "", fmt.Errorf("no free port that was not handed out already")
}

// handedOut are the ports this process picked for its children. A port is free only until somebody binds it,
// and the kernel can hand the same free port out twice in a row before a child has started (found in
// `make chaos`: a relay got the same port for its webhooks and its admin address).
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// claimPort reserves port for this process' children; false means it was picked before.
func claimPort(port int) bool {
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports[port] {
		return false
	}
	handedOut.ports[port] = true
	return true
}

// newSecret is a webhook secret for one stack: 32 random bytes, hex.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// lockedWriter serializes the processes' output, line by line, each line prefixed with its process' name.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) prefixed(name string) io.Writer {
	return &prefixWriter{l: l, prefix: []byte(fmt.Sprintf("%-8s| ", name))}
}

type prefixWriter struct {
	l       *lockedWriter
	prefix  []byte
	mu      sync.Mutex
	pending []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, b...)
	for {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte{}, p.prefix...), p.pending[:i+1]...)
		p.pending = p.pending[i+1:]
		p.l.mu.Lock()
		_, err := p.l.w.Write(line)
		p.l.mu.Unlock()
		if err != nil && !errors.Is(err, os.ErrClosed) {
			return len(b), err
		}
	}
	return len(b), nil
}
