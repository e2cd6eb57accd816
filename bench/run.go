package bench

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/kycflow/kycflow/activities/treezor"
	"github.com/kycflow/kycflow/internal/devstack"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// Options size a run. The defaults finish in a few minutes on 2 cores.
type Options struct {
	Flows          int
	Concurrency    int
	URLCalls       int
	WebhookRate    int
	Webhooks       int
	Waiting        int
	WaitingClients int
	// Rounds splits the flows into alternating bare and kycflow rounds.
	Rounds int
}

// Report is what a run measured; it is printed as a table and written as JSON.
type Report struct {
	// Engine is what Temporal ran on: "dev server" (SQLite) or "cluster" (Temporal's server on PostgreSQL).
	Engine  string    `json:"engine"`
	Commit  string    `json:"commit"`
	Started time.Time `json:"started"`
	Machine string    `json:"machine"`
	// CPUs is how many cores the processes shared: the busy share of the throughput rows is out of these.
	CPUs    int     `json:"cpus"`
	Options Options `json:"options"`
	// DevServerConfig is the dynamic configuration the dev server ran with, beyond start-dev's own.
	DevServerConfig []string `json:"devServerConfig"`
	Baseline        Flows    `json:"baseline"`
	Kycflow         Flows    `json:"kycflow"`
	// Peer is the same live verification written by hand (PeerLiveness): what a user's alternative costs.
	Peer Flows `json:"peer"`
	// PeerThroughputRatio is kycflow's flows/s over the peer's (target >= 0.95); PeerCPURatio kycflow's CPU per
	// flow over the peer's (target <= 1.1); PeerBillableRatio and PeerHistoryRatio the same for billable actions
	// (target <= 1.3) and history bytes (target <= 1.5).
	PeerThroughputRatio float64 `json:"peerThroughputRatio"`
	PeerCPURatio        float64 `json:"peerCpuRatio"`
	PeerBillableRatio   float64 `json:"peerBillableRatio"`
	PeerHistoryRatio    float64 `json:"peerHistoryRatio"`
	// ThroughputRatio is kycflow's flows/s over the bare engine's (target >= 0.9).
	ThroughputRatio float64 `json:"throughputRatio"`
	// CPURatio is the bare engine's CPU per flow over kycflow's: what ThroughputRatio comes to when both sides keep
	// the cores busy.
	CPURatio  float64    `json:"cpuRatio"`
	TimeToURL []URLTimes `json:"timeToUrl"`
	// SandboxInitiate is the sandbox's own response time to a liveness initiation, which kycflow cannot go below.
	SandboxInitiate Summary     `json:"sandboxInitiate"`
	WebhookAck      WebhookAcks `json:"webhookAck"`
	Waiting         Waiting     `json:"waiting"`
}

// Flows is the throughput and end-to-end latency of N complete flows.
type Flows struct {
	Count      int     `json:"count"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"perSecond"`
	EndToEnd   Summary `json:"endToEnd"`
	Mismatches int     `json:"mismatches"`
	// CPUMsPerFlow is each process' CPU time per flow: where the 2 cores went.
	CPUMsPerFlow map[string]float64 `json:"cpuMsPerFlow"`
	// EnginePerFlow is the engine's work per flow, from the dev server's metrics.
	EnginePerFlow EngineWork `json:"enginePerFlow"`
	// Shape is one flow's history, read back from the engine: what it persisted for the flow. It is the median
	// (by billable actions, then events) of ShapeSamples flows spread over the rounds: a flow starts a wait's
	// timer or not depending on whether the wait's webhook is already in, so one flow's figures vary by a few
	// actions and events. Spread gives the least and the most of those flows.
	Shape        Shape       `json:"shape"`
	ShapeSamples int         `json:"shapeSamples"`
	Spread       ShapeSpread `json:"spread"`
}

// ShapeSpread is the range of the flows read back: billable actions and history events.
type ShapeSpread struct {
	BillableMin int `json:"billableMin"`
	BillableMax int `json:"billableMax"`
	EventsMin   int `json:"eventsMin"`
	EventsMax   int `json:"eventsMax"`
}

// shapeSamples is how many flows of each side have their history read back.
const shapeSamples = 9

// sampledFlow says whether flow idx of n is one of the shapeSamples read back: flows k*n/shapeSamples, spread
// evenly over the rounds (all of them when n is smaller).
func sampledFlow(idx, n int) bool {
	k := (idx*shapeSamples + n - 1) / n
	return k*n/shapeSamples == idx
}

