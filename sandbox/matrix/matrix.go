// Package matrix runs scenarios of the sandbox's table against a running kycflow stack (dev server, worker, relay
// and sandbox), the way a signup backend would: it creates the Treezor user or the Solaris person through the
// sandbox's provider APIs, with the scenario in the last name, starts the verification with the starter package
// (Update-with-Start, deadlines from the sandbox's clock), cancels it where the scenario says so, and waits for the
// outcome. The demo (cmd/kycflow-demo) and the end-to-end test (e2e/) share it. Development and test use only.
package matrix

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/activities/solaris"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// Config configures a Runner.
type Config struct {
	// SandboxURL is the sandbox's base URL, e.g. http://127.0.0.1:8090.
	SandboxURL string
	// Starter starts and follows the verifications.
	Starter *starter.Starter
	// Credentials are the sandbox's API credentials (default: sandbox.DevCredentials).
	Credentials sandbox.Credentials
	// Concurrency bounds the verifications run at once (0: all).
	Concurrency int
	// Timeout bounds one verification, from creating its subject to its outcome (default 5 minutes).
	Timeout time.Duration
}

// RedirectURL is where the providers send the user after a session: a placeholder of the signup backend.
const RedirectURL = "https://signup.example.test/kyc/done"

// Case is a scenario to run, with the faults the sandbox injects for its subject.
type Case struct {
	Scenario sandbox.Scenario
	Faults   []sandbox.Fault
}

// Name is "method/SCENARIO", followed by "+FAULT" for each fault.
func (c Case) Name() string {
	var b strings.Builder
	b.WriteString(c.Scenario.Key())
	for _, f := range c.Faults {
		b.WriteString("+" + string(f))
	}
	return b.String()
}

// Result is how a case went.
type Result struct {
	Case
	// Verification names the workflow; Subject is the sandbox's statistics key of the subject, FirstName the
	// synthetic first name it was created with (to check that no log shows it).
	Verification starter.Verification
	Subject      string
	FirstName    string
	Outcome      *signals.Outcome
	// Rejected is the field named by a refusal before any verification started, for a scenario that expects one
	// (Scenario.Rejected).
	Rejected string
	// Err is set when the case could not be run to an outcome.
	Err  error
	Took time.Duration
}

// OK reports whether the outcome is the scenario's.
func (r Result) OK() bool {
	if r.Scenario.Rejected != "" {
		return r.Err == nil && r.Rejected == r.Scenario.Rejected
	}
	return r.Err == nil && r.Outcome != nil && r.Outcome.Status == r.Scenario.Expected && r.Outcome.Cause == r.Scenario.Cause
}

// Actual is the outcome as the table prints it, or the error.
func (r Result) Actual() string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	if r.Rejected != "" {
		return sandbox.RejectedText(r.Rejected)
	}
	if r.Outcome == nil {
		return "no outcome"
	}
	return sandbox.OutcomeText(r.Outcome.Status, r.Outcome.Cause)
}

// Runner runs cases.
type Runner struct {
	cfg   Config
	clock sandbox.Clock
	users *treezorUsers
	sol   *solaris.Client
}

// New reads the sandbox's clock (GET /sandbox/config) and returns a Runner.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Starter == nil {
		return nil, errors.New("matrix: a Starter is required")
	}
	cfg.SandboxURL = strings.TrimRight(cfg.SandboxURL, "/")
	if cfg.Credentials == (sandbox.Credentials{}) {
		cfg.Credentials = sandbox.DevCredentials()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	info, err := ReadInfo(ctx, cfg.SandboxURL)
	if err != nil {
		return nil, err
	}
	clock, err := info.Clock()
	if err != nil {
		return nil, fmt.Errorf("sandbox clock: %w", err)
	}
	sol, err := solaris.New(solaris.Config{
		BaseURL: cfg.SandboxURL + "/solaris", TokenURL: cfg.SandboxURL + "/solaris/oauth2/token",
		ClientID: cfg.Credentials.SolarisClientID, ClientSecret: cfg.Credentials.SolarisClientSecret,
	})
	if err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg, clock: clock, sol: sol, users: &treezorUsers{
		base: cfg.SandboxURL + "/treezor", id: cfg.Credentials.TreezorClientID, secret: cfg.Credentials.TreezorClientSecret,
		client: &http.Client{Timeout: 10 * time.Second},
	}}, nil
}

// Clock is the sandbox's clock.
func (r *Runner) Clock() sandbox.Clock { return r.clock }

// ReadInfo reads the sandbox's configuration (GET /sandbox/config).
func ReadInfo(ctx context.Context, sandboxURL string) (sandbox.Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(sandboxURL, "/")+"/sandbox/config", nil)
	if err != nil {
		return sandbox.Info{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sandbox.Info{}, fmt.Errorf("no sandbox at %s (is `make run` running?): %w", sandboxURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sandbox.Info{}, fmt.Errorf("sandbox at %s: GET /sandbox/config answered %s", sandboxURL, resp.Status)
	}
	var info sandbox.Info
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return sandbox.Info{}, fmt.Errorf("sandbox at %s: %w", sandboxURL, err)
	}
	return info, nil
}

// Cases are the table's scenarios for the methods (all when empty) whose name is among names (all when empty),
// each with the faults.
func Cases(methods []signals.Method, names []string, faults []sandbox.Fault) []Case {
	var out []Case
	for _, s := range sandbox.Scenarios {
		if len(methods) > 0 && !slices.Contains(methods, s.Method) {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, s.Name) {
			continue
		}
		out = append(out, Case{Scenario: s, Faults: faults})
	}
	return out
}

