package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

var startCommand = &command{
	name:     "start",
	synopsis: "--method METHOD --subject ID [flags]",
	summary:  "start a verification, or join the one running for the subject, and print its identification URL and workflow ID",
	timeout:  time.Minute,
	setup: func(fs *flag.FlagSet, stdin io.Reader) action {
		key := fs.String("idempotency-key", "", "name this attempt: a retry under the same `key` gets the first answer, even after the verification closed")
		return requestAction(fs, stdin, func(ctx context.Context, s *starter.Starter, in signals.VerificationInput) (starter.Verification, signals.Identification, error) {
			var opts []starter.StartOption
			if *key != "" {
				opts = append(opts, starter.IdempotencyKey(*key))
			}
			return s.Start(ctx, in, opts...)
		})
	},
}

var renewCommand = &command{
	name:     "renew",
	synopsis: "--method METHOD --subject ID [flags]",
	summary: "print a URL the user can use now: the running verification's while it is valid, or a new attempt's " +
		"once the verification has closed (the flags are those of start, used for a new attempt)",
	timeout: time.Minute,
	setup: func(fs *flag.FlagSet, stdin io.Reader) action {
		return requestAction(fs, stdin, func(ctx context.Context, s *starter.Starter, in signals.VerificationInput) (starter.Verification, signals.Identification, error) {
			return s.Renew(ctx, in)
		})
	},
}

var statusCommand = &command{
	name:     "status",
	synopsis: targetSynopsis,
	summary:  "show where a verification stands: step and its deadline, the URL while it is valid, user-safe reasons, the outcome once decided",
	timeout:  30 * time.Second,
	setup: func(fs *flag.FlagSet, _ io.Reader) action {
		return targetAction(fs, func(ctx context.Context, s *starter.Starter, v starter.Verification, p *printer) error {
			st, err := s.Status(ctx, v)
			if err != nil {
				return err
			}
			p.status(v, st)
			return nil
		})
	},
}

var cancelCommand = &command{
	name:     "cancel",
	synopsis: targetSynopsis,
	summary:  "cancel a running verification; its outcome becomes \"cancelled\"",
	timeout:  30 * time.Second,
	setup: func(fs *flag.FlagSet, _ io.Reader) action {
		reason := fs.String("reason", "", "why, for operators (never shown to the user)")
		wait := fs.Bool("wait", false, "wait for the outcome and print it")
		return targetAction(fs, func(ctx context.Context, s *starter.Starter, v starter.Verification, p *printer) error {
			if err := s.Cancel(ctx, v, *reason); err != nil {
				return err
			}
			if !*wait {
				p.cancelled(v)
				return nil
			}
			return waitForOutcome(ctx, s, v, p)
		})
	},
}

var waitCommand = &command{
	name:     "wait",
	synopsis: targetSynopsis,
	summary: "wait for a verification's outcome and print it: the user message, and reasons with their user-safe " +
		"text only unless --internal",
	setup: func(fs *flag.FlagSet, _ io.Reader) action {
		return targetAction(fs, waitForOutcome)
	},
}

var decideCommand = &command{
	name:     "decide",
	synopsis: "--action ACTION --operator NAME [flags] " + targetSynopsis,
	summary: "an operator's action on a running verification: extend an overdue one's limit, recheck (read the " +
		"provider now), close as refused or cancelled, approve (yousign-video only, two operators); the verification " +
		"refuses what does not apply, and records who acted and why",
	timeout: 30 * time.Second,
	setup: func(fs *flag.FlagSet, _ io.Reader) action {
		what := fs.String("action", "", "`action`: extend, recheck, close, approve")
		operator := fs.String("operator", "", "who acts (`name`): recorded in the history and the outcome")
		reason := fs.String("reason", "", "why, for the audit trail (never shown to the user)")
		expected := fs.String("expected-step", "", "act only if the verification is still at this `step` (as you saw it)")
		extendBy := fs.Duration("extend-by", 0, "extend: move the limit to this long from now, e.g. 72h")
		closeAs := fs.String("as", "", "close: the `outcome`, refused or cancelled")
		code := fs.String("code", "", "close: the reason `code`, for operators and reporting")
		return targetAction(fs, func(ctx context.Context, s *starter.Starter, v starter.Verification, p *printer) error {
			a := signals.OperatorAction{Action: *what, Operator: *operator, Reason: *reason, ExpectedStep: signals.Step(*expected),
				CloseAs: signals.OutcomeStatus(*closeAs), ReasonCode: *code}
			if *what == "" {
				return usagef("--action is required: extend, recheck, close or approve")
			}
			if *extendBy > 0 {
				a.NewDeadline = time.Now().Add(*extendBy)
			}
			res, err := s.Act(ctx, v, a)
			if err != nil {
				return err
			}
			p.decided(v, a, res)
			return nil
		})
	},
}