// medianShape is the median of shapes by billable actions, then events, with their spread.
func medianShape(shapes []Shape) (Shape, ShapeSpread) {
	if len(shapes) == 0 {
		return Shape{}, ShapeSpread{}
	}
	sorted := slices.Clone(shapes)
	slices.SortFunc(sorted, func(a, b Shape) int {
		return cmp.Or(cmp.Compare(a.Billable(), b.Billable()), cmp.Compare(a.Events, b.Events))
	})
	spread := ShapeSpread{BillableMin: sorted[0].Billable(), BillableMax: sorted[len(sorted)-1].Billable(),
		EventsMin: sorted[0].Events, EventsMax: sorted[0].Events}
	for _, s := range sorted {
		spread.EventsMin, spread.EventsMax = min(spread.EventsMin, s.Events), max(spread.EventsMax, s.Events)
	}
	return sorted[len(sorted)/2], spread
}

// CPUMs is the CPU time per flow of every process on the side.
func (f Flows) CPUMs() float64 {
	return Total(f.CPUMsPerFlow)
}

// Busy is the share of cpus the side's processes kept busy. Near 1, throughput is bound by CPU per flow, and the
// ratio of two sides' CPU per flow predicts the ratio of their throughputs.
func (f Flows) Busy(cpus int) float64 {
	if cpus <= 0 {
		return 0
	}
	return f.CPUMs() * f.PerSecond / 1000 / float64(cpus)
}

// Shape counts one flow's history events by kind, so that the table shows that the bare flow still has a live
// verification's shape, and what kycflow adds to it. Workflow tasks vary from flow to flow with load: signals that
// arrive together share one.
type Shape struct {
	Events        int `json:"events"`
	Signals       int `json:"signals"`
	Activities    int `json:"activities"`
	WorkflowTasks int `json:"workflowTasks"`
	Timers        int `json:"timers"`
	// Upserts counts search attribute upserts, VersionUpserts those that only set TemporalChangeVersion (the SDK's,
	// with each new GetVersion marker): Temporal Cloud does not bill those.
	Upserts        int `json:"searchAttributeUpserts"`
	VersionUpserts int `json:"versionUpserts"`
	Updates        int `json:"updates"`
	// ActivityAttempts counts each activity's attempts (its started event's attempt number), retries included.
	ActivityAttempts int `json:"activityAttempts"`
	// Markers are recorded markers: versions (GetVersion), local activities and side effects; LocalActivities and
	// SideEffects count those two kinds. LocalActivityTasks counts the workflow tasks that recorded local
	// activities: Temporal Cloud bills "all Local Activities associated with one Workflow Task" as one action.
	Markers            int `json:"markers"`
	LocalActivities    int `json:"localActivities"`
	LocalActivityTasks int `json:"localActivityTasks"`
	SideEffects        int `json:"sideEffects"`
	// lastLocalActivityTask is the workflow task of the last local activity marker counted: a task's commands,
	// and so its markers, are consecutive events.
	lastLocalActivityTask int64
	// HistoryBytes is the size of the history's events as the engine stores them (protobuf).
	HistoryBytes int `json:"historyBytes"`
}

// Billable counts the history's Temporal Cloud actions (docs.temporal.io/cloud/actions): the start, signals,
// updates, activity attempts, workflow tasks with local activities, timers, search attribute upserts and side
// effects. Queries, heartbeats (an activity's, or a workflow task's held open by a long local activity) and what
// happens outside the history are not in it; neither is a version marker nor its TemporalChangeVersion upsert,
// which "is also exempt from Action counting".
func (s Shape) Billable() int {
	return 1 + s.Signals + s.Updates + s.ActivityAttempts + s.LocalActivityTasks + s.Timers + s.Upserts - s.VersionUpserts + s.SideEffects
}

// URLTimes compares kycflow's Start with a bare Update-with-Start at one concurrency.
type URLTimes struct {
	Concurrency int     `json:"concurrency"`
	Bare        Summary `json:"bare"`
	Kycflow     Summary `json:"kycflow"`
	// P50Ratio is kycflow's p50 over (bare p50 + the sandbox's p50); target <= 1.2.
	P50Ratio float64 `json:"p50Ratio"`
}

// WebhookAcks compares the relay's acknowledgement with a direct SignalWorkflow at the same rate.
type WebhookAcks struct {
	Rate   int     `json:"ratePerSecond"`
	Relay  Summary `json:"relay"`
	Direct Summary `json:"direct"`
	// P99Ratio is the relay's p99 over the direct signal's (target <= 1.5).
	P99Ratio float64 `json:"p99Ratio"`
	Errors   int     `json:"errors"`
}

// Waiting is the memory held by verifications parked on their 14-day wait, and how fast one wakes up.
type Waiting struct {
	Count          int     `json:"count"`
	StartSeconds   float64 `json:"startSeconds"`
	WorkerRSSMB    float64 `json:"workerRssMb"`
	TemporalRSSMB  float64 `json:"temporalRssMb"`
	WorkerIdleMB   float64 `json:"workerRssBeforeMb"`
	TemporalIdleMB float64 `json:"temporalRssBeforeMb"`
	// DBMB is the engine's database on disk (the dev server's SQLite file and WAL, or PostgreSQL's data folder).
	DBMB float64 `json:"dbMb"`
	// WakeEvicted and WakeCached are the times from a signal to the workflow task that handled it being completed
	// (both read from the history), for verifications parked long before (out of the worker's cache) and just
	// before (still in it): the evicted replay their history first.
	WakeEvicted Summary `json:"wakeEvicted"`
	WakeCached  Summary `json:"wakeCached"`
	// WakeRatio is the evicted p99 over the cached p99 (target <= 3).
	WakeRatio float64 `json:"wakeRatio"`
}

