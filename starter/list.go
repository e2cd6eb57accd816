package starter

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/signals"
)

// ListRequest selects verifications through Temporal's visibility store, by the typed search attributes the
// workflows set. Zero fields match everything. Visibility is eventually consistent: a verification shows up,
// and its step and outcome change, shortly after the workflow recorded them.
type ListRequest struct {
	Method signals.Method
	// Subject keeps the subject's verifications, at the Method's provider or, without Method, at any provider.
	Subject string
	Step    signals.Step
	Outcome signals.OutcomeStatus
	// Running keeps only the verifications that have not closed.
	Running bool
	// PageSize bounds one page; 0 leaves it to the server.
	PageSize int
	// PageToken continues a listing: the NextPageToken of the previous page.
	PageToken []byte
}

// Summary is one verification run as the visibility store sees it.
type Summary struct {
	WorkflowID string         `json:"workflowId"`
	RunID      string         `json:"runId"`
	Method     signals.Method `json:"method"`
	SubjectID  string         `json:"subjectId"`
	// Step and Outcome are the KycStep and KycOutcome search attributes; Outcome is empty until the run ends.
	Step    signals.Step          `json:"step,omitempty"`
	Outcome signals.OutcomeStatus `json:"outcome,omitempty"`
	// ExecutionStatus is Temporal's: Running, Completed, Failed, Terminated, TimedOut, Canceled.
	ExecutionStatus string    `json:"executionStatus"`
	StartTime       time.Time `json:"startTime"`
	// CloseTime is zero while the run is open.
	CloseTime time.Time `json:"closeTime,omitzero"`
}

// ListPage is one page of a listing, newest first.
type ListPage struct {
	Verifications []Summary
	// NextPageToken is empty on the last page.
	NextPageToken []byte
}

// The values of KycStep and KycOutcome, to reject a misspelt filter instead of silently matching nothing.
var (
	steps    = signals.Steps
	outcomes = []signals.OutcomeStatus{
		signals.OutcomeApproved, signals.OutcomeRefused, signals.OutcomeFraudSuspected, signals.OutcomeAborted,
		signals.OutcomeCanceled, signals.OutcomeExpired, signals.OutcomeReviewTimeout, signals.OutcomeFailed,
		signals.OutcomeCancelled,
	}
)

// Query is the visibility query for the request, as the Temporal UI and `temporal workflow list --query` accept
// it. The error is an ErrInvalidRequest naming the filter at fault.
func (r ListRequest) Query() (string, error) {
	var clauses []string
	subjectAt := providers
	if r.Method == "" {
		types := make([]string, len(signals.Methods))
		for i, m := range signals.Methods {
			types[i] = quote(m.WorkflowType())
		}
		clauses = append(clauses, "WorkflowType IN ("+strings.Join(types, ", ")+")")
	} else {
		m, err := signals.ParseMethod(string(r.Method))
		if err != nil {
			return "", invalid("list", "method", err)
		}
		clauses = append(clauses, signals.AttrMethod.GetName()+" = "+quote(string(m)))
		subjectAt = []signals.Provider{m.Provider()}
	}
	if r.Subject != "" {
		if err := signals.ValidateSubject(r.Subject); err != nil {
			return "", invalid("list", "subjectId", err)
		}
		ids := make([]string, len(subjectAt))
		for i, p := range subjectAt {
			ids[i] = quote(signals.WorkflowID(p, r.Subject))
		}
		clauses = append(clauses, "WorkflowId IN ("+strings.Join(ids, ", ")+")")
	}
	if r.Step != "" {
		if !slices.Contains(steps, r.Step) {
			return "", invalid("list", "step", fmt.Errorf("unknown step %q (one of: %s)", r.Step, joined(steps)))
		}
		clauses = append(clauses, signals.AttrStep.GetName()+" = "+quote(string(r.Step)))
	}
	if r.Outcome != "" {
		if !slices.Contains(outcomes, r.Outcome) {
			return "", invalid("list", "outcome", fmt.Errorf("unknown outcome %q (one of: %s)", r.Outcome, joined(outcomes)))
		}
		clauses = append(clauses, signals.AttrOutcome.GetName()+" = "+quote(string(r.Outcome)))
	}
	if r.Running {
		clauses = append(clauses, "ExecutionStatus = 'Running'")
	}
	return strings.Join(clauses, " AND "), nil
}

// List returns one page of the verifications the request selects, newest first.
// Errors: ErrInvalidRequest, ErrTimeout, ErrTemporalUnavailable.
func (s *Starter) List(ctx context.Context, r ListRequest) (ListPage, error) {
	query, err := r.Query()
	if err != nil {
		return ListPage{}, err
	}
	resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:         query,
		PageSize:      int32(min(max(r.PageSize, 0), 10000)),
		NextPageToken: r.PageToken,
	})
	if err != nil {
		return ListPage{}, classify(ctx, "list", "", err)
	}
	page := ListPage{NextPageToken: resp.GetNextPageToken()}
	for _, info := range resp.GetExecutions() {
		page.Verifications = append(page.Verifications, summarize(info))
	}
	return page, nil
}

// Count returns how many verifications the request selects (its page fields aside), for a listing that was cut.
// Errors: ErrInvalidRequest, ErrTimeout, ErrTemporalUnavailable.
func (s *Starter) Count(ctx context.Context, r ListRequest) (int64, error) {
	query, err := r.Query()
	if err != nil {
		return 0, err
	}
	resp, err := s.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		return 0, classify(ctx, "list", "", err)
	}
	return resp.GetCount(), nil
}

// ListAll iterates over every verification the request selects, page after page, from r.PageToken on. An error
// ends the iteration.
func (s *Starter) ListAll(ctx context.Context, r ListRequest) iter.Seq2[Summary, error] {
	return func(yield func(Summary, error) bool) {
		for {
			page, err := s.List(ctx, r)
			if err != nil {
				yield(Summary{}, err)
				return
			}
			for _, v := range page.Verifications {
				if !yield(v, nil) {
					return
				}
			}
			if len(page.NextPageToken) == 0 {
				return
			}
			r.PageToken = page.NextPageToken
		}
	}
}

func summarize(info *workflowpb.WorkflowExecutionInfo) Summary {
	v := Summary{
		WorkflowID:      info.GetExecution().GetWorkflowId(),
		RunID:           info.GetExecution().GetRunId(),
		Method:          signals.Method(keyword(info, signals.AttrMethod)),
		Step:            signals.Step(keyword(info, signals.AttrStep)),
		Outcome:         signals.OutcomeStatus(keyword(info, signals.AttrOutcome)),
		ExecutionStatus: info.GetStatus().String(),
		StartTime:       info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		v.CloseTime = info.GetCloseTime().AsTime()
	}
	if v.Method == "" {
		// A run that failed before its first search attribute update: its type still names the method.
		for _, m := range signals.Methods {
			if m.WorkflowType() == info.GetType().GetName() {
				v.Method = m
			}
		}
	}
	if _, subject, err := splitWorkflowID(v.WorkflowID); err == nil {
		v.SubjectID = subject
	}
	return v
}

// keyword decodes one Keyword search attribute of a listed run; empty when unset.
func keyword(info *workflowpb.WorkflowExecutionInfo, key temporal.SearchAttributeKeyKeyword) string {
	p, ok := info.GetSearchAttributes().GetIndexedFields()[key.GetName()]
	if !ok {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// quote writes a string literal of the visibility query language.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func joined[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
