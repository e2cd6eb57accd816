package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// printer writes a command's result: aligned lines for people, or one JSON document for scripts. Unless internal
// is set, it keeps to what may be shown to the end user: reasons that are not user-showable are left out (and
// counted), provider messages and the operator detail are dropped.
type printer struct {
	stdout   io.Writer
	json     bool
	internal bool
	// now is the clock for "in 14m59s"; time.Now unless a test sets it.
	now func() time.Time
}

func (p *printer) emit(v any, human func(w io.Writer)) {
	if p.json {
		enc := json.NewEncoder(p.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return
	}
	tw := tabwriter.NewWriter(p.stdout, 0, 0, 2, ' ', 0)
	human(tw)
	tw.Flush()
}

// jsonError is the JSON a failed command prints with --json.
type jsonError struct {
	Error struct {
		Kind       string    `json:"kind"`
		Message    string    `json:"message"`
		WorkflowID string    `json:"workflowId,omitempty"`
		Field      string    `json:"field,omitempty"`
		Cause      string    `json:"cause,omitempty"`
		RetryAfter time.Time `json:"retryAfter,omitzero"`
	} `json:"error"`
}

func (p *printer) emitError(err error, msg string) {
	var out jsonError
	out.Error.Kind, out.Error.Message = "usage", msg
	var e *starter.Error
	if errors.As(err, &e) {
		out.Error.Kind, out.Error.WorkflowID, out.Error.Field, out.Error.Cause = string(e.Kind), e.WorkflowID, e.Field, e.Cause
		out.Error.RetryAfter = e.RetryAfter
	}
	p.emit(out, nil)
}

func (p *printer) identification(v starter.Verification, ident signals.Identification) {
	out := struct {
		WorkflowID string    `json:"workflowId"`
		RunID      string    `json:"runId"`
		URL        string    `json:"url"`
		ExpiresAt  time.Time `json:"expiresAt,omitzero"`
		SDKToken   string    `json:"sdkToken,omitempty"`
	}{v.WorkflowID, v.RunID, ident.URL, ident.ExpiresAt, ident.SDKToken}
	p.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "URL\t%s\n", ident.URL)
		if ident.SDKToken != "" {
			fmt.Fprintf(w, "SDK token\t%s (for the app's IDnow SDK; never show it to the customer)\n", ident.SDKToken)
		}
		if !ident.ExpiresAt.IsZero() {
			fmt.Fprintf(w, "Valid until\t%s\n", p.when(ident.ExpiresAt))
		}
		fmt.Fprintf(w, "Workflow ID\t%s\n", v.WorkflowID)
		fmt.Fprintf(w, "Run ID\t%s\n", v.RunID)
	})
}

func (p *printer) status(v starter.Verification, st signals.Status) {
	var hidden int
	st.Reasons, hidden = p.reasons(st.Reasons)
	if st.Outcome != nil {
		o, outcomeHidden := p.redactOutcome(*st.Outcome)
		st.Outcome, hidden = &o, hidden+outcomeHidden
	}
	out := struct {
		WorkflowID string `json:"workflowId"`
		signals.Status
		HiddenReasons int `json:"hiddenReasons,omitempty"`
	}{v.WorkflowID, st, hidden}
	p.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "Workflow ID\t%s\n", v.WorkflowID)
		fmt.Fprintf(w, "Method\t%s\n", st.Method)
		step := string(st.Step)
		if st.Deadline != nil {
			step += ", until " + p.when(*st.Deadline)
		}
		fmt.Fprintf(w, "Step\t%s\n", step)
		if o := st.Overdue; o != nil {
			fmt.Fprintf(w, "Overdue since\t%s, waiting for %s\n", p.when(o.Since), o.WaitingFor)
			if o.NextCheck != nil {
				fmt.Fprintf(w, "Next provider read\t%s\n", p.when(*o.NextCheck))
			}
		}
		if st.ProviderStatus != "" {
			fmt.Fprintf(w, "Provider status\t%s\n", st.ProviderStatus)
		}
		if st.IdentificationURL != "" {
			fmt.Fprintf(w, "URL\t%s\n", st.IdentificationURL)
			if st.URLExpiresAt != nil {
				fmt.Fprintf(w, "Valid until\t%s\n", p.when(*st.URLExpiresAt))
			}
		}
		if st.UserMessage != "" {
			fmt.Fprintf(w, "User message\t%s\n", st.UserMessage)
		}
		p.writeReasons(w, st.Reasons, hidden)
		if st.Outcome != nil {
			fmt.Fprintf(w, "Outcome\t%s\n", describeOutcome(*st.Outcome))
			if st.Outcome.UserMessage != "" {
				fmt.Fprintf(w, "Outcome message\t%s\n", st.Outcome.UserMessage)
			}
		}
		fmt.Fprintf(w, "Webhooks\t%d received, %d duplicate(s)\n", st.Webhooks.Received, st.Webhooks.Duplicates)
	})
}