// Target is the stack a run measures: the dev server stack of `make run` or the PostgreSQL cluster of `make
// cluster`, seen the same way.
type Target struct {
	// Engine names it in the report ("dev server", "cluster").
	Engine string
	// EngineMetricsURL is the Temporal server's Prometheus endpoint (empty: the engine figures stay empty).
	EngineMetricsURL string
	SandboxURL       string
	RelayURL         string
	Credentials      sandbox.Credentials
	WebhookSecrets   sandbox.WebhookSecrets
	// PIDs are the processes whose CPU and memory are read, by role: "temporal" (the engine; on the cluster
	// "postgres" too), "worker", "relay", "sandbox".
	PIDs func() map[string]int
	// ConnectionEnv connects another process (the peer's) to the same Temporal, with the same payload key.
	ConnectionEnv []string
}

// DevServerTarget is the dev server stack.
func DevServerTarget(s *devstack.Stack) Target {
	return Target{Engine: "dev server", EngineMetricsURL: s.Temporal.MetricsURL, SandboxURL: s.SandboxURL, RelayURL: s.RelayURL,
		Credentials: s.Credentials, WebhookSecrets: s.WebhookSecrets(),
		PIDs: func() map[string]int {
			return map[string]int{"temporal": s.Temporal.PID(), "worker": s.Worker.PID(), "relay": s.Relay.PID(), "sandbox": s.Sandbox.PID()}
		},
		// The stack runs in plaintext: so does the peer, whatever key the shell holds.
		ConnectionEnv: append(devstack.DevServerConnectionEnv(s.Temporal.HostPort), "KYCFLOW_PAYLOAD_KEY=", "KYCFLOW_PAYLOAD_KEY_FILE="),
	}
}

// Runner holds the stack a run measures.
type Runner struct {
	Stack   Target
	Client  client.Client
	Starter *starter.Starter
	Log     io.Writer
	// Peer is the hand-written peer's process (StartPeer).
	Peer *devstack.Process
	// Profile, when set, takes CPU profiles of kycflow's processes during the kycflow flows.
	Profile *Profile
	// DBPaths are the engine's database files or folders, for their size on disk.
	DBPaths []string
	http    *http.Client
	opts    Options
}

// BaselinePollers matches the kycflow worker's default (KYCFLOW_WORKER_POLLERS), so that the ratio measures
// kycflow's own overhead, not a difference in worker tuning.
const BaselinePollers = 4

// NewRunner starts the bare workflow's worker on the stack's dev server.
func NewRunner(stack Target, c client.Client, opts Options, log io.Writer) (*Runner, error) {
	w := sdkworker.New(c, BaselineTaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers: BaselinePollers,
		MaxConcurrentActivityTaskPollers: BaselinePollers,
	})
	w.RegisterWorkflowWithOptions(Baseline, workflow.RegisterOptions{Name: BaselineWorkflow})
	w.RegisterActivity(&BaselineActivities{Signal: func(ctx context.Context, id string) error {
		return c.SignalWorkflow(ctx, id, "", BaselineSignal, nil)
	}})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start the baseline worker: %w", err)
	}
	return &Runner{Stack: stack, Client: c, Starter: &starter.Starter{Client: c}, Log: log,
		http: &http.Client{Timeout: 10 * time.Second}, opts: opts}, nil
}

func (r *Runner) logf(format string, args ...any) { fmt.Fprintf(r.Log, format+"\n", args...) }