// targetSynopsis is the usage line of the commands that act on an existing verification (targetAction).
const targetSynopsis = "WORKFLOW-ID | --subject ID (--method METHOD | --provider PROVIDER) [flags]"

// identificationRequest asks the Starter for a verification's identification URL (Start, Renew).
type identificationRequest func(ctx context.Context, s *starter.Starter, in signals.VerificationInput) (starter.Verification, signals.Identification, error)

// requestAction defines the verification-input flags of a command that asks for an identification URL (start,
// renew); its action builds the input from them, sends request and prints the identification.
func requestAction(fs *flag.FlagSet, stdin io.Reader, request identificationRequest) action {
	return resolveThenDial(addInputFlags(fs, stdin).input, func(ctx context.Context, s *starter.Starter, in signals.VerificationInput, p *printer) error {
		v, ident, err := request(ctx, s, in)
		if err != nil {
			return err
		}
		p.identification(v, ident)
		return nil
	})
}

// targetAction defines the flags of a command that acts on an existing verification (status, cancel, wait): those
// that name it, and --internal, which act's printing follows.
func targetAction(fs *flag.FlagSet, act func(ctx context.Context, s *starter.Starter, v starter.Verification, p *printer) error) action {
	target := addTargetFlags(fs)
	internal := addInternalFlag(fs)
	return resolveThenDial(target.verification, func(ctx context.Context, s *starter.Starter, v starter.Verification, p *printer) error {
		p.internal = *internal
		return act(ctx, s, v, p)
	})
}

// resolveThenDial is an action that turns its arguments into what the command works on and dials Temporal only
// once that succeeded, so that a usage error needs no server; run does the rest over the connection.
func resolveThenDial[T any](resolve func(args []string) (T, error), run func(ctx context.Context, s *starter.Starter, resolved T, p *printer) error) action {
	return func(ctx context.Context, args []string, dial func() (*starter.Starter, error), p *printer) error {
		resolved, err := resolve(args)
		if err != nil {
			return err
		}
		s, err := dial()
		if err != nil {
			return err
		}
		return run(ctx, s, resolved, p)
	}
}

// waitForOutcome waits for the verification to close and prints its outcome: the wait command, and cancel --wait.
func waitForOutcome(ctx context.Context, s *starter.Starter, v starter.Verification, p *printer) error {
	o, err := s.Wait(ctx, v)
	if err != nil {
		return err
	}
	p.outcome(v, o)
	return nil
}

var listCommand = &command{
	name:     "list",
	synopsis: "[--method METHOD] [--subject ID] [--step STEP] [--outcome OUTCOME] [--running] [flags]",
	summary:  "list verifications, newest first, through Temporal visibility (which lags a moment behind the workflows)",
	timeout:  30 * time.Second,
	setup: func(fs *flag.FlagSet, _ io.Reader) action {
		method := fs.String("method", "", "only this `method`: "+methodNames())
		subject := fs.String("subject", "", "only this subject's verifications (the provider's user `ID`)")
		step := fs.String("step", "", "only verifications at this `step`: initiating, awaiting_user, provider_processing, collecting_documents, kyc_review, overdue, completed")
		outcome := fs.String("outcome", "", "only this `outcome`: approved, refused, fraud_suspected, aborted, canceled, expired, review_timeout, failed, cancelled")
		running := fs.Bool("running", false, "only verifications that have not closed")
		limit := fs.Int("limit", 50, "print at most this many, at most 1000 (0: all)")
		pageToken := fs.String("page-token", "", "continue a listing that was cut: the `token` the previous page printed")
		return func(ctx context.Context, args []string, dial func() (*starter.Starter, error), p *printer) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if *limit < 0 || *limit > 1000 {
				return usagef("--limit: %d is not between 0 and 1000", *limit)
			}
			req := starter.ListRequest{Method: signals.Method(*method), Subject: *subject, Step: signals.Step(*step),
				Outcome: signals.OutcomeStatus(*outcome), Running: *running, PageSize: *limit}
			if _, err := req.Query(); err != nil {
				return err
			}
			if *pageToken != "" {
				token, err := base64.RawURLEncoding.DecodeString(*pageToken)
				if err != nil || *limit == 0 {
					return usagef("--page-token: not a token this command printed (it goes with --limit)")
				}
				req.PageToken = token
			}
			s, err := dial()
			if err != nil {
				return err
			}
			l := listing{Filters: listFilters(fs)}
			if *limit == 0 {
				for v, err := range s.ListAll(ctx, req) {
					if err != nil {
						return err
					}
					l.Found = append(l.Found, v)
				}
				p.list(l)
				return nil
			}
			page, err := s.List(ctx, req)
			if err != nil {
				return err
			}
			l.Found = page.Verifications
			if len(page.NextPageToken) > 0 {
				// The server hands out a token whenever a page is full, so count to tell whether more match and how
				// many: a person told "more match" wants to know whether it is 3 or 30,000.
				total, err := s.Count(ctx, req)
				if err != nil {
					return err
				}
				if req.PageToken != nil || total > int64(len(l.Found)) {
					l.NextPageToken = base64.RawURLEncoding.EncodeToString(page.NextPageToken)
					l.Total = total
				}
			}
			p.list(l)
			return nil
		}
	},
}