func (p *printer) outcome(v starter.Verification, o signals.Outcome) {
	o, hidden := p.redactOutcome(o)
	out := struct {
		WorkflowID string `json:"workflowId"`
		signals.Outcome
		HiddenReasons int `json:"hiddenReasons,omitempty"`
	}{v.WorkflowID, o, hidden}
	p.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "Workflow ID\t%s\n", v.WorkflowID)
		fmt.Fprintf(w, "Outcome\t%s\n", describeOutcome(o))
		fmt.Fprintf(w, "Method\t%s\n", o.Method)
		fmt.Fprintf(w, "User message\t%s\n", o.UserMessage)
		fmt.Fprintf(w, "User may retry\t%s\n", yesNo(o.UserMayRetry))
		p.writeReasons(w, o.Reasons, hidden)
		if o.ProviderReference != "" {
			fmt.Fprintf(w, "Provider reference\t%s\n", o.ProviderReference)
		}
		for i, d := range o.Documents {
			label := ""
			if i == 0 {
				label = "Documents"
			}
			fmt.Fprintf(w, "%s\t%s\n", label, describeDocument(d))
		}
		if !o.CompletedAt.IsZero() {
			fmt.Fprintf(w, "Completed\t%s\n", p.when(o.CompletedAt))
		}
		if o.Detail != "" {
			fmt.Fprintf(w, "Detail (internal)\t%s\n", o.Detail)
		}
		if d := o.DecidedBy; d != nil {
			by := d.Operator
			if d.ConfirmedBy != "" {
				by += ", confirmed by " + d.ConfirmedBy
			}
			fmt.Fprintf(w, "Decided by (internal)\t%s: %s %s %s\n", d.Action, by, d.ReasonCode, d.Reason)
		}
		for i, a := range o.OperatorActions {
			label := ""
			if i == 0 {
				label = "Operator actions (internal)"
			}
			fmt.Fprintf(w, "%s\t%s %s by %s: %s %s\n", label, p.when(a.At), a.Action, a.Operator, a.ReasonCode, a.Reason)
		}
	})
}

func (p *printer) cancelled(v starter.Verification) {
	out := struct {
		WorkflowID      string `json:"workflowId"`
		CancelRequested bool   `json:"cancelRequested"`
	}{v.WorkflowID, true}
	p.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "Cancellation requested for %s; 'kycflow wait %s' prints the outcome.\n", v.WorkflowID, v.WorkflowID)
	})
}

func (p *printer) decided(v starter.Verification, a signals.OperatorAction, res signals.OperatorActionResult) {
	out := struct {
		WorkflowID string `json:"workflowId"`
		Action     string `json:"action"`
		signals.OperatorActionResult
	}{v.WorkflowID, a.Action, res}
	p.emit(out, func(w io.Writer) {
		if res.Pending != "" {
			fmt.Fprintf(w, "%s recorded for %s; %s.\n", a.Action, v.WorkflowID, res.Pending)
			return
		}
		fmt.Fprintf(w, "%s done for %s (step %s); 'kycflow wait %s' prints the outcome once it ends.\n", a.Action, v.WorkflowID, res.Step, v.WorkflowID)
	})
}