// StartPeer runs the hand-written peer (`binary peer`, kycflow-bench itself) against the stack's dev server, in a
// process of its own so that its CPU is counted apart, and waits until its worker polls.
func (r *Runner) StartPeer(ctx context.Context, binary string, out io.Writer) error {
	addr, err := devstack.FreePort()
	if err != nil {
		return err
	}
	hostPort := "127.0.0.1:" + strconv.Itoa(addr)
	p, err := devstack.StartProcess("peer", binary, []string{"peer", "-addr", hostPort}, r.Stack.ConnectionEnv, out)
	if err != nil {
		return err
	}
	r.Peer = p
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := r.Client.DescribeTaskQueue(ctx, PeerTaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		if err == nil && len(resp.GetPollers()) > 0 {
			if resp, err := r.http.Get("http://" + hostPort + "/healthz"); err == nil {
				resp.Body.Close()
				return nil
			}
		}
		select {
		case <-p.Done():
			return fmt.Errorf("the peer exited: %v", p.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return errors.New("the peer's worker did not poll within a minute")
}

// Run measures every section in turn.
func (r *Runner) Run(ctx context.Context, rep *Report) error {
	var err error
	if rep.Baseline, rep.Kycflow, rep.Peer, err = r.flows(ctx); err != nil {
		return err
	}
	rep.ThroughputRatio = round2(rep.Kycflow.PerSecond / rep.Baseline.PerSecond)
	if kc := rep.Kycflow.CPUMs(); kc > 0 {
		rep.CPURatio = round2(rep.Baseline.CPUMs() / kc)
	}
	if rep.Peer.Count > 0 {
		rep.PeerThroughputRatio = round2(rep.Kycflow.PerSecond / rep.Peer.PerSecond)
		rep.PeerCPURatio = round2(rep.Kycflow.CPUMs() / rep.Peer.CPUMs())
		rep.PeerBillableRatio = round2(float64(rep.Kycflow.Shape.Billable()) / float64(rep.Peer.Shape.Billable()))
		rep.PeerHistoryRatio = round2(float64(rep.Kycflow.Shape.HistoryBytes) / float64(rep.Peer.Shape.HistoryBytes))
	}
	r.logf("2/4 time to URL")
	if rep.SandboxInitiate, err = r.sandboxInitiate(ctx); err != nil {
		return err
	}
	for _, c := range []int{1, 16} {
		u, err := r.timeToURL(ctx, c, rep.SandboxInitiate)
		if err != nil {
			return err
		}
		rep.TimeToURL = append(rep.TimeToURL, u)
	}
	r.logf("3/4 webhook acknowledgement at %d/s", r.opts.WebhookRate)
	if rep.WebhookAck, err = r.webhookAck(ctx); err != nil {
		return err
	}
	r.logf("4/4 %d verifications waiting on their 14-day link", r.opts.Waiting)
	rep.Waiting, err = r.waiting(ctx)
	return err
}

// parallel runs n jobs on c goroutines and returns the wall time.
func parallel(ctx context.Context, n, c int, job func(ctx context.Context, i int) error) (time.Duration, error) {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := job(ctx, i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// bareUpdateWithStart starts the bare workflow and waits for its update, as kycflow's Start does.
func (r *Runner) bareUpdateWithStart(ctx context.Context, id string, park bool) error {
	return r.updateWithStart(ctx, id, BaselineTaskQueue, BaselineWorkflow, park, BaselineUpdate, nil)
}

// updateWithStart starts workflowType with arg as id (or joins it) and waits for update's result into out (nil:
// discarded), as kycflow's Start does with its URL update.
func (r *Runner) updateWithStart(ctx context.Context, id, taskQueue, workflowType string, arg any, update string, out any) error {
	op := r.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflowType, arg)
	h, err := r.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: update, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return fmt.Errorf("update-with-start %s: %w", id, err)
	}
	return h.Get(ctx, out)
}

// subject asks the sandbox for a user who plays a scenario.
func (r *Runner) subject(ctx context.Context, method signals.Method, scenario string) (sandbox.SubjectResponse, error) {
	body, _ := json.Marshal(sandbox.SubjectRequest{Method: method, Scenario: scenario})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Stack.SandboxURL+"/sandbox/subjects", bytes.NewReader(body))
	if err != nil {
		return sandbox.SubjectResponse{}, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return sandbox.SubjectResponse{}, fmt.Errorf("sandbox subject: %w", err)
	}
	defer resp.Body.Close()
	var out sandbox.SubjectResponse
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return out, fmt.Errorf("sandbox subject: HTTP %d: %s", resp.StatusCode, b)
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

func (r *Runner) subjects(ctx context.Context, n int, method signals.Method, scenario string) ([]string, error) {
	ids := make([]string, n)
	_, err := parallel(ctx, n, 8, func(ctx context.Context, i int) error {
		s, err := r.subject(ctx, method, scenario)
		ids[i] = s.SubjectID
		return err
	})
	return ids, err
}

// side accumulates one side's rounds.
type side struct {
	lat        Latencies
	elapsed    time.Duration
	count      int
	mismatches atomic.Int64
	cpuSeconds map[string]float64
	work       EngineWork
	// sampled names the flows whose histories are read back (shapeSamples, spread over the flows).
	mu      sync.Mutex
	sampled []string
}

// flows measures the bare engine, kycflow and the hand-written peer (when it runs) on the same number of complete
// flows, in alternating rounds, so that all see the same machine, the same database size and the same dev server
// warmth; which side goes first rotates too.
func (r *Runner) flows(ctx context.Context) (bare, kyc, peer Flows, err error) {
	rounds := max(1, min(r.opts.Rounds, r.opts.Flows))
	r.logf("1/4 %d flows each: bare engine, kycflow (starter, worker, sandbox, relay) and the hand-written peer, concurrency %d, in %d alternating rounds",
		r.opts.Flows, r.opts.Concurrency, rounds)
	// The sandbox's users exist before the measure, as a signup backend's users exist before their verification.
	users, err := r.subjects(ctx, r.opts.Flows, signals.MethodTreezorLiveness, "HAPPYPATH")
	if err != nil {
		return Flows{}, Flows{}, Flows{}, err
	}
	b, k, p := &side{cpuSeconds: map[string]float64{}}, &side{cpuSeconds: map[string]float64{}}, &side{cpuSeconds: map[string]float64{}}
	run := uuid.NewString()[:8]
	type turn struct {
		name string
		s    *side
		job  func(ctx context.Context, i int) (string, error)
	}
	turns := []turn{{"bare engine", b, r.bareFlow(run)}, {"kycflow", k, r.kycflowFlow(users, &k.mismatches)}}
	if r.Peer != nil {
		turns = append(turns, turn{"hand-written peer", p, r.peerFlow(run, &p.mismatches)})
	}
	profiled := func() error { return nil }
	for round := range rounds {
		from, to := round*r.opts.Flows/rounds, (round+1)*r.opts.Flows/rounds
		for j := range turns {
			t := turns[(round+j)%len(turns)]
			work := r.settledEngineWork(ctx)
			cpu := r.cpu()
			if t.s == k && round == 0 {
				profiled = r.Profile.start(ctx, r.logf)
			}
			r.logf("  round %d/%d: %s, %d flows", round+1, rounds, t.name, to-from)
			s := t.s
			elapsed, err := parallel(ctx, to-from, r.opts.Concurrency, func(ctx context.Context, i int) error {
				start := time.Now()
				id, err := t.job(ctx, from+i)
				if err != nil {
					return err
				}
				s.lat.Add(time.Since(start))
				if sampledFlow(from+i, r.opts.Flows) {
					s.mu.Lock()
					s.sampled = append(s.sampled, id) // read once the rounds are done
					s.mu.Unlock()
				}
				return nil
			})
			if err != nil {
				return Flows{}, Flows{}, Flows{}, err
			}
			s.elapsed += elapsed
			s.count += to - from
			// The engine finishes a turn's visibility writes after its flows end, and publishes its counters
			// about once a second: wait for both, so they count for this side and not the next.
			s.work = s.work.Add(r.settledEngineWork(ctx).Sub(work))
			for proc, secs := range r.cpu() {
				s.cpuSeconds[proc] += secs - cpu[proc]
			}
		}
	}
	if err := profiled(); err != nil {
		return Flows{}, Flows{}, Flows{}, err
	}
	if bare, err = r.summarize(ctx, b, "bench"); err != nil {
		return Flows{}, Flows{}, Flows{}, err
	}
	if kyc, err = r.summarize(ctx, k, "temporal", "worker", "relay", "sandbox", "bench"); err != nil {
		return Flows{}, Flows{}, Flows{}, err
	}
	if r.Peer != nil {
		peer, err = r.summarize(ctx, p, "temporal", "peer", "bench")
	}
	return bare, kyc, peer, err
}

// peerFlow is one hand-written flow: Update-with-Start for the URL, as kycflow's Start, then its result.
func (r *Runner) peerFlow(run string, mismatches *atomic.Int64) func(ctx context.Context, i int) (string, error) {
	return func(ctx context.Context, i int) (string, error) {
		id := fmt.Sprintf("bench-peer-%s-%d", run, i)
		var url string
		if err := r.updateWithStart(ctx, id, PeerTaskQueue, PeerWorkflow, strconv.Itoa(100000+i), PeerUpdate, &url); err != nil || url == "" {
			return "", fmt.Errorf("URL of %s: %v", id, err)
		}
		var outcome string
		if err := r.Client.GetWorkflow(ctx, id, "").Get(ctx, &outcome); err != nil {
			return "", fmt.Errorf("result of %s: %w", id, err)
		}
		if outcome != "approved" {
			mismatches.Add(1)
			r.logf("  %s ended %s", id, outcome)
		}
		return id, nil
	}
}

// bareFlow is one bare flow: Update-with-Start, then its result.
func (r *Runner) bareFlow(run string) func(ctx context.Context, i int) (string, error) {
	return func(ctx context.Context, i int) (string, error) {
		id := fmt.Sprintf("bench-baseline-%s-%d", run, i)
		if err := r.bareUpdateWithStart(ctx, id, false); err != nil {
			return "", err
		}
		if err := r.Client.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
			return "", fmt.Errorf("result of %s: %w", id, err)
		}
		return id, nil
	}
}

// kycflowFlow is one live verification through the starter, as a signup backend runs it, counting outcomes that
// are not the scenario's.
func (r *Runner) kycflowFlow(users []string, mismatches *atomic.Int64) func(ctx context.Context, i int) (string, error) {
	return func(ctx context.Context, i int) (string, error) {
		v, _, err := r.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: users[i]})
		if err != nil {
			return "", err
		}
		o, err := r.Starter.Wait(ctx, v)
		if err != nil {
			return "", err
		}
		if o.Status != signals.OutcomeApproved {
			mismatches.Add(1)
			r.logf("  %s ended %s: %s", v.WorkflowID, o.Status, o.Detail)
		}
		return v.WorkflowID, nil
	}
}