// listing is what list prints: one page, and how to get the next one when the listing was cut.
type listing struct {
	Found []starter.Summary
	// NextPageToken is set when more verifications match than were printed; Total is how many match in all.
	NextPageToken string
	Total         int64
	// Filters are the command's filter flags as given, to print the command for the next page.
	Filters []string
}

// listFilters are the flags given to list, except --page-token and --json, in the order they were given.
func listFilters(fs *flag.FlagSet) []string {
	var args []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "page-token", "json":
			return
		case "running":
			args = append(args, "--running")
		default:
			args = append(args, "--"+f.Name, f.Value.String())
		}
	})
	return args
}

// inputFlags are the flags of a verification request (start, renew).
type inputFlags struct {
	method, subject, redirectURL, language *string
	proofType, proofIssuedAt, sepaWallet   *string
	// person is where the Yousign names are read from: a JSON file, or "-" for stdin. Personal data never comes
	// from a flag's value, which ps, /proc and the shell's history show to anyone on the machine.
	person                            *string
	stdin                             io.Reader
	firstName, lastName               *string
	maxAttempts                       *int
	urlValidity, review, verification *time.Duration
}

func addInputFlags(fs *flag.FlagSet, stdin io.Reader) *inputFlags {
	return &inputFlags{
		stdin:         stdin,
		person:        fs.String("person", "", "yousign-video: a JSON `file` with the user's names as on their ID document, {\"firstName\":...,\"lastName\":...}; - reads it from stdin"),
		method:        fs.String("method", "", "verification `method`: "+methodNames()),
		subject:       fs.String("subject", "", "the provider's user `ID` (Treezor userId, Solaris person_id) or, for Yousign, your opaque user reference; never personal data"),
		redirectURL:   fs.String("redirect-url", "", "where the provider sends the user after the session (required for yousign-video)"),
		language:      fs.String("language", "", "IDnow session `language` for solaris-idnow: DE or EN (default EN)"),
		firstName:     fs.String("first-name", "", "refused: names go through --person (a flag's value is visible in ps and the shell's history)"),
		lastName:      fs.String("last-name", "", "refused: names go through --person"),
		proofType:     fs.String("proof-of-address-type", "", "solaris-idnow: the `type` of the customer's proof of address (e.g. GAS_BILL), required by Solaris when their ID document does not show their address"),
		proofIssuedAt: fs.String("proof-of-address-issued-at", "", "solaris-idnow: the proof of address's issue `date` (YYYY-MM-DD, at most 6 months ago)"),
		sepaWallet:    fs.String("sepa-wallet", "", "treezor-liveness (Liveness) or treezor-qes (Germany): the user's Treezor wallet `ID`, to wait for the SEPA validation transfer into it before the KYC review"),
		maxAttempts:   fs.Int("max-attempts", 0, "yousign-video: how many sessions to open after inconclusive results (0: the default, 2)"),
		urlValidity:   fs.Duration("url-validity", 0, "override how long the URL is valid (0: the method's default, 15m or 336h)"),
		review:        fs.Duration("review-deadline", 0, "override the bound on each wait for a review result (0: 24h)"),
		verification:  fs.Duration("verification-deadline", 0, "override the bound on the whole verification where the provider has one (0: yousign-video's 168h)"),
	}
}