func (p *printer) list(l listing) {
	found := l.Found
	if found == nil {
		found = []starter.Summary{}
	}
	out := struct {
		Verifications []starter.Summary `json:"verifications"`
		More          bool              `json:"more"`
		// Total and NextPageToken are set when the page was cut.
		Total         int64  `json:"total,omitempty"`
		NextPageToken string `json:"nextPageToken,omitempty"`
	}{found, l.NextPageToken != "", l.Total, l.NextPageToken}
	p.emit(out, func(w io.Writer) {
		if len(found) == 0 {
			fmt.Fprintln(w, "No verification matches.")
			return
		}
		fmt.Fprintln(w, "WORKFLOW ID\tMETHOD\tSTEP\tOUTCOME\tSTATUS\tSTARTED\tCLOSED\tRUN ID")
		for _, v := range found {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.WorkflowID, dash(string(v.Method)), dash(string(v.Step)),
				dash(string(v.Outcome)), v.ExecutionStatus, stamp(v.StartTime), stamp(v.CloseTime), v.RunID)
		}
		if l.NextPageToken != "" {
			next := strings.Join(append(append([]string{"kycflow list"}, l.Filters...), "--page-token", l.NextPageToken), " ")
			fmt.Fprintf(w, "\nThis page shows %d of the %d matching verifications (--limit 0 lists all). Next page:\n  %s\n",
				len(found), l.Total, next)
		}
	})
}

// reasons keeps the reasons that may be shown to the end user, without the provider's message, and counts the
// others; with --internal it keeps everything.
func (p *printer) reasons(rs []signals.Reason) ([]signals.Reason, int) {
	if p.internal {
		return rs, 0
	}
	var shown []signals.Reason
	for _, r := range rs {
		if !r.UserShowable {
			continue
		}
		r.Message = ""
		shown = append(shown, r)
	}
	return shown, len(rs) - len(shown)
}

func (p *printer) redactOutcome(o signals.Outcome) (signals.Outcome, int) {
	var hidden int
	o.Reasons, hidden = p.reasons(o.Reasons)
	if !p.internal {
		// The operators' names and reasons are internal, like the detail.
		o.Detail, o.DecidedBy, o.OperatorActions = "", nil, nil
	}
	return o, hidden
}

func (p *printer) writeReasons(w io.Writer, rs []signals.Reason, hidden int) {
	for i, r := range rs {
		label := ""
		if i == 0 {
			label = "Reasons"
		}
		text := r.UserMessage
		if p.internal {
			text = strings.TrimSpace(fmt.Sprintf("%s [provider: %s; user-showable: %s]", r.UserMessage, r.Message, yesNo(r.UserShowable)))
		}
		fmt.Fprintf(w, "%s\t%s (%s) %s\n", label, r.Code, r.Category, text)
	}
	if hidden > 0 {
		label := ""
		if len(rs) == 0 {
			label = "Reasons"
		}
		fmt.Fprintf(w, "%s\t%d internal reason(s) not shown (--internal shows them)\n", label, hidden)
	}
}

// when formats a time for people: UTC, and how far it is from now.
func (p *printer) when(t time.Time) string {
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	d := t.Sub(now()).Round(time.Second)
	rel := "in " + d.String()
	switch {
	case d == 0:
		rel = "now"
	case d < 0:
		rel = (-d).String() + " ago"
	}
	return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), rel)
}

func describeOutcome(o signals.Outcome) string {
	if o.Cause != "" {
		return fmt.Sprintf("%s (cause: %s)", o.Status, o.Cause)
	}
	return string(o.Status)
}

func describeDocument(d signals.Document) string {
	var parts []string
	if d.Type != "" {
		parts = append(parts, d.Type)
	}
	if d.TypeID != 0 {
		parts = append(parts, fmt.Sprintf("type %d", d.TypeID))
	}
	if len(parts) == 0 {
		return d.ID
	}
	return fmt.Sprintf("%s (%s)", d.ID, strings.Join(parts, ", "))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