// summarize turns a side's rounds into its figures; procs are the processes that worked for it (the others' CPU
// during its turns is idle noise, and left out).
func (r *Runner) summarize(ctx context.Context, s *side, procs ...string) (Flows, error) {
	f := Flows{Count: s.count, Seconds: round2(s.elapsed.Seconds()), PerSecond: round2(float64(s.count) / s.elapsed.Seconds()),
		EndToEnd: s.lat.Summarize(), Mismatches: int(s.mismatches.Load()),
		CPUMsPerFlow: map[string]float64{}, EnginePerFlow: s.work.PerFlow(s.count)}
	for name, secs := range s.cpuSeconds {
		if slices.Contains(procs, name) || name == "temporal" || name == "postgres" {
			f.CPUMsPerFlow[name] = round2(secs * 1000 / float64(s.count))
		}
	}
	shapes := make([]Shape, 0, len(s.sampled))
	for _, id := range s.sampled {
		sh, err := r.shape(ctx, id)
		if err != nil {
			return f, err
		}
		shapes = append(shapes, sh)
	}
	f.Shape, f.Spread = medianShape(shapes)
	f.ShapeSamples = len(shapes)
	return f, nil
}

// changeVersionAttribute is the search attribute the Go SDK upserts with each new GetVersion marker (it does not
// export the name).
const changeVersionAttribute = "TemporalChangeVersion"