func (f *inputFlags) input(args []string) (signals.VerificationInput, error) {
	if len(args) > 0 {
		return signals.VerificationInput{}, usagef("unexpected argument %q (the subject goes in --subject)", args[0])
	}
	if *f.method == "" {
		return signals.VerificationInput{}, usagef("--method is required: one of %s", methodNames())
	}
	if *f.subject == "" {
		return signals.VerificationInput{}, usagef("--subject is required: the provider's user ID")
	}
	in := signals.VerificationInput{
		Method:      signals.Method(*f.method),
		SubjectID:   *f.subject,
		RedirectURL: *f.redirectURL,
		Language:    *f.language,
		MaxAttempts: *f.maxAttempts,
		Deadlines: signals.Deadlines{
			URLValidity:  signals.Duration(*f.urlValidity),
			Review:       signals.Duration(*f.review),
			Verification: signals.Duration(*f.verification),
		},
	}
	if *f.sepaWallet != "" {
		in.SEPAValidation = &signals.SEPAValidation{WalletID: *f.sepaWallet}
	}
	if *f.proofType != "" || *f.proofIssuedAt != "" {
		in.ProofOfAddress = &signals.ProofOfAddress{Type: *f.proofType, IssuedAt: *f.proofIssuedAt}
	}
	if *f.firstName != "" || *f.lastName != "" {
		return signals.VerificationInput{}, usagef("--first-name/--last-name: personal data is not taken from flags, whose values ps and " +
			"the shell's history show; put the names in a file, {\"firstName\":...,\"lastName\":...}, and pass --person FILE (or --person - to read it from stdin)")
	}
	if *f.person != "" {
		if in.Method != signals.MethodYousignVideo {
			// Names are personal data: they enter a workflow's input only where the provider needs them.
			return signals.VerificationInput{}, usagef("--person: only %s takes the user's names", signals.MethodYousignVideo)
		}
		person, err := f.readPerson()
		if err != nil {
			return signals.VerificationInput{}, err
		}
		in.Yousign = &person
	}
	return in, starter.Validate(in)
}

// maxPersonBytes bounds what --person reads: two names.
const maxPersonBytes = 64 << 10

// readPerson reads the Yousign names from --person's file or stdin. Errors name the source, never its content.
func (f *inputFlags) readPerson() (signals.YousignPerson, error) {
	var (
		r      io.Reader
		source = *f.person
	)
	if source == "-" {
		r, source = f.stdin, "stdin"
	} else {
		file, err := os.Open(source)
		if err != nil {
			return signals.YousignPerson{}, usagef("--person: %v", err)
		}
		defer file.Close()
		r = file
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxPersonBytes+1))
	if err != nil {
		return signals.YousignPerson{}, usagef("--person: read %s: %v", source, err)
	}
	if len(raw) > maxPersonBytes {
		return signals.YousignPerson{}, usagef("--person: %s holds more than %d bytes; it should hold two names", source, maxPersonBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p signals.YousignPerson
	if err := dec.Decode(&p); err != nil {
		// The decoder's message may quote the input: say where it went wrong, not what it read.
		return signals.YousignPerson{}, usagef(`--person: %s is not a JSON object {"firstName":...,"lastName":...} (%s)`, source, jsonProblem(err))
	}
	return p, nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be a string", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "a field other than firstName and lastName"
	}
	return "empty or cut short"
}

// targetFlags name a verification by subject when no workflow ID is given.
type targetFlags struct {
	method, provider, subject *string
}

func addTargetFlags(fs *flag.FlagSet) *targetFlags {
	return &targetFlags{
		method:   fs.String("method", "", "with --subject: the verification's `method` (it names the provider)"),
		provider: fs.String("provider", "", "with --subject: the `provider`: treezor, solaris or yousign"),
		subject:  fs.String("subject", "", "the provider's user `ID`, instead of a workflow ID"),
	}
}

// verification is the handle named by the workflow ID argument or by the flags.
func (t *targetFlags) verification(args []string) (starter.Verification, error) {
	switch {
	case len(args) > 1:
		return starter.Verification{}, usagef("one workflow ID at most, got %d arguments", len(args))
	case len(args) == 1 && *t.subject != "":
		return starter.Verification{}, usagef("give a workflow ID or --subject, not both")
	case len(args) == 1:
		return starter.ParseVerification(args[0])
	case *t.subject == "":
		return starter.Verification{}, usagef("name the verification: a workflow ID such as %s, or --subject with --method or --provider",
			signals.WorkflowID(signals.ProviderTreezor, "123456"))
	}
	provider := signals.Provider(*t.provider)
	if *t.method != "" {
		m, err := signals.ParseMethod(*t.method)
		if err != nil {
			return starter.Verification{}, usagef("--method: %v", err)
		}
		if provider != "" && provider != m.Provider() {
			return starter.Verification{}, usagef("--provider %s does not run %s", provider, m)
		}
		provider = m.Provider()
	}
	if provider == "" {
		return starter.Verification{}, usagef("--subject needs --method or --provider")
	}
	return starter.ParseVerification(signals.WorkflowID(provider, *t.subject))
}

func addInternalFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("internal", false, "also print internal detail: provider reason messages, reasons not for the user, operator detail")
}

func methodNames() string {
	names := make([]string, len(signals.Methods))
	for i, m := range signals.Methods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}
