package signals

import "time"

// UpdateOperatorAction is the update through which an operator acts on a running verification; its argument is an
// OperatorAction, its result an OperatorActionResult. The workflow validates the request before accepting it, so a
// rejected action never enters the history.
const UpdateOperatorAction = "operator_action"

// The operator actions.
const (
	// ActionExtend moves an overdue verification's hard limit to NewDeadline.
	ActionExtend = "extend"
	// ActionRecheck reads the provider now, for an overdue verification whose provider offers a read.
	ActionRecheck = "recheck"
	// ActionClose ends the verification with CloseAs (refused or cancelled) and ReasonCode.
	ActionClose = "close"
	// ActionApprove approves, where the integrator makes the KYC decision (Yousign); Treezor's and Solaris' partner
	// banks decide there, so an operator can never approve them. It takes two operators: the first call records
	// the approval, a second, different operator's call confirms it and ends the verification approved.
	ActionApprove = "approve"
)

// OperatorAction is one operator's request.
type OperatorAction struct {
	Action string `json:"action"`
	// Operator names who acts (required); it is recorded in the history and in the outcome's DecidedBy.
	Operator string `json:"operator"`
	// Reason is the operator's explanation, for the audit trail (internal, never shown to the user).
	Reason string `json:"reason,omitempty"`
	// ExpectedStep, when set, makes the action apply only if the verification is still at that step, so that an
	// operator never acts on a state that has moved on since they looked.
	ExpectedStep Step `json:"expectedStep,omitempty"`
	// NewDeadline is the extended hard limit (extend).
	NewDeadline time.Time `json:"newDeadline,omitzero"`
	// CloseAs is the outcome of close: refused or cancelled; ReasonCode says why, for operators and reporting.
	CloseAs    OutcomeStatus `json:"closeAs,omitempty"`
	ReasonCode string        `json:"reasonCode,omitempty"`
}

// OperatorActionResult is what the workflow did with an accepted action.
type OperatorActionResult struct {
	// Step is the verification's step once the action is recorded.
	Step Step `json:"step"`
	// Pending says what the action still waits for (an approval's second operator); empty when it is done.
	Pending string `json:"pending,omitempty"`
}

// Decision records an operator's action in the outcome: the one that decided it (DecidedBy), and each in
// OperatorActions.
type Decision struct {
	Action     string    `json:"action"`
	Operator   string    `json:"operator"`
	Reason     string    `json:"reason,omitempty"`
	ReasonCode string    `json:"reasonCode,omitempty"`
	At         time.Time `json:"at"`
	// ConfirmedBy is the second operator of a four-eyes approval.
	ConfirmedBy string `json:"confirmedBy,omitempty"`
}