// shape reads a finished flow's history back from the dev server.
func (r *Runner) shape(ctx context.Context, workflowID string) (Shape, error) {
	var s Shape
	it := r.Client.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return Shape{}, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		s.add(e)
	}
	return s, nil
}

// add counts one history event.
func (s *Shape) add(e *historypb.HistoryEvent) {
	s.Events++
	s.HistoryBytes += proto.Size(e)
	switch e.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		s.Signals++
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		s.Activities++
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
		s.WorkflowTasks++
	case enumspb.EVENT_TYPE_TIMER_STARTED:
		s.Timers++
	case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		s.Upserts++
		fields := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()
		if _, ok := fields[changeVersionAttribute]; ok && len(fields) == 1 {
			s.VersionUpserts++
		}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		s.Updates++
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
		s.ActivityAttempts += int(max(1, e.GetActivityTaskStartedEventAttributes().GetAttempt()))
	case enumspb.EVENT_TYPE_MARKER_RECORDED:
		s.Markers++
		switch e.GetMarkerRecordedEventAttributes().GetMarkerName() {
		case "SideEffect", "MutableSideEffect":
			s.SideEffects++
		case "LocalActivity":
			s.LocalActivities++
			if task := e.GetMarkerRecordedEventAttributes().GetWorkflowTaskCompletedEventId(); task != s.lastLocalActivityTask {
				s.LocalActivityTasks++
				s.lastLocalActivityTask = task
			}
		}
	}
}

// sandboxInitiate times the sandbox's liveness initiation through kycflow's own Treezor client (token cached).
func (r *Runner) sandboxInitiate(ctx context.Context) (Summary, error) {
	creds := r.Stack.Credentials
	c, err := treezor.New(treezor.Config{BaseURL: r.Stack.SandboxURL + "/treezor", ClientID: creds.TreezorClientID, ClientSecret: creds.TreezorClientSecret})
	if err != nil {
		return Summary{}, err
	}
	users, err := r.subjects(ctx, r.opts.URLCalls, signals.MethodTreezorLiveness, "LINKEXPIRED")
	if err != nil {
		return Summary{}, err
	}
	var lat Latencies
	for _, u := range users {
		start := time.Now()
		if _, err := c.InitiateLiveness(ctx, u, ""); err != nil {
			return Summary{}, err
		}
		lat.Add(time.Since(start))
	}
	return lat.Summarize(), nil
}

func (r *Runner) timeToURL(ctx context.Context, concurrency int, sandboxTime Summary) (URLTimes, error) {
	n := r.opts.URLCalls * concurrency / min(concurrency, 4)
	users, err := r.subjects(ctx, n, signals.MethodTreezorLiveness, "LINKEXPIRED")
	if err != nil {
		return URLTimes{}, err
	}
	var bare, kyc Latencies
	run := uuid.NewString()[:8]
	// Interleaved, so that both see the same machine load.
	_, err = parallel(ctx, n, concurrency, func(ctx context.Context, i int) error {
		start := time.Now()
		if err := r.bareUpdateWithStart(ctx, fmt.Sprintf("bench-url-%s-%d", run, i), true); err != nil {
			return err
		}
		bare.Add(time.Since(start))
		start = time.Now()
		if _, _, err := r.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: users[i]}); err != nil {
			return err
		}
		kyc.Add(time.Since(start))
		return nil
	})
	if err != nil {
		return URLTimes{}, err
	}
	u := URLTimes{Concurrency: concurrency, Bare: bare.Summarize(), Kycflow: kyc.Summarize()}
	u.P50Ratio = round2(u.Kycflow.P50ms / (u.Bare.P50ms + sandboxTime.P50ms))
	return u, nil
}