// Run runs the cases concurrently (up to Config.Concurrency at once) and returns their results in the cases'
// order. done, if not nil, is called as each case finishes.
func (r *Runner) Run(ctx context.Context, cases []Case, done func(Result)) []Result {
	results := make([]Result, len(cases))
	limit := r.cfg.Concurrency
	if limit <= 0 {
		limit = len(cases)
	}
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := r.RunOne(ctx, c)
			results[i] = res
			if done != nil {
				mu.Lock()
				done(res)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

// RunOne runs one case to its outcome.
func (r *Runner) RunOne(ctx context.Context, c Case) Result {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	res := Result{Case: c}
	start := time.Now()
	first := sandbox.SyntheticFirstName(c.Faults)
	res.FirstName = strings.Fields(first)[0]
	in, subject, err := r.subject(ctx, c, first)
	res.Subject = subject
	if err != nil {
		// A scenario that expects the request to be refused before it starts: the refusal must name its field.
		var refused *temporal.ApplicationError
		if f := c.Scenario.Rejected; f != "" && errors.As(err, &refused) && refused.Type() == providerhttp.ErrTypeInvalidArgument &&
			strings.Contains(refused.Message(), f) {
			res.Rejected, res.Took = f, time.Since(start)
			return res
		}
		res.Err = fmt.Errorf("create the subject: %w", err)
		return res
	}
	// As a backend does: Start joins the verification a first attempt may have started before Temporal stopped
	// answering, and a cancel is signalled again until Temporal takes it. The attempt has one idempotency key, so a
	// retried Start whose first call reached Temporal (its answer lost in an outage) gets that call's result, even
	// once that verification has closed, instead of starting a second one.
	var (
		v        starter.Verification
		startErr error
	)
	attempt := starter.IdempotencyKey("matrix " + c.Name() + " " + subject)
	_ = whileUnavailable(ctx, func() error {
		v, _, startErr = r.cfg.Starter.Start(ctx, in, attempt)
		return startErr
	})
	res.Verification = v
	if startErr == nil && c.Scenario.Cancel {
		if err := whileUnavailable(ctx, func() error { return r.cfg.Starter.Cancel(ctx, v, "sandbox scenario "+c.Scenario.Name) }); err != nil {
			res.Err = fmt.Errorf("cancel: %w", err)
			return res
		}
	}
	if v.WorkflowID == "" {
		res.Err = fmt.Errorf("start: %w", startErr)
		return res
	}
	if startErr == nil && c.Scenario.RenewAfter != (sandbox.At{}) {
		// The user is back: the backend asks for a URL again.
		select {
		case <-time.After(r.clock.Real(c.Scenario.RenewAfter)):
		case <-ctx.Done():
		}
		if err := whileUnavailable(ctx, func() error { _, _, err := r.cfg.Starter.Renew(ctx, in); return err }); err != nil {
			res.Err = fmt.Errorf("renew: %w", err)
			return res
		}
	}
	// A start that failed because the provider refused to open a session has an outcome all the same.
	var o signals.Outcome
	err = whileUnavailable(ctx, func() (werr error) {
		o, werr = r.cfg.Starter.Wait(ctx, v)
		return werr
	})
	res.Took = time.Since(start)
	if err != nil {
		res.Err = fmt.Errorf("wait: %w", err)
		if startErr != nil {
			res.Err = fmt.Errorf("start: %w; wait: %w", startErr, err)
		}
		return res
	}
	res.Outcome = &o
	return res
}

// Start creates the case's subject and starts its verification, without waiting for the outcome: for tests that
// act on the verification while it runs (an operator's decision).
func (r *Runner) Start(ctx context.Context, c Case) (starter.Verification, error) {
	in, _, err := r.subject(ctx, c, sandbox.SyntheticFirstName(c.Faults))
	if err != nil {
		return starter.Verification{}, fmt.Errorf("create the subject: %w", err)
	}
	v, _, err := r.cfg.Starter.Start(ctx, in)
	return v, err
}

// subject creates what the case's verification is about, and its input.
func (r *Runner) subject(ctx context.Context, c Case, first string) (signals.VerificationInput, string, error) {
	sc := c.Scenario
	in := signals.VerificationInput{Method: sc.Method, RedirectURL: RedirectURL, Deadlines: r.clock.Deadlines(sc.Method)}
	switch sc.Method.Provider() {
	case signals.ProviderTreezor:
		id, err := r.users.create(ctx, sandbox.TreezorUserFields(sc, first))
		if err != nil {
			return in, "", err
		}
		in.SubjectID = id
		if sc.SEPA {
			in.SEPAValidation = &signals.SEPAValidation{WalletID: sandbox.TreezorWalletID(id)}
		}
		return in, "treezor/" + id, nil
	case signals.ProviderSolaris:
		id, err := r.sol.CreatePerson(ctx, sandbox.SolarisPersonFields(sc, first))
		if err != nil {
			return in, "", err
		}
		in.SubjectID = id
		if sc.ProofOfAddress {
			in.ProofOfAddress = &signals.ProofOfAddress{Type: "GAS_BILL", IssuedAt: time.Now().AddDate(0, -1, 0).Format(time.DateOnly)}
		}
		return in, "solaris/" + id, nil
	default:
		// The backend's opaque reference of its user: never derived from the names.
		in.SubjectID = "sandbox-user-" + rand.Text()[:12]
		in.Yousign = &signals.YousignPerson{FirstName: first, LastName: sc.LastName()}
		return in, "yousign/" + sandbox.NameKey(first, sc.LastName()), nil
	}
}

// whileUnavailable calls f again while it fails because Temporal is unavailable or slow (a restart), for up to two
// minutes; it returns f's last error.
func whileUnavailable(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := f()
		if !errors.Is(err, starter.ErrTemporalUnavailable) && !errors.Is(err, starter.ErrTimeout) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}
