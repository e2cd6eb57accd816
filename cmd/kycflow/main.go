// Command kycflow starts and follows identity verifications for people: support, operators, developers. It is
// built on the starter package, the same library the signup backend uses. Run `kycflow help` for its usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	tlog "go.temporal.io/sdk/log"

	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/starter"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `kycflow starts and follows identity verifications (KYC) run by the kycflow worker on Temporal.

Usage:
  kycflow <command> [flags] [workflow-id]

Commands:
  start    start a verification, or join the running one, and print its identification URL
  renew    print a URL the user can use now: the running verification's, or a new attempt's
  status   show where a verification stands: step, deadline, URL while valid, user-safe reasons
  cancel   cancel a running verification (its outcome becomes "cancelled")
  wait     wait for a verification's outcome and print it
  list     list verifications by method, subject, step or outcome

A verification is named by its workflow ID (kyc/<provider>/<subject>, e.g. kyc/treezor/123456), or by
--subject with --method or --provider.

Flags of every command:
  --address host:port   Temporal frontend (default the profile's or $TEMPORAL_ADDRESS, else localhost:7233)
  --namespace name      Temporal namespace (default the profile's or $TEMPORAL_NAMESPACE, else default)
  --json                print JSON on stdout for scripts (errors too, as {"error": {...}})
  --timeout duration    give up after this long (0: never)

Environment:
  TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE the temporal CLI's connection profile (TOML), shared with every kycflow process
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE   defaults of --address and --namespace (over the profile's)
  TEMPORAL_API_KEY, TEMPORAL_TLS_*       API key, TLS and mTLS files (over the profile's)
  KYCFLOW_PAYLOAD_KEY (or _FILE)         the payload encryption key the worker uses, if it uses one

Run 'kycflow <command> -h' for a command's own flags.

Exit status: 0 success, 1 failure (the message names its kind), 2 usage error.

Examples:
  kycflow start --method treezor-liveness --subject 123456
  kycflow status kyc/treezor/123456
  kycflow wait --json kyc/treezor/123456
  kycflow list --method treezor-qes --step awaiting_user
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole CLI, minus the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdin, stdout, stderr, getenv)
		}
	}
	fmt.Fprintf(stderr, "kycflow: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// command is one subcommand: its flags, and the action that runs once they are parsed.
type command struct {
	name string
	// synopsis follows "kycflow <name> " in the usage line.
	synopsis string
	summary  string
	// timeout is the default of --timeout.
	timeout time.Duration
	// setup defines the command's own flags and returns its action.
	setup func(fs *flag.FlagSet, stdin io.Reader) action
}

// action runs a command. It validates its arguments before dialing Temporal, so that usage errors need no
// server; an *starter.Error of kind ErrInvalidRequest or a usageError exits with status 2.
type action func(ctx context.Context, args []string, dial func() (*starter.Starter, error), p *printer) error

// usageError is a mistake in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

var commands = []*command{startCommand, renewCommand, statusCommand, cancelCommand, waitCommand, listCommand, decideCommand}

func (c *command) run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	opts, optsErr := starter.OptionsFromEnv(getenv)
	address := fs.String("address", opts.HostPort, "the Temporal frontend's `host:port`; $TEMPORAL_ADDRESS sets the default")
	namespace := fs.String("namespace", opts.Namespace, "the Temporal `namespace`; $TEMPORAL_NAMESPACE sets the default")
	asJSON := fs.Bool("json", false, "print JSON on stdout, for scripts (errors too)")
	timeout := fs.Duration("timeout", c.timeout, "give up after this long (0: never)")
	act := c.setup(fs, stdin)

	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printUsage(stdout, fs)
		return exitOK
	}
	p := &printer{stdout: stdout, json: *asJSON}
	if err != nil {
		fmt.Fprintf(stderr, "kycflow %s: %v\n\n", c.name, err)
		c.printUsage(stderr, fs)
		return exitUsage
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	var st *starter.Starter
	dial := func() (*starter.Starter, error) {
		if optsErr != nil {
			return nil, optsErr
		}
		opts.HostPort, opts.Namespace = *address, *namespace
		opts.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
		s, err := starter.Dial(ctx, opts)
		st = s
		return s, err
	}
	err = act(ctx, positional, dial, p)
	if st != nil {
		st.Close()
	}
	if err == nil {
		return exitOK
	}
	code, msg := describeError(c.name, err)
	fmt.Fprintf(stderr, "kycflow %s: %s\n", c.name, msg)
	if p.json {
		p.emitError(err, msg)
	}
	if code == exitUsage && !p.json {
		fmt.Fprintf(stderr, "Run 'kycflow %s -h' for usage.\n", c.name)
	}
	return code
}

// parseInterspersed parses flags that come before, between or after positional arguments (the flag package stops
// at the first positional one).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// commonFlags are the flags every command takes; usage lists them after the command's own.
var commonFlags = []string{"address", "namespace", "json", "timeout"}

func (c *command) printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s.\n\nUsage:\n  kycflow %s %s\n", capitalize(c.summary), c.name, c.synopsis)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	line := func(f *flag.Flag) {
		typ, text := flag.UnquoteUsage(f)
		if typ != "" {
			typ = " " + typ
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0s" && def != "0" {
			text += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, typ, text)
	}
	fmt.Fprintln(tw, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(commonFlags, f.Name) {
			line(f)
		}
	})
	fmt.Fprintln(tw, "\nFlags of every command:")
	for _, name := range commonFlags {
		line(fs.Lookup(name))
	}
	tw.Flush()
}

// describeError is the exit code for an error and the message that explains it, naming the flag at fault for
// an invalid request.
func describeError(command string, err error) (int, string) {
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage, ue.msg
	}
	var e *starter.Error
	if errors.As(err, &e) && e.Kind == starter.ErrInvalidRequest {
		detail := err.Error()
		if e.Err != nil {
			detail = strings.TrimPrefix(e.Err.Error(), e.Field+": ")
		}
		if flagName, ok := fieldFlags[e.Field]; ok {
			return exitUsage, flagName + ": " + detail
		}
		return exitUsage, detail
	}
	if e != nil {
		// "kycflow start: kyc/treezor/1: ..." rather than "kycflow start: start kyc/treezor/1: ...".
		return exitFailure, strings.TrimPrefix(err.Error(), command+" ")
	}
	return exitFailure, err.Error()
}

// fieldFlags names the command-line flag for each input field an invalid request can point at.
var fieldFlags = map[string]string{
	"method":                 "--method",
	"subjectId":              "--subject",
	"redirectUrl":            "--redirect-url",
	"language":               "--language",
	"yousign":                "--person",
	"maxAttempts":            "--max-attempts",
	"proofOfAddress":         "--proof-of-address-type/--proof-of-address-issued-at",
	"sepaValidation":         "--sepa-wallet",
	"deadlines.urlValidity":  "--url-validity",
	"deadlines.review":       "--review-deadline",
	"deadlines.verification": "--verification-deadline",
	payloadcodec.EnvKey:      payloadcodec.EnvKey,
	"workflowId":             "workflow ID",
	"step":                   "--step",
	"outcome":                "--outcome",
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