// webhookAck sends the same document.create events at the same rate through the relay (signed, as Treezor
// would) and directly with SignalWorkflow, alternating the two in rounds so that both see the same load.
func (r *Runner) webhookAck(ctx context.Context) (WebhookAcks, error) {
	users, err := r.subjects(ctx, 20, signals.MethodTreezorLiveness, "LINKEXPIRED")
	if err != nil {
		return WebhookAcks{}, err
	}
	for _, u := range users {
		if _, _, err := r.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: u}); err != nil {
			return WebhookAcks{}, err
		}
	}
	var relayLat, directLat Latencies
	var errs atomic.Int64
	const rounds = 4
	per := r.opts.Webhooks / (2 * rounds)
	interval := time.Second / time.Duration(r.opts.WebhookRate)
	for round := range rounds {
		for _, viaRelay := range []bool{round%2 == 0, round%2 == 1} {
			var wg sync.WaitGroup
			tick := time.NewTicker(interval)
			for i := range per {
				<-tick.C
				wg.Add(1)
				go func() {
					defer wg.Done()
					user := users[i%len(users)]
					event := fmt.Sprintf("bench-%d-%d-%t", round, i, viaRelay)
					start := time.Now()
					if viaRelay {
						if err := r.postTreezorDocument(ctx, user, event); err != nil {
							errs.Add(1)
							return
						}
						relayLat.Add(time.Since(start))
						return
					}
					err := r.Client.SignalWorkflow(ctx, signals.WorkflowID(signals.ProviderTreezor, user), "", signals.SignalTreezorDocumentCreate,
						signals.TreezorDocumentEvent{Webhook: signals.Webhook{EventID: event}, UserID: user, DocumentID: event, DocumentTypeID: 9})
					if err != nil {
						errs.Add(1)
						return
					}
					directLat.Add(time.Since(start))
				}()
			}
			tick.Stop()
			wg.Wait()
		}
	}
	a := WebhookAcks{Rate: r.opts.WebhookRate, Relay: relayLat.Summarize(), Direct: directLat.Summarize(), Errors: int(errs.Load())}
	a.P99Ratio = round2(a.Relay.P99ms / a.Direct.P99ms)
	return a, nil
}

// postTreezorDocument posts a signed document.create webhook to the relay; its payload is plain ASCII without '/',
// so its bytes are Treezor's canonical form.
func (r *Runner) postTreezorDocument(ctx context.Context, user, event string) error {
	payload := `{"documents":[{"documentId":"` + event + `","userId":"` + user + `","documentTypeId":"9","documentStatus":"PENDING"}]}`
	mac := hmac.New(sha256.New, []byte(r.Stack.WebhookSecrets.Treezor))
	mac.Write([]byte(payload))
	body := `{"webhook":"document.create","webhook_id":"` + event + `","webhook_created_at":"` +
		strconv.FormatInt(time.Now().UnixMicro()/100, 10) + `","object":"document","object_id":"` + event +
		`","object_payload":` + payload + `,"object_payload_signature":"` + base64.StdEncoding.EncodeToString(mac.Sum(nil)) + `"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Stack.RelayURL+"/webhooks/treezor", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("relay answered %d", resp.StatusCode)
	}
	return nil
}

// waiting parks verifications on their 14-day IDnow link and reads the worker's and the dev server's memory.
func (r *Runner) waiting(ctx context.Context) (Waiting, error) {
	w := Waiting{Count: r.opts.Waiting}
	var err error
	if w.WorkerIdleMB, w.TemporalIdleMB, err = r.rss(); err != nil {
		return w, err
	}
	users, err := r.subjects(ctx, r.opts.Waiting, signals.MethodTreezorQES, "LINKEXPIRED")
	if err != nil {
		return w, err
	}
	var done atomic.Int64
	elapsed, err := parallel(ctx, r.opts.Waiting, r.opts.WaitingClients, func(ctx context.Context, i int) error {
		_, _, err := r.Starter.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorQES, SubjectID: users[i]})
		if n := done.Add(1); n%1000 == 0 {
			r.logf("  %d parked", n)
		}
		return err
	})
	if err != nil {
		return w, err
	}
	w.StartSeconds = round2(elapsed.Seconds())
	// Let the worker settle: its sticky cache holds the runs it just served.
	time.Sleep(5 * time.Second)
	if w.WorkerRSSMB, w.TemporalRSSMB, err = r.rss(); err != nil {
		return w, err
	}
	w.DBMB = round2(float64(diskSize(r.DBPaths)) / (1 << 20))
	// Wake-up: the first parked are long out of the worker's cache (KYCFLOW_WORKFLOW_CACHE_SIZE, 1000), the last
	// are in it. Each is woken by the backend's cancel, one at a time, alternating.
	// Below twice the cache's size, the first parked may still be cached: no evicted sample to compare.
	if r.opts.Waiting < 2*workerCacheSize {
		r.logf("  wake-up not measured: %d waiting is under twice the worker's cache (%d)", r.opts.Waiting, workerCacheSize)
		return w, nil
	}
	samples := min(50, r.opts.Waiting/4)
	var evicted, cached Latencies
	for i := range samples {
		for _, pick := range []struct {
			subject string
			lat     *Latencies
		}{{users[i], &evicted}, {users[len(users)-1-i], &cached}} {
			d, err := r.wake(ctx, signals.WorkflowID(signals.ProviderTreezor, pick.subject))
			if err != nil {
				return w, err
			}
			pick.lat.Add(d)
		}
	}
	w.WakeEvicted, w.WakeCached = evicted.Summarize(), cached.Summarize()
	if w.WakeCached.P99ms > 0 {
		w.WakeRatio = round2(w.WakeEvicted.P99ms / w.WakeCached.P99ms)
	}
	return w, nil
}

// workerCacheSize is the worker's default KYCFLOW_WORKFLOW_CACHE_SIZE, which the benchmark's worker runs with.
const workerCacheSize = 1000

// wake cancels a parked verification and returns the time from its signal to the completion of the workflow task
// that took it, as the history records them.
func (r *Runner) wake(ctx context.Context, workflowID string) (time.Duration, error) {
	if err := r.Client.SignalWorkflow(ctx, workflowID, "", signals.SignalCancel, signals.CancelRequest{Reason: "benchmark wake-up"}); err != nil {
		return 0, fmt.Errorf("wake %s: %w", workflowID, err)
	}
	if _, err := r.Starter.Wait(ctx, starter.Verification{WorkflowID: workflowID}); err != nil {
		return 0, fmt.Errorf("wait for %s: %w", workflowID, err)
	}
	var signalled time.Time
	it := r.Client.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, err
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			if e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == signals.SignalCancel {
				signalled = e.GetEventTime().AsTime()
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if !signalled.IsZero() {
				return e.GetEventTime().AsTime().Sub(signalled), nil
			}
		}
	}
	return 0, fmt.Errorf("%s: no workflow task completed after the cancel signal", workflowID)
}

func (r *Runner) rss() (worker, temporal float64, err error) {
	pids := r.Stack.PIDs()
	wb, err := RSSBytes(pids["worker"])
	if err != nil {
		return 0, 0, err
	}
	tb, err := RSSBytes(pids["temporal"])
	if err != nil {
		return 0, 0, err
	}
	return round2(float64(wb) / (1 << 20)), round2(float64(tb) / (1 << 20)), nil
}

// cpu reads the CPU seconds used so far by each process of the stack and by this one (the load generator and the
// bare engine's worker).
func (r *Runner) cpu() map[string]float64 {
	pids := r.Stack.PIDs()
	pids["bench"] = os.Getpid()
	if r.Peer != nil {
		pids["peer"] = r.Peer.PID()
	}
	out := map[string]float64{}
	for name, pid := range pids {
		if s, err := CPUSeconds(pid); err == nil {
			out[name] = s
		}
	}
	return out
}

// settledEngineWork reads the engine's counters once they stop moving (at most 5 s): what a turn set off is
// then counted. Timer tasks that fire later, such as workflow task timeouts, still land in a later reading.
func (r *Runner) settledEngineWork(ctx context.Context) EngineWork {
	w := r.engineWork(ctx)
	for range 5 {
		select {
		case <-ctx.Done():
			return w
		case <-time.After(time.Second):
		}
		next := r.engineWork(ctx)
		if Total(next.DBCalls)+Total(next.Tasks) == Total(w.DBCalls)+Total(w.Tasks) {
			return next
		}
		w = next
	}
	return w
}

// engineWork reads the engine's counters; without a metrics endpoint the figures stay empty.
func (r *Runner) engineWork(ctx context.Context) EngineWork {
	if r.Stack.EngineMetricsURL == "" {
		return EngineWork{}
	}
	w, err := ReadEngineWork(ctx, r.http, r.Stack.EngineMetricsURL)
	if err != nil {
		r.logf("  %v", err)
	}
	return w
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// diskSize is the size of files and folders, walked.
func diskSize(paths []string) int64 {
	var n int64
	for _, p := range paths {
		_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // a file PostgreSQL removed meanwhile
			}
			if info, err := d.Info(); err == nil && !d.IsDir() {
				n += info.Size()
			}
			return nil
		})
	}
	return n
}
